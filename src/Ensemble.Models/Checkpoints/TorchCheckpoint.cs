using System.IO.Compression;
using System.Numerics;
using Ensemble.Core;
using Ensemble.Models.Checkpoints.Pickle;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Checkpoints;

/// <summary>A storage named by a persistent id: element type, key and element count; its bytes are read later.</summary>
public sealed record StorageRef(string Key, ScalarTypeName ElementType, long Numel);

/// <summary>A tensor described by _rebuild_tensor_v2: a view (offset, size, stride in elements) of a storage.</summary>
public sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

/// <summary>
/// Reads and writes torch.save files without Python: the zip container (<c>prefix/data.pkl</c> + <c>prefix/data/N</c>)
/// and the legacy non-zip stream (magic, protocol, sys info, object, storage keys, raw storages). The pickle goes
/// through the allowlisting <see cref="Unpickler"/>; every storage is checked against the size its persistent id
/// declares and every tensor view against its storage.
/// </summary>
public static class TorchCheckpoint
{
    static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356");

    /// <summary>Reads the top-level object; tensors in it are <see cref="Tensor"/>s (CPU, contiguous, owned).</summary>
    public static object? Read(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        try
        {
            using var fs = File.OpenRead(path);
            Span<byte> head = stackalloc byte[4];
            int n = fs.Read(head);
            fs.Position = 0;
            bool zip = n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
            return zip ? ReadZip(fs, path) : ReadLegacy(fs, path);
        }
        catch (PickleRefusedException e) { throw new EnsembleException($"{path}: unsafe checkpoint pickle {e.Message}"); }
        catch (PickleFormatException e) { throw new EnsembleException($"{path}: malformed checkpoint pickle ({e.Message})"); }
        catch (InvalidDataException e) { throw new EnsembleException($"{path}: damaged torch.save zip ({e.Message})"); }
        catch (EndOfStreamException) { throw new EnsembleException($"{path}: truncated checkpoint"); }
    }

