using System.Buffers.Binary;
using System.Text;
using Ensemble.Core;

namespace Ensemble.Data.NetCdf;

/// <summary>
/// Reader of the netCDF classic formats in pure C#: CDF-1 (classic), CDF-2 (64-bit offset) and
/// CDF-5 (64-bit data). Big-endian header and data; record variables interleaved per record.
/// </summary>
public sealed class Netcdf3File : NetCdfFile
{
    const int TagDimension = 0x0A, TagVariable = 0x0B, TagAttribute = 0x0C;

    readonly FileStream _stream;
    readonly object _lock = new();
    readonly int _version;
    readonly List<NcDimension> _dims = [];
    readonly List<NcVariable> _vars = [];
    readonly List<NcAttribute> _gatts = [];
    readonly Dictionary<string, (long Begin, bool IsRecord)> _layout = [];
    long _numRecs, _recSize;

    Netcdf3File(string path, FileStream stream) : base(path)
    {
        _stream = stream;
        var header = new HeaderReader(stream, path);
        byte[] magic = header.Bytes(4);
        _version = magic[3];
        header.Wide = _version == 5;
        if (_version is not (1 or 2 or 5))
            throw new EnsembleException($"{path}: unsupported classic netCDF version {_version}");
        ParseHeader(header);
    }

    internal static Netcdf3File OpenClassic(string path)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        try
        {
            return new Netcdf3File(path, fs);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    public override string Format => _version switch { 1 => "NETCDF3_CLASSIC", 2 => "NETCDF3_64BIT_OFFSET", _ => "NETCDF3_64BIT_DATA" };
    public override IReadOnlyList<NcDimension> Dimensions => _dims;
    public override IReadOnlyList<NcVariable> Variables => _vars;
    public override IReadOnlyList<NcAttribute> GlobalAttributes => _gatts;
    /// <summary>Number of records along the unlimited dimension.</summary>
    public long RecordCount => _numRecs;

    void ParseHeader(HeaderReader h)
    {
        long numRecs = _version == 5 ? h.Int64() : h.UInt32();
        bool streaming = _version == 5 ? numRecs == -1 : numRecs == 0xFFFFFFFFL;

        // Dimensions.
        var dimLengths = new List<long>();
        int tag = h.Int32();
        long nd = Count(h);
        if (tag == TagDimension || (tag == 0 && nd == 0))
        {
            for (long i = 0; i < nd; i++)
            {
                string name = h.Name();
                long len = Count(h);
                dimLengths.Add(len);
                _dims.Add(new NcDimension(name, len, len == 0));
            }
        }
        else throw h.Corrupt($"expected the dimension list, found tag {tag}");

        _gatts.AddRange(ReadAttributes(h));

        tag = h.Int32();
        long nv = Count(h);
        if (tag != TagVariable && !(tag == 0 && nv == 0))
            throw h.Corrupt($"expected the variable list, found tag {tag}");
        var raw = new List<(string Name, int[] DimIds, List<NcAttribute> Atts, NcType Type, long VSize, long Begin)>();
        for (long i = 0; i < nv; i++)
        {
            string name = h.Name();
            long rank = Count(h);
            if (rank > 1024) throw h.Corrupt($"variable '{name}' claims rank {rank}");
            var ids = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                long id = Count(h);
                if (id < 0 || id >= _dims.Count) throw h.Corrupt($"variable '{name}' refers to dimension id {id} of {_dims.Count}");
                ids[d] = (int)id;
            }
            var atts = ReadAttributes(h);
            int t = h.Int32();
            if (t < 1 || t > 11) throw h.Corrupt($"variable '{name}' has unknown type {t}");
            long vsize = _version == 5 ? h.Int64() : h.UInt32();
            long begin = _version == 1 ? h.UInt32() : h.Int64();
            raw.Add((name, ids, atts, (NcType)t, vsize, begin));
        }

        long fileLen = _stream.Length;
        // recsize = sum of record variables' slab sizes; a single record variable is not padded.
        var recVars = raw.Where(r => r.DimIds.Length > 0 && _dims[r.DimIds[0]].IsUnlimited).ToList();
        _recSize = 0;
        foreach (var r in recVars)
        {
            long slab = NcTypes.Size(r.Type) * r.DimIds.Skip(1).Aggregate(1L, (a, d) => a * _dims[d].Length);
            _recSize += recVars.Count == 1 ? slab : (slab + 3) & ~3L;
        }
        if (streaming)
        {
            long firstBegin = recVars.Count > 0 ? recVars.Min(r => r.Begin) : fileLen;
            numRecs = _recSize > 0 ? (fileLen - firstBegin) / _recSize : 0;
        }
        _numRecs = numRecs;
        for (int i = 0; i < _dims.Count; i++)
            if (_dims[i].IsUnlimited) _dims[i] = _dims[i] with { Length = _numRecs };

        foreach (var r in raw)
        {
            bool isRec = r.DimIds.Length > 0 && _dims[r.DimIds[0]].IsUnlimited;
            string[] dn = r.DimIds.Select(d => _dims[d].Name).ToArray();
            long[] shape = r.DimIds.Select(d => _dims[d].Length).ToArray();
            var v = new NcVariable(r.Name, dn, shape, r.Type, r.Atts);
            long bytes = isRec
                ? (_numRecs == 0 ? 0 : r.Begin + (_numRecs - 1) * _recSize + NcTypes.Size(r.Type) * shape.Skip(1).Aggregate(1L, (a, b) => a * b))
                : r.Begin + v.ElementCount * NcTypes.Size(r.Type);
            if (v.ElementCount > 0 && (r.Begin < 0 || bytes > fileLen))
                throw new EnsembleException($"{Path}: truncated: variable '{r.Name}' needs {bytes} bytes, file has {fileLen}");
            _vars.Add(v);
            _layout[r.Name] = (r.Begin, isRec);
        }
    }

