using System.Text;
using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Streaming;

/// <summary>
/// Binary file of a <see cref="StreamingScores"/> (little-endian): magic "ENSSTRM1", flags, per-lead
/// counts, then named tensors (name, dtype, shape, raw bytes). Written atomically (temp + rename), so a
/// crash mid-save leaves the previous file intact.
/// </summary>
internal static class StreamingScoresFile
{
    const string Magic = "ENSSTRM1";

    public static void Save(StreamingScores s, string path)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Encoding.ASCII.GetBytes(Magic));
            w.Write(s.Thresholds is not null);
            w.Write(s.KeepsMembers);
            w.Write(s.LeadCount);
            foreach (var c in s._count) w.Write(c);
            WriteTensor(w, "truth", s.Truth);
            if (s.Thresholds is not null) WriteTensor(w, "thresholds", s.Thresholds);
            WriteTensor(w, "mean", s._mean);
            WriteTensor(w, "m2", s._m2);
            WriteTensor(w, "sum_sq", s._sumSq);
            WriteTensor(w, "abs_sum", s._absSum);
            WriteTensor(w, "below", s._below);
            WriteTensor(w, "ties", s._ties);
            if (s._exceed is not null) WriteTensor(w, "exceed", s._exceed);
            if (s.KeepsMembers)
                for (int l = 0; l < s.LeadCount; l++)
                {
                    w.Write(s._count[l] > 0);
                    if (s._count[l] > 0)
                    {
                        using var m = s.Members(l);
                        WriteTensor(w, $"members_{l}", m);
                    }
                }
        });
    }

    public static StreamingScores Load(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: streaming-scores file not found");
        try
        {
            using var fs = File.OpenRead(path);
            using var r = new BinaryReader(fs, Encoding.UTF8);
            var magic = Encoding.ASCII.GetString(r.ReadBytes(Magic.Length));
            if (magic != Magic) throw new EnsembleException($"{path}: not a streaming-scores file (bad magic '{magic}')");
            bool hasThresholds = r.ReadBoolean();
            bool keepMembers = r.ReadBoolean();
            int leads = r.ReadInt32();
            if (leads < 1 || leads > 1_000_000) throw new EnsembleException($"{path}: implausible lead count {leads}");
            var count = new long[leads];
            for (int l = 0; l < leads; l++) count[l] = r.ReadInt64();
            var truth = ReadTensor(r, "truth", path);
            var thresholds = hasThresholds ? ReadTensor(r, "thresholds", path) : null;
            var mean = ReadTensor(r, "mean", path);
            var m2 = ReadTensor(r, "m2", path);
            var sumSq = ReadTensor(r, "sum_sq", path);
            var absSum = ReadTensor(r, "abs_sum", path);
            var below = ReadTensor(r, "below", path);
            var ties = ReadTensor(r, "ties", path);
            var exceed = hasThresholds ? ReadTensor(r, "exceed", path) : null;
            var members = new Tensor?[leads];
            if (keepMembers)
                for (int l = 0; l < leads; l++)
                    if (r.ReadBoolean()) members[l] = ReadTensor(r, $"members_{l}", path);
            if (truth.shape[0] != leads) throw new EnsembleException($"{path}: truth has {truth.shape[0]} leads, header says {leads}");
            return StreamingScores.Restore(truth, thresholds, keepMembers, count, mean, m2, sumSq, absSum, below, ties, exceed, members);
        }
        catch (EndOfStreamException)
        {
            throw new EnsembleException($"{path}: streaming-scores file is truncated");
        }
    }

    static void WriteTensor(BinaryWriter w, string name, Tensor t)
    {
        using var c = t.cpu().contiguous();
        w.Write(name);
        w.Write((int)c.dtype);
        w.Write(c.dim());
        foreach (var d in c.shape) w.Write(d);
        var bytes = c.bytes;
        w.Write((long)bytes.Length);
        w.Write(bytes);
    }

    static Tensor ReadTensor(BinaryReader r, string expected, string path)
    {
        string name = r.ReadString();
        if (name != expected) throw new EnsembleException($"{path}: expected tensor '{expected}', found '{name}'");
        var dtype = (ScalarType)r.ReadInt32();
        if (dtype != ScalarType.Float64 && dtype != ScalarType.Float32 && dtype != ScalarType.Float16 && dtype != ScalarType.BFloat16)
            throw new EnsembleException($"{path}: tensor '{name}' has unsupported dtype {dtype}");
        long rank = r.ReadInt64();
        if (rank < 0 || rank > 8) throw new EnsembleException($"{path}: tensor '{name}' has implausible rank {rank}");
        var shape = new long[rank];
        for (int i = 0; i < rank; i++) shape[i] = r.ReadInt64();
        long length = r.ReadInt64();
        var t = empty(shape, dtype: dtype);
        if (length != t.numel() * t.element_size())
            throw new EnsembleException($"{path}: tensor '{name}' byte count {length} does not match shape {Shapes.Show(shape)}");
        var bytes = r.ReadBytes(checked((int)length));
        if (bytes.Length != length) throw new EndOfStreamException();
        t.bytes = bytes;
        return t;
    }
}