    static object? ReadZip(Stream fs, string path)
    {
        using var zip = new ZipArchive(fs, ZipArchiveMode.Read, leaveOpen: true);
        var pkl = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
        if (pkl.Count != 1) throw new EnsembleException($"{path}: not a torch.save archive (expected one <name>/data.pkl, found {pkl.Count})");
        string prefix = pkl[0].FullName[..^"data.pkl".Length];
        var byteorder = zip.GetEntry(prefix + "byteorder");
        if (byteorder != null)
        {
            using var r = new StreamReader(byteorder.Open());
            string order = r.ReadToEnd().Trim();
            if (order != "little") throw new EnsembleException($"{path}: byte order '{order}' is not supported (little endian only)");
        }
        var storages = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        object? root;
        using (var ps = new MemoryStream())
        {
            using (var es = pkl[0].Open()) es.CopyTo(ps);
            CheckCrc(pkl[0], ps.GetBuffer().AsSpan(0, (int)ps.Length), path);
            ps.Position = 0;
            root = new Unpickler(ps, id => PersistentLoad(id, storages, path), Rebuild).Load();
        }
        var bytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, st) in storages)
        {
            var entry = zip.GetEntry($"{prefix}data/{key}") ?? throw new EnsembleException($"{path}: storage record data/{key} is missing");
            long expected = st.Numel * ItemSize(st.ElementType);
            if (entry.Length != expected)
                throw new EnsembleException($"{path}: storage data/{key} has {entry.Length} bytes, its {st.ElementType} tensor needs {expected}");
            var buf = new byte[expected];
            using var es = entry.Open();
            es.ReadExactly(buf);
            if (es.ReadByte() != -1) throw new EnsembleException($"{path}: storage data/{key} is longer than declared");
            CheckCrc(entry, buf, path);
            bytes[key] = buf;
        }
        return Materialise(root, bytes, path);
    }

    /// <summary>The zip reader does not verify CRC-32 for us; a flipped byte in a weight must not load silently.</summary>
    static void CheckCrc(ZipArchiveEntry entry, ReadOnlySpan<byte> data, string path)
    {
        if (Crc32.Compute(data) != entry.Crc32)
            throw new EnsembleException($"{path}: zip record {entry.FullName} fails its CRC-32 check (file damaged or tampered)");
    }

    static object? ReadLegacy(Stream fs, string path)
    {
        object? Next(Func<object?, object?> pl) => new Unpickler(fs, pl, Rebuild).Load();
        static object? NoPersistent(object? _) => throw new PickleFormatException("unexpected persistent id in a legacy header");
        object? magic;
        try { magic = Next(NoPersistent); }
        catch (PickleFormatException) { throw new EnsembleException($"{path}: neither a torch.save zip nor a legacy torch checkpoint"); }
        if (magic is not BigInteger m || m != LegacyMagic)
            throw new EnsembleException($"{path}: neither a torch.save zip nor a legacy torch checkpoint (bad magic number)");
        if (Next(NoPersistent) is not long protocol || protocol != 1001)
            throw new EnsembleException($"{path}: unsupported legacy checkpoint protocol");
        if (Next(NoPersistent) is PyDict info && info.TryGet("little_endian", out var le) && le is false)
            throw new EnsembleException($"{path}: big-endian legacy checkpoints are not supported");
        var storages = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        var root = Next(id => PersistentLoad(id, storages, path));
        if (Next(NoPersistent) is not List<object?> keys || keys.Any(k => k is not string))
            throw new EnsembleException($"{path}: legacy checkpoint storage key list is malformed");
        var bytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        Span<byte> n8 = stackalloc byte[8];
        foreach (string key in keys.Cast<string>())
        {
            if (!storages.TryGetValue(key, out var st)) throw new EnsembleException($"{path}: legacy storage '{key}' is not referenced by the pickle");
            fs.ReadExactly(n8);
            long numel = BitConverter.ToInt64(n8);
            if (numel != st.Numel) throw new EnsembleException($"{path}: legacy storage '{key}' holds {numel} elements, the pickle declares {st.Numel}");
            var buf = new byte[numel * ItemSize(st.ElementType)];
            fs.ReadExactly(buf);
            bytes[key] = buf;
        }
        return Materialise(root, bytes, path);
    }

    static object? PersistentLoad(object? id, Dictionary<string, StorageRef> storages, string path)
    {
        if (id is not object?[] t || t.Length < 5 || t[0] is not "storage")
            throw new PickleRefusedException("refuses a persistent id that is not a torch storage reference");
        if (t[1] is not PyGlobal { Kind: GlobalKind.StorageType } type) throw new PickleRefusedException($"refuses storage type {Unpickler.Describe(t[1])}");
        if (t[2] is not string key || t[4] is not long numel || numel < 0)
            throw new PickleFormatException("storage reference without a key or element count");
        if (t.Length >= 6 && t[5] is not null) throw new EnsembleException($"{path}: legacy storage views are not supported");
        var st = new StorageRef(key, PickleGlobals.ElementType(type), numel);
        if (storages.TryGetValue(key, out var prev) && prev != st)
            throw new EnsembleException($"{path}: storage '{key}' is declared twice with different types or sizes");
        storages[key] = st;
        return st;
    }

    static object? Rebuild(PyGlobal g, object?[] args)
    {
        if (g.Name == "_rebuild_parameter")
        {
            if (args.Length < 1 || args[0] is not TensorRef tp) throw new PickleFormatException("_rebuild_parameter without a tensor");
            return tp;
        }
        if (args.Length < 4 || args[0] is not StorageRef st || args[1] is not long offset || args[2] is not object?[] size || args[3] is not object?[] stride)
            throw new PickleFormatException("_rebuild_tensor_v2 with unexpected arguments");
        long[] sz = size.Select(x => x is long l && l >= 0 ? l : throw new PickleFormatException("bad tensor size")).ToArray();
        long[] sd = stride.Select(x => x is long l && l >= 0 ? l : throw new PickleFormatException("bad tensor stride")).ToArray();
        if (sz.Length != sd.Length) throw new PickleFormatException("tensor size and stride differ in length");
        return new TensorRef(st, offset, sz, sd);
    }

    static object? Materialise(object? o, Dictionary<string, byte[]> bytes, string path)
    {
        var done = new Dictionary<TensorRef, Tensor>(ReferenceEqualityComparer.Instance);
        object? Walk(object? x)
        {
            switch (x)
            {
                case TensorRef tr:
                    if (!done.TryGetValue(tr, out var t)) done[tr] = t = ToTensor(tr, bytes, path);
                    return t;
                case PyDict d:
                {
                    var r = new PyDict();
                    foreach (var kv in d.Items) r.Set(kv.Key, Walk(kv.Value));
                    return r;
                }
                case List<object?> l: return l.Select(Walk).ToList();
                case object?[] a: return a.Select(Walk).ToArray();
                default: return x;
            }
        }
        return Walk(o);
    }

    static Tensor ToTensor(TensorRef tr, Dictionary<string, byte[]> bytes, string path)
    {
        var st = tr.Storage;
        long numel = tr.Size.Aggregate(1L, (a, b) => a * b);
        if (numel > 0)
        {
            long last = tr.Offset + tr.Size.Zip(tr.Stride, (s, d) => (s - 1) * d).Sum();
            if (tr.Offset < 0 || last >= st.Numel)
                throw new EnsembleException($"{path}: tensor view [{string.Join(",", tr.Size)}] at offset {tr.Offset} exceeds storage '{st.Key}' of {st.Numel} elements");
        }
        var type = ToScalarType(st.ElementType);
        using var flat = torch.empty(st.Numel, dtype: type);
        if (st.Numel > 0) flat.bytes = bytes[st.Key];
        using var view = flat.as_strided(tr.Size, tr.Stride, tr.Offset);
        return view.contiguous().clone();
    }

    public static ScalarType ToScalarType(ScalarTypeName t) => t switch
    {
        ScalarTypeName.Float32 => ScalarType.Float32,
        ScalarTypeName.Float64 => ScalarType.Float64,
        ScalarTypeName.Float16 => ScalarType.Float16,
        ScalarTypeName.BFloat16 => ScalarType.BFloat16,
        ScalarTypeName.Complex64 => ScalarType.ComplexFloat32,
        ScalarTypeName.Complex128 => ScalarType.ComplexFloat64,
        ScalarTypeName.Int64 => ScalarType.Int64,
        ScalarTypeName.Int32 => ScalarType.Int32,
        ScalarTypeName.Int16 => ScalarType.Int16,
        ScalarTypeName.Int8 => ScalarType.Int8,
        ScalarTypeName.UInt8 => ScalarType.Byte,
        ScalarTypeName.Bool => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static ScalarTypeName FromScalarType(ScalarType t) => t switch
    {
        ScalarType.Float32 => ScalarTypeName.Float32,
        ScalarType.Float64 => ScalarTypeName.Float64,
        ScalarType.Float16 => ScalarTypeName.Float16,
        ScalarType.BFloat16 => ScalarTypeName.BFloat16,
        ScalarType.ComplexFloat32 => ScalarTypeName.Complex64,
        ScalarType.ComplexFloat64 => ScalarTypeName.Complex128,
        ScalarType.Int64 => ScalarTypeName.Int64,
        ScalarType.Int32 => ScalarTypeName.Int32,
        ScalarType.Int16 => ScalarTypeName.Int16,
        ScalarType.Int8 => ScalarTypeName.Int8,
        ScalarType.Byte => ScalarTypeName.UInt8,
        ScalarType.Bool => ScalarTypeName.Bool,
        _ => throw new EnsembleException($"tensor dtype {t} cannot be written to a torch checkpoint"),
    };

    public static int ItemSize(ScalarTypeName t) => t switch
    {
        ScalarTypeName.Float64 or ScalarTypeName.Int64 or ScalarTypeName.Complex64 => 8,
        ScalarTypeName.Complex128 => 16,
        ScalarTypeName.Float32 or ScalarTypeName.Int32 => 4,
        ScalarTypeName.Float16 or ScalarTypeName.BFloat16 or ScalarTypeName.Int16 => 2,
        _ => 1,
    };

    /// <summary>
    /// Writes <c>{"iters", "epoch", "model_state": OrderedDict}</c> as a torch.save zip (stored entries, prefix = file stem),
    /// atomically. Keys are written as given (use the <c>module.model.</c> prefix for makani).
    /// </summary>
    public static void WriteStateDict(string path, IReadOnlyList<KeyValuePair<string, Tensor>> state, long iters = 0, long epoch = 0)
    {
        string prefix = Path.GetFileNameWithoutExtension(path);
        var w = new PickleWriter();
        w.EmptyDict();
        w.Mark();
        w.String("iters"); w.Int(iters);
        w.String("epoch"); w.Int(epoch);
        w.String("model_state");
        w.EmptyOrderedDict();
        w.Mark();
        var blobs = new List<byte[]>();
        foreach (var (key, tensor) in state)
        {
            using var c = tensor.detach().cpu().contiguous();
            var type = FromScalarType(c.dtype);
            string storageKey = blobs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            blobs.Add(c.NumberOfElements == 0 ? [] : c.bytes.ToArray());
            var size = c.shape;
            var stride = new long[size.Length];
            long acc = 1;
            for (int i = size.Length - 1; i >= 0; i--) { stride[i] = acc; acc *= size[i]; }
            w.String(key);
            w.Tensor(storageKey, type, c.NumberOfElements, size, stride);
        }
        w.SetItems();
        w.SetItems();
        byte[] pickle = w.Finish();
        AtomicFile.Write(path, s =>
        {
            using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
            void Add(string name, byte[] data)
            {
                var e = zip.CreateEntry($"{prefix}/{name}", CompressionLevel.NoCompression);
                // A fixed timestamp keeps exports byte-identical for identical weights (resumed runs, CI baselines).
                e.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var es = e.Open();
                es.Write(data);
            }
            Add("data.pkl", pickle);
            Add("byteorder", "little"u8.ToArray());
            for (int i = 0; i < blobs.Count; i++) Add($"data/{i}", blobs[i]);
            Add("version", "3\n"u8.ToArray());
        });
    }
}

/// <summary>CRC-32 (IEEE 802.3, as zip uses it).</summary>
static class Crc32
{
    static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }
}