    long Count(HeaderReader h) => _version == 5 ? h.Int64() : h.Int32();

    List<NcAttribute> ReadAttributes(HeaderReader h)
    {
        int tag = h.Int32();
        long n = Count(h);
        if (tag == 0 && n == 0) return [];
        if (tag != TagAttribute) throw h.Corrupt($"expected an attribute list, found tag {tag}");
        var list = new List<NcAttribute>();
        for (long i = 0; i < n; i++)
        {
            string name = h.Name();
            int t = h.Int32();
            if (t < 1 || t > 11) throw h.Corrupt($"attribute '{name}' has unknown type {t}");
            var type = (NcType)t;
            long count = Count(h);
            long bytes = count * NcTypes.Size(type);
            if (count < 0 || bytes > int.MaxValue) throw h.Corrupt($"attribute '{name}' claims {count} values");
            byte[] data = h.Bytes((int)bytes);
            h.Skip((int)((4 - bytes % 4) % 4));
            list.Add(type == NcType.Char
                ? new NcAttribute(name, type, Encoding.UTF8.GetString(data).TrimEnd('\0'))
                : new NcAttribute(name, type, Decode(data, type, (int)count)));
        }
        return list;
    }

    static double[] Decode(ReadOnlySpan<byte> b, NcType t, int n)
    {
        var r = new double[n];
        Decode(b, t, r);
        return r;
    }

    static void Decode(ReadOnlySpan<byte> b, NcType t, Span<double> r)
    {
        int n = r.Length;
        switch (t)
        {
            case NcType.Byte: for (int i = 0; i < n; i++) r[i] = (sbyte)b[i]; break;
            case NcType.Char:
            case NcType.UByte: for (int i = 0; i < n; i++) r[i] = b[i]; break;
            case NcType.Short: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt16BigEndian(b[(2 * i)..]); break;
            case NcType.UShort: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadUInt16BigEndian(b[(2 * i)..]); break;
            case NcType.Int: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt32BigEndian(b[(4 * i)..]); break;
            case NcType.UInt: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadUInt32BigEndian(b[(4 * i)..]); break;
            case NcType.Float: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadSingleBigEndian(b[(4 * i)..]); break;
            case NcType.Double: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadDoubleBigEndian(b[(8 * i)..]); break;
            case NcType.Int64: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadInt64BigEndian(b[(8 * i)..]); break;
            case NcType.UInt64: for (int i = 0; i < n; i++) r[i] = BinaryPrimitives.ReadUInt64BigEndian(b[(8 * i)..]); break;
            default: throw new ArgumentOutOfRangeException(nameof(t));
        }
    }

    protected override double[] ReadRawCore(NcVariable v, long[] starts, long[] counts)
    {
        var result = new double[counts.Aggregate(1L, (a, b) => a * b)];
        int size = NcTypes.Size(v.Type);
        ForEachRun(v, starts, counts, (offset, dest, len) =>
        {
            var buf = ReadAt(offset, len * size, v.Name);
            Decode(buf, v.Type, result.AsSpan((int)dest, (int)len));
        });
        return result;
    }

