using Ensemble.Core;
using Ensemble.Data.Npy;
using Ensemble.Scoring.Probabilistic;
using Ensemble.Scoring.Streaming;
using Ensemble.Scoring.Tables;
using Ensemble.Scoring.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Inference.Statistics;

/// <summary>
/// Merges the per-work-item sums of one initial time in plan order (so the float64 result is the same for every
/// world size and after restarts) and finalises them: per-point fields (.npy) and area-weighted scores (table rows).
/// Exact CRPS reads the spilled member values in blocks of points: peak memory is members × block × 8 B, set by
/// <c>statistics.crps_block_mb</c>, independent of how many members there are.
/// </summary>
public static class StatisticsMerge
{
    public sealed record Result(StreamingScores Merged, List<ScoreRow> Rows);

    public static Result MergeInitTime(IReadOnlyList<string> itemStatsFiles, IReadOnlyList<string> spillFiles, string outputDir,
        IReadOnlyList<string> variables, IReadOnlyList<double> leadHours, double[] lat, string model, string initTime,
        bool crps, int crpsBlockMb, long rankSeed)
    {
        if (itemStatsFiles.Count == 0) throw new EnsembleException($"statistics for {initTime}: no work items");
        var merged = StreamingScores.Load(itemStatsFiles[0]);
        try
        {
            foreach (var f in itemStatsFiles.Skip(1))
            {
                using var s = StreamingScores.Load(f);
                merged.Merge(s);
            }
            Directory.CreateDirectory(outputDir);
            merged.Save(Path.Combine(outputDir, "merged.stats"));
            var rows = new List<ScoreRow>();
            var counts = merged.Count;
            if (counts.Any(c => c == 0))
                return new Result(merged, rows);       // every member flagged somewhere: nothing to finalise
            var w = LatitudeWeights.CosLat(lat);
            using var weights = torch.tensor(w, dtype: ScalarType.Float64).reshape(-1, 1);
            double wSum = w.Sum() * merged.CellShape[3];
            double Area(Tensor field) { using var p = field * weights; return p.sum().item<double>() / wSum; }

            void SaveField(string name, Tensor t) { using (t) NpyFile.Write(Path.Combine(outputDir, name + ".npy"), t.cpu()); }
            using (var mean = merged.EnsembleMean()) NpyFile.Write(Path.Combine(outputDir, "ensemble_mean.npy"), mean);
            using var variance = merged.EnsembleVariance();
            using var se = merged.SquaredErrorOfMean();
            using var mse = merged.MeanMemberSquaredError();
            NpyFile.Write(Path.Combine(outputDir, "ensemble_variance.npy"), variance);
            NpyFile.Write(Path.Combine(outputDir, "squared_error_of_mean.npy"), se);
            NpyFile.Write(Path.Combine(outputDir, "member_squared_error.npy"), mse);
            using var ranks = merged.Ranks(rankSeed);
            NpyFile.Write(Path.Combine(outputDir, "ranks.npy"), ranks);
            if (merged.Thresholds is not null)
                SaveField("exceedance_probability", merged.ExceedanceProbability());

            int L = (int)merged.CellShape[0], V = (int)merged.CellShape[1];
            Tensor? fair = null, standard = null;
            if (crps)
            {
                (fair, standard) = Crps(merged, spillFiles, crpsBlockMb);
                NpyFile.Write(Path.Combine(outputDir, "crps_fair.npy"), fair);
                NpyFile.Write(Path.Combine(outputDir, "crps_standard.npy"), standard);
            }
            var hist = new long[L, V, counts.Max() + 1];
            for (int l = 0; l < L; l++)
                for (int v = 0; v < V; v++)
                {
                    int m = (int)counts[l];
                    void Add(string metric, double value) => rows.Add(new ScoreRow(model, variables[v], initTime, leadHours[l], metric, value, m, "coslat"));
                    Add("mse", Area(se[l, v]));
                    Add("variance", Area(variance[l, v]));
                    Add("member_mse", Area(mse[l, v]));
                    if (fair is not null) { Add("crps", Area(fair[l, v])); Add("crps_standard", Area(standard![l, v])); }
                    using var r = ranks[l, v];
                    var h = RankHistogram.Histogram(r, m);
                    for (int k = 0; k < h.Length; k++) hist[l, v, k] = h[k];
                }
            var flat = new long[hist.Length];
            Buffer.BlockCopy(hist, 0, flat, 0, flat.Length * 8);
            using (var ht = torch.tensor(flat, [L, V, counts.Max() + 1])) NpyFile.Write(Path.Combine(outputDir, "rank_histogram.npy"), ht);
            fair?.Dispose(); standard?.Dispose();
            return new Result(merged, rows);
        }
        catch
        {
            merged.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fair and standard CRPS per cell from the spilled members: for each (lead, variable) and block of points the
    /// members of every item are gathered ([n, M]), d = x − y sorted per point, Σ|d| and G = Σ(2i − M − 1)d₍ᵢ₎;
    /// fair = Σ|d|/M − G/(M(M−1)), standard = Σ|d|/M − G/M² (verification-metrics.md §2.2). Sorting makes it
    /// independent of member order.
    /// </summary>
    static (Tensor Fair, Tensor Standard) Crps(StreamingScores merged, IReadOnlyList<string> spillFiles, int blockMb)
    {
        var readers = spillFiles.Select(f => new MemberSpill.Reader(f)).ToList();
        try
        {
            var shape = merged.CellShape;
            int L = (int)shape[0], V = (int)shape[1];
            long P = shape[2] * shape[3];
            int M = readers.Sum(r => r.Members);
            if (readers.Any(r => r.Leads != L || r.Variables != V || r.Points != P))
                throw new EnsembleException($"{readers.First(r => r.Leads != L || r.Variables != V || r.Points != P).Path}: spill shape does not match the statistics");
            if (M != merged.Count[0]) throw new EnsembleException($"statistics: {M} spilled members but {merged.Count[0]} accumulated");
            var fair = torch.empty(shape, dtype: ScalarType.Float64);
            var standard = torch.empty(shape, dtype: ScalarType.Float64);
            int block = (int)Math.Clamp((long)blockMb * (1L << 20) / (8L * Math.Max(1, M)), 1, P);
            using var coef = torch.arange(1, M + 1, dtype: ScalarType.Float64) * 2 - (M + 1);
            var fairFlat = fair.view(L, V, P);
            var stdFlat = standard.view(L, V, P);
            for (int l = 0; l < L; l++)
                for (int v = 0; v < V; v++)
                {
                    using var truth = merged.Truth[l, v].reshape(-1);
                    for (long p0 = 0; p0 < P; p0 += block)
                    {
                        using var scope = torch.NewDisposeScope();
                        int n = (int)Math.Min(block, P - p0);
                        var x = torch.empty([n, M], dtype: ScalarType.Float64);
                        int col = 0;
                        foreach (var r in readers)
                        {
                            int m = r.Members;
                            if (m == 0) continue;
                            var part = torch.tensor(r.Read(l, v, p0, n), [n, m]);
                            x.narrow(1, col, m).copy_(part);
                            col += m;
                        }
                        var d = x - truth.narrow(0, p0, n).unsqueeze(1);
                        var sorted = d.sort(-1).Values;
                        var absSum = sorted.abs().sum(-1L);
                        var g = sorted.mv(coef);
                        var skill = absSum / M;
                        stdFlat[l, v].narrow(0, p0, n).copy_(skill - g / ((double)M * M));
                        fairFlat[l, v].narrow(0, p0, n).copy_(M < 2 ? torch.full_like(skill, double.NaN) : skill - g / ((double)M * (M - 1)));
                    }
                }
            return (fair, standard);
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }
}
