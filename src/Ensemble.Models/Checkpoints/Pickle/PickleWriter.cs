using System.Buffers.Binary;
using System.Text;

namespace Ensemble.Models.Checkpoints.Pickle;

/// <summary>
/// Writes protocol-2 pickles of the shapes torch.save produces for state dicts, using only allowlisted globals
/// (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.*Storage), so our own reader and Python's
/// torch.load(weights_only=True) both accept them.
/// </summary>
public sealed class PickleWriter
{
    readonly MemoryStream _s = new();

    public PickleWriter() { _s.WriteByte(0x80); _s.WriteByte(2); }

    public byte[] Finish() { _s.WriteByte((byte)'.'); return _s.ToArray(); }

    public void Mark() => _s.WriteByte((byte)'(');
    public void EmptyDict() => _s.WriteByte((byte)'}');
    public void SetItems() => _s.WriteByte((byte)'u');
    public void Tuple() => _s.WriteByte((byte)'t');
    public void EmptyTuple() => _s.WriteByte((byte)')');
    public void Reduce() => _s.WriteByte((byte)'R');
    public void BinPersId() => _s.WriteByte((byte)'Q');
    public void Bool(bool b) => _s.WriteByte(b ? (byte)0x88 : (byte)0x89);

    public void Global(string module, string name)
    {
        PickleGlobals.Resolve(module, name); // never write what we would refuse to read
        _s.WriteByte((byte)'c');
        _s.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    public void String(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        _s.WriteByte((byte)'X');
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(n, (uint)b.Length);
        _s.Write(n);
        _s.Write(b);
    }

    public void Int(long v)
    {
        if (v >= 0 && v < 256) { _s.WriteByte((byte)'K'); _s.WriteByte((byte)v); return; }
        if (v >= int.MinValue && v <= int.MaxValue)
        {
            _s.WriteByte((byte)'J');
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)v);
            _s.Write(b);
            return;
        }
        _s.WriteByte(0x8a); _s.WriteByte(8);
        Span<byte> l = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(l, v);
        _s.Write(l);
    }

    public void IntTuple(IReadOnlyList<long> values)
    {
        Mark();
        foreach (var v in values) Int(v);
        Tuple();
    }

    /// <summary>collections.OrderedDict() — an empty ordered dict left on the stack.</summary>
    public void EmptyOrderedDict()
    {
        Global("collections", "OrderedDict");
        EmptyTuple();
        Reduce();
    }

    /// <summary>
    /// _rebuild_tensor_v2(persistent storage ('storage', torch.XStorage, key, 'cpu', numel), 0, size, stride, False, OrderedDict()).
    /// </summary>
    public void Tensor(string storageKey, ScalarTypeName type, long numel, IReadOnlyList<long> size, IReadOnlyList<long> stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Mark();
        String("storage");
        Global("torch", PickleGlobals.StorageClassName(type));
        String(storageKey);
        String("cpu");
        Int(numel);
        Tuple();
        BinPersId();
        Int(0);
        IntTuple(size);
        IntTuple(stride);
        Bool(false);
        EmptyOrderedDict();
        Tuple();
        Reduce();
    }
}
