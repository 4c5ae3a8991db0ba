using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Ensemble.Models.Checkpoints.Pickle;

/// <summary>
/// A minimal, non-executing pickle reader for protocols 0–5 as far as tensor state dicts need them.
/// Globals are judged by <see cref="PickleGlobals"/> the moment they are named; REDUCE/NEWOBJ only ever reach
/// the handlers supplied by the caller (tensor rebuilds), OrderedDict, or inert placeholders. Opcodes that would
/// instantiate arbitrary classes through other routes (INST, OBJ, EXT*, out-of-band buffers) are refused.
/// </summary>
public sealed class Unpickler
{
    sealed class Mark { public static readonly Mark Instance = new(); }

    readonly BinaryReader _r;
    readonly Func<object?, object?> _persistentLoad;
    readonly Func<PyGlobal, object?[], object?> _rebuild;
    readonly List<object?> _stack = [];
    readonly Dictionary<long, object?> _memo = [];

    /// <param name="stream">The pickle bytes (read up to and including STOP).</param>
    /// <param name="persistentLoad">Resolves BINPERSID/PERSID ids (torch storages).</param>
    /// <param name="rebuild">Called for REDUCE with a <see cref="GlobalKind.TensorRebuild"/> callable.</param>
    public Unpickler(Stream stream, Func<object?, object?> persistentLoad, Func<PyGlobal, object?[], object?> rebuild)
    {
        _r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        _persistentLoad = persistentLoad;
        _rebuild = rebuild;
    }

    /// <summary>Parses one pickle and returns its top-level object.</summary>
    public object? Load()
    {
        try { return Run(); }
        catch (EndOfStreamException) { throw new PickleFormatException("pickle stream ends before STOP (truncated)"); }
    }