    protected override string[] ReadStringsCore(NcVariable v)
    {
        if (v.Rank == 0)
        {
            var one = ReadAt(_layout[v.Name].Begin, 1, v.Name);
            return [Encoding.UTF8.GetString(one).TrimEnd('\0')];
        }
        long strLen = v.Shape[^1];
        long count = v.ElementCount / Math.Max(1, strLen);
        var bytes = new byte[v.ElementCount];
        ForEachRun(v, new long[v.Rank], v.Shape, (offset, dest, len) =>
            ReadAt(offset, len, v.Name).CopyTo(bytes.AsSpan((int)dest, (int)len)));
        var result = new string[count];
        for (long i = 0; i < count; i++)
            result[i] = Encoding.UTF8.GetString(bytes, (int)(i * strLen), (int)strLen).TrimEnd('\0', ' ');
        return result;
    }

    /// <summary>
    /// Calls back once per contiguous run of the slice: file offset, destination index and element count.
    /// Trailing axes read in full merge into one run; records are visited one by one (they interleave).
    /// </summary>
    void ForEachRun(NcVariable v, long[] starts, long[] counts, Action<long, long, long> run)
    {
        var (begin, isRec) = _layout[v.Name];
        if (v.Rank == 0) { run(begin, 0, 1); return; }
        long dest = 0;
        if (!isRec)
        {
            Runs(begin, NcTypes.Size(v.Type), v.Shape, starts, counts, 0, ref dest, run);
            return;
        }
        for (long r = 0; r < counts[0]; r++)
            Runs(begin + (starts[0] + r) * _recSize, NcTypes.Size(v.Type), v.Shape, starts, counts, 1, ref dest, run);
    }

    static void Runs(long baseOffset, int size, long[] shape, long[] starts, long[] counts, int first, ref long dest, Action<long, long, long> run)
    {
        int rank = shape.Length;
        if (first == rank) { run(baseOffset, dest++, 1); return; }
        var stride = new long[rank];
        long s = 1;
        for (int i = rank - 1; i >= first; i--) { stride[i] = s; s *= shape[i]; }
        int k = rank - 1;
        while (k > first && starts[k] == 0 && counts[k] == shape[k]) k--;
        long runLen = 1;
        for (int i = k; i < rank; i++) runLen *= counts[i];
        var idx = new long[rank];
        while (true)
        {
            long e = starts[k] * stride[k];
            for (int i = first; i < k; i++) e += (starts[i] + idx[i]) * stride[i];
            run(baseOffset + e * size, dest, runLen);
            dest += runLen;
            int a = k - 1;
            while (a >= first && ++idx[a] == counts[a]) { idx[a] = 0; a--; }
            if (a < first) break;
        }
    }

    byte[] ReadAt(long offset, long length, string what)
    {
        var buf = new byte[length];
        lock (_lock)
        {
            _stream.Position = offset;
            int got = _stream.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
            if (got < buf.Length)
                throw new EnsembleException($"{Path}: truncated: variable '{what}' data ends at byte {offset + got}, expected {offset + length}");
        }
        return buf;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _stream.Dispose();
    }

    /// <summary>Sequential big-endian header reader that reports truncation with the file name.</summary>
    sealed class HeaderReader(Stream s, string path)
    {
        readonly byte[] _b8 = new byte[8];
        /// <summary>CDF-5 stores counts and name lengths as int64.</summary>
        public bool Wide { get; set; }

        public EnsembleException Corrupt(string what) => new($"{path}: corrupt netCDF header at byte {s.Position}: {what}");

        public byte[] Bytes(int n)
        {
            if (n < 0) throw Corrupt($"negative length {n}");
            var b = new byte[n];
            if (s.ReadAtLeast(b, n, throwOnEndOfStream: false) < n)
                throw new EnsembleException($"{path}: truncated netCDF header (needs {n} bytes at {s.Position})");
            return b;
        }

        public void Skip(int n) { if (n > 0) Bytes(n); }

        public int Int32()
        {
            if (s.ReadAtLeast(_b8.AsSpan(0, 4), 4, throwOnEndOfStream: false) < 4)
                throw new EnsembleException($"{path}: truncated netCDF header at byte {s.Position}");
            return BinaryPrimitives.ReadInt32BigEndian(_b8);
        }

        public long UInt32() => (uint)Int32();

        public long Int64()
        {
            if (s.ReadAtLeast(_b8, 8, throwOnEndOfStream: false) < 8)
                throw new EnsembleException($"{path}: truncated netCDF header at byte {s.Position}");
            return BinaryPrimitives.ReadInt64BigEndian(_b8);
        }

        public string Name()
        {
            long n = Wide ? Int64() : Int32();
            if (n < 0 || n > 1 << 16) throw Corrupt($"name length {n}");
            var b = Bytes((int)n);
            Skip((int)((4 - n % 4) % 4));
            return Encoding.UTF8.GetString(b);
        }
    }
}
