using System.Text;
using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Inference.Statistics;

/// <summary>
/// The member values of one work item, kept on disk for the exact CRPS pair term (it needs all members of a point
/// together). Little-endian: magic "ENSSPIL1", leads L, variables V, points P, then blocks (one per batch):
/// int32 b, float64 [L][V][P][b] — points-major with the batch's members contiguous, so a block of points of one
/// (lead, variable) is one contiguous read per batch. Written under a temporary name and renamed when the item is done.
/// </summary>
public static class MemberSpill
{
    const string Magic = "ENSSPIL1";
    const int HeaderBytes = 8 + 4 + 4 + 8;

    /// <summary>Appends batches to a temporary file; <see cref="Commit"/> renames it into place.</summary>
    public sealed class Writer : IDisposable
    {
        readonly string _path, _tmp;
        readonly FileStream _fs;
        readonly BinaryWriter _w;
        readonly long[] _cell;
        bool _done;

        public Writer(string path, int leads, int variables, long points)
        {
            _path = path;
            _tmp = path + $".{Environment.ProcessId}.tmp";
            _cell = [leads, variables, points];
            _fs = new FileStream(_tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            _w = new BinaryWriter(_fs, Encoding.ASCII, leaveOpen: true);
            _w.Write(Encoding.ASCII.GetBytes(Magic));
            _w.Write(leads); _w.Write(variables); _w.Write(points);
        }

        /// <summary>Members [b, L, V, P] (any float dtype; stored as float64).</summary>
        public void Append(Tensor members)
        {
            if (members.dim() != 4 || !members.shape.Skip(1).SequenceEqual(_cell))
                throw new EnsembleException($"member spill: members [{string.Join(", ", members.shape)}] must be [b, {string.Join(", ", _cell)}]");
            int b = (int)members.shape[0];
            if (b == 0) return;
            using var t = members.to(ScalarType.Float64).permute(1, 2, 3, 0).contiguous().cpu();
            _w.Write(b);
            _w.Write(t.bytes);
        }

        public void Commit()
        {
            _w.Flush();
            _fs.Flush(flushToDisk: true);
            _w.Dispose(); _fs.Dispose();
            File.Move(_tmp, _path, overwrite: true);
            _done = true;
        }

        public void Dispose()
        {
            if (_done) return;
            _w.Dispose(); _fs.Dispose();
            try { File.Delete(_tmp); } catch (IOException) { }
        }
    }

    /// <summary>Random access to a committed spill file's blocks.</summary>
    public sealed class Reader : IDisposable
    {
        readonly FileStream _fs;
        readonly List<(long Offset, int Members)> _blocks = [];

        public Reader(string path)
        {
            if (!File.Exists(path)) throw new EnsembleException($"{path}: member spill file not found (run the missing work items first)");
            Path = path;
            _fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var r = new BinaryReader(_fs, Encoding.ASCII, leaveOpen: true);
            if (_fs.Length < HeaderBytes || Encoding.ASCII.GetString(r.ReadBytes(8)) != Magic)
                throw new EnsembleException($"{path}: not a member spill file");
            Leads = r.ReadInt32(); Variables = r.ReadInt32(); Points = r.ReadInt64();
            long pos = HeaderBytes;
            long cell = (long)Leads * Variables * Points * 8;
            while (pos < _fs.Length)
            {
                _fs.Position = pos;
                int b = r.ReadInt32();
                if (b < 1 || pos + 4 + cell * b > _fs.Length) throw new EnsembleException($"{path}: truncated member spill block at byte {pos}");
                _blocks.Add((pos + 4, b));
                pos += 4 + cell * b;
            }
        }

        public string Path { get; }
        public int Leads { get; }
        public int Variables { get; }
        public long Points { get; }
        public int Members => _blocks.Sum(b => b.Members);

        /// <summary>Values of points [p0, p0+n) at (lead, variable) for every member of the file: [n, M] float64.</summary>
        public double[] Read(int lead, int variable, long p0, int n)
        {
            int m = Members;
            var result = new double[(long)n * m];
            int col = 0;
            foreach (var (offset, b) in _blocks)
            {
                var buf = new byte[(long)n * b * 8];
                _fs.Position = offset + ((((long)lead * Variables + variable) * Points + p0) * b) * 8;
                _fs.ReadExactly(buf);
                var vals = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(buf);
                for (int i = 0; i < n; i++)
                    vals.Slice(i * b, b).CopyTo(result.AsSpan(i * m + col, b));
                col += b;
            }
            return result;
        }

        public void Dispose() => _fs.Dispose();
    }
}