    object? Run()
    {
        while (true)
        {
            byte op = _r.ReadByte();
            switch (op)
            {
                case 0x80: { byte proto = _r.ReadByte(); if (proto > 5) throw new PickleFormatException($"unsupported pickle protocol {proto}"); break; }
                case 0x95: _r.ReadInt64(); break; // FRAME: framing is transparent to a sequential reader
                case (byte)'.': return Pop();
                case (byte)'(': _stack.Add(Mark.Instance); break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopMark(); break;
                case (byte)'2': Push(Peek()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)_r.ReadInt32()); break;
                case (byte)'K': Push((long)_r.ReadByte()); break;
                case (byte)'M': Push((long)_r.ReadUInt16()); break;
                case 0x8a: Push(ReadLong(_r.ReadByte())); break;
                case 0x8b: { int n = _r.ReadInt32(); if (n < 0 || n > 1 << 16) throw new PickleFormatException("LONG4 too large"); Push(ReadLong(n)); break; }
                case (byte)'I': Push(ParseTextInt(ReadLine())); break;
                case (byte)'L': Push(ParseTextLong(ReadLine())); break;
                case (byte)'G': { Span<byte> b = stackalloc byte[8]; ReadExact(b); Push(BinaryPrimitives.ReadDoubleBigEndian(b)); break; }
                case (byte)'F': Push(double.Parse(ReadLine(), NumberStyles.Float, CultureInfo.InvariantCulture)); break;
                case (byte)'X': Push(Encoding.UTF8.GetString(ReadBytes(_r.ReadUInt32()))); break;
                case 0x8c: Push(Encoding.UTF8.GetString(ReadBytes(_r.ReadByte()))); break;
                case 0x8d: Push(Encoding.UTF8.GetString(ReadBytes(_r.ReadUInt64()))); break;
                case (byte)'V': Push(DecodeRawUnicodeEscape(ReadLine())); break;
                case (byte)'T': { int n = _r.ReadInt32(); if (n < 0) throw new PickleFormatException("negative BINSTRING length"); Push(Encoding.Latin1.GetString(ReadBytes((ulong)n))); break; }
                case (byte)'U': Push(Encoding.Latin1.GetString(ReadBytes(_r.ReadByte()))); break;
                case (byte)'B': Push(ReadBytes(_r.ReadUInt32())); break;
                case (byte)'C': Push(ReadBytes(_r.ReadByte())); break;
                case 0x8e: Push(ReadBytes(_r.ReadUInt64())); break;
                case 0x96: Push(ReadBytes(_r.ReadUInt64())); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'t': Push(PopMark().ToArray()); break;
                case 0x85: { var a = Pop(); Push(new[] { a }); break; }
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'l': Push(PopMark()); break;
                case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }
                case (byte)'}': Push(new PyDict()); break;
                case (byte)'d': { var items = PopMark(); var d = new PyDict(); SetItems(d, items); Push(d); break; }
                case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Peek()).Set(CheckKey(k), v); break; }
                case (byte)'u': { var items = PopMark(); SetItems(AsDict(Peek()), items); break; }
                case 0x8f: Push(new PySet([])); break;
                case 0x90: { var items = PopMark(); if (Peek() is not PySet s) throw new PickleFormatException("ADDITEMS on a non-set"); s.Items.AddRange(items); break; }
                case 0x91: Push(new PySet(PopMark())); break;
                case (byte)'p': _memo[long.Parse(ReadLine(), CultureInfo.InvariantCulture)] = Peek(); break;
                case (byte)'q': _memo[_r.ReadByte()] = Peek(); break;
                case (byte)'r': _memo[_r.ReadUInt32()] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break;
                case (byte)'g': Push(MemoGet(long.Parse(ReadLine(), CultureInfo.InvariantCulture))); break;
                case (byte)'h': Push(MemoGet(_r.ReadByte())); break;
                case (byte)'j': Push(MemoGet(_r.ReadUInt32())); break;
                case (byte)'c': { string module = ReadLine(); string name = ReadLine(); Push(PickleGlobals.Resolve(module, name)); break; }
                case 0x93:
                {
                    var name = Pop(); var module = Pop();
                    if (module is not string m || name is not string n) throw new PickleFormatException("STACK_GLOBAL needs two strings");
                    Push(PickleGlobals.Resolve(m, n));
                    break;
                }
                case (byte)'R': { var args = Pop(); var callable = Pop(); Push(Reduce(callable, AsTuple(args, "REDUCE arguments"))); break; }
                case 0x81: { var args = Pop(); var cls = Pop(); Push(NewObject(cls, AsTuple(args, "NEWOBJ arguments"))); break; }
                case 0x92: { var kwargs = Pop(); var args = Pop(); var cls = Pop(); Push(NewObject(cls, [.. AsTuple(args, "NEWOBJ_EX arguments"), kwargs])); break; }
                case (byte)'b': { var state = Pop(); Build(Peek(), state); break; }
                case (byte)'Q': Push(_persistentLoad(Pop())); break;
                case (byte)'P': Push(_persistentLoad(ReadLine())); break;
                case (byte)'i' or (byte)'o':
                    throw new PickleRefusedException($"refuses opcode {(char)op} (INST/OBJ instantiate classes directly)");
                case 0x82 or 0x83 or 0x84:
                    throw new PickleRefusedException("refuses EXT opcodes (copyreg extension registry)");
                case 0x97 or 0x98:
                    throw new PickleRefusedException("refuses out-of-band buffer opcodes");
                default:
                    throw new PickleFormatException($"unknown pickle opcode 0x{op:x2} at byte {_r.BaseStream.Position - 1}");
            }
        }
    }

    object? Reduce(object? callable, object?[] args)
    {
        if (callable is not PyGlobal g) throw new PickleRefusedException($"refuses to call a non-global ({Describe(callable)})");
        switch (g.Kind)
        {
            case GlobalKind.OrderedDict:
            {
                var d = new PyDict();
                if (args.Length == 1 && args[0] is List<object?> pairs)
                    foreach (var p in pairs)
                        if (p is object?[] { Length: 2 } kv) d.Set(CheckKey(kv[0]), kv[1]);
                        else throw new PickleFormatException("OrderedDict argument is not a list of pairs");
                else if (args.Length != 0) throw new PickleFormatException("OrderedDict called with unexpected arguments");
                return d;
            }
            case GlobalKind.TensorRebuild: return _rebuild(g, args);
            case GlobalKind.Inert: return new PickleOpaque(g, args);
            default: throw new PickleRefusedException($"refuses to call '{g.FullName}'");
        }
    }

    static object? NewObject(object? cls, object?[] args)
    {
        if (cls is PyGlobal { Kind: GlobalKind.Inert } g) return new PickleOpaque(g, args);
        if (cls is PyGlobal { Kind: GlobalKind.OrderedDict }) return new PyDict();
        throw new PickleRefusedException($"refuses to instantiate {Describe(cls)}");
    }

    static void Build(object? target, object? state)
    {
        switch (target)
        {
            case PickleOpaque o: o.State = state; break;
            case PyDict d when state is PyDict s: foreach (var kv in s.Items) d.Set(kv.Key, kv.Value); break;
            default:
                // Tensors and plain containers carry no settable state in a state dict.
                if (state is null || state is PyDict { Count: 0 }) break;
                throw new PickleRefusedException($"refuses BUILD on {Describe(target)}");
        }
    }

    static object? CheckKey(object? k) => k is null or string or long or bool or double or BigInteger or object?[] ? k
        : throw new PickleFormatException($"unsupported dict key {Describe(k)}");

    static void SetItems(PyDict d, List<object?> items)
    {
        if (items.Count % 2 != 0) throw new PickleFormatException("SETITEMS with an odd number of items");
        for (int i = 0; i < items.Count; i += 2) d.Set(CheckKey(items[i]), items[i + 1]);
    }

    static List<object?> AsList(object? o) => o as List<object?> ?? throw new PickleFormatException($"APPEND on {Describe(o)}");
    static PyDict AsDict(object? o) => o as PyDict ?? throw new PickleFormatException($"SETITEM on {Describe(o)}");
    static object?[] AsTuple(object? o, string what) => o as object?[] ?? throw new PickleFormatException($"{what} are not a tuple");

    internal static string Describe(object? o) => o switch
    {
        null => "None",
        PyGlobal g => $"'{g.FullName}'",
        _ => o.GetType().Name,
    };

    void Push(object? o) => _stack.Add(o);

    object? Pop()
    {
        if (_stack.Count == 0) throw new PickleFormatException("pickle stack underflow");
        var o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        if (o is Mark) throw new PickleFormatException("unexpected MARK on the pickle stack");
        return o;
    }

    object? Peek()
    {
        if (_stack.Count == 0 || _stack[^1] is Mark) throw new PickleFormatException("pickle stack underflow");
        return _stack[^1];
    }

    List<object?> PopMark()
    {
        int i = _stack.FindLastIndex(o => o is Mark);
        if (i < 0) throw new PickleFormatException("no MARK on the pickle stack");
        var items = _stack.GetRange(i + 1, _stack.Count - i - 1);
        _stack.RemoveRange(i, _stack.Count - i);
        return items;
    }

    object? MemoGet(long key) => _memo.TryGetValue(key, out var v) ? v : throw new PickleFormatException($"pickle memo key {key} missing");

    byte[] ReadBytes(ulong n)
    {
        long remaining = _r.BaseStream.CanSeek ? _r.BaseStream.Length - _r.BaseStream.Position : long.MaxValue;
        if (n > int.MaxValue || (long)n > remaining) throw new EndOfStreamException();
        var b = _r.ReadBytes((int)n);
        if (b.Length != (int)n) throw new EndOfStreamException();
        return b;
    }

    void ReadExact(Span<byte> b)
    {
        int got = 0;
        while (got < b.Length) { int n = _r.Read(b[got..]); if (n == 0) throw new EndOfStreamException(); got += n; }
    }

    string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            byte c = _r.ReadByte();
            if (c == (byte)'\n') break;
            if (sb.Length > 1 << 16) throw new PickleFormatException("text line too long");
            sb.Append((char)c);
        }
        return sb.ToString().TrimEnd('\r');
    }

    object ReadLong(int n)
    {
        var bytes = ReadBytes((ulong)n);
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    static object? ParseTextInt(string s) => s switch
    {
        "00" => false,
        "01" => true,
        _ => long.Parse(s, CultureInfo.InvariantCulture),
    };

    static object ParseTextLong(string s)
    {
        var big = BigInteger.Parse(s.TrimEnd('L'), CultureInfo.InvariantCulture);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    static string DecodeRawUnicodeEscape(string s)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 5 < s.Length + 0 && s[i + 1] == 'u' && i + 6 <= s.Length)
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 2, 4), 16));
                i += 5;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
