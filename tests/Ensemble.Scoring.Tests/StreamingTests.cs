using Ensemble.Core;
using Ensemble.Scoring.Deterministic;
using Ensemble.Scoring.Probabilistic;
using Ensemble.Scoring.Streaming;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Scoring.Tests.Reference;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests;

public class StreamingTests
{
    const int M = 23, L = 3, V = 2, NLat = 5, NLon = 8;

    // float32 members (as the model writes them) around a z500-like offset, with some exact ties to the truth.
    static (Tensor Members, Tensor Truth, Tensor Thresholds) Data()
    {
        var gen = new Generator(77);
        var truth = (randn(L, V, NLat, NLon, generator: gen, dtype: ScalarType.Float64) * 30 + 5e4).to(ScalarType.Float32);
        var members = (randn(new long[] { M, L, V, NLat, NLon }, generator: gen, dtype: ScalarType.Float64) * 30 + 5e4).to(ScalarType.Float32);
        members[3] = truth;           // a member equal to the truth everywhere: ties
        members[9] = truth;
        var thresholds = stack(new[] { truth.to(ScalarType.Float64) - 10, truth.to(ScalarType.Float64) + 25 }, 0);
        return (members, truth, thresholds);
    }

    static void Feed(StreamingScores s, Tensor members, int from, int to, int[] batchSizes)
    {
        int i = from, k = 0;
        while (i < to)
        {
            int b = Math.Min(batchSizes[k++ % batchSizes.Length], to - i);
            using var batch = members.narrow(0, i, b);
            if (k % 2 == 0) s.Update(batch);                       // all leads at once
            else for (int l = 0; l < L; l++) { using var sl = batch.select(1, l); s.Update(l, sl); } // lead by lead
            i += b;
        }
    }

    static void Same(Tensor a, Tensor b, double tol, string what) => Close.Absolute(D(a), D(b), tol, what);

    [Fact]
    public void Streaming_equals_the_all_members_computation()
    {
        var (x, y, thr) = Data();
        using var s = new StreamingScores(y, thr);
        Feed(s, x, 0, M, new[] { 1, 5, 7, 10 });
        Assert.All(s.Count, c => Assert.Equal(M, c));

        Same(s.EnsembleMean(), x.to(ScalarType.Float64).mean([0L]), 1e-10, "mean");
        // Variance is shift invariant: the all-members reference centres on y as well (§0 of the metrics doc),
        // and agrees with the raw-value variance to float64 rounding at 5e4 (relative 1e-12).
        Same(s.EnsembleVariance(), SpreadSkill.EnsembleVariance(x.to(ScalarType.Float64) - y.to(ScalarType.Float64)), 1e-10, "variance");
        Close.Relative(D(s.EnsembleVariance()), D(SpreadSkill.EnsembleVariance(x)), 1e-12, "variance (raw values)");
        Same(s.SquaredErrorOfMean(), SpreadSkill.EnsembleMeanSquaredError(x, y), 1e-10, "SE of mean");
        Same(s.MeanMemberSquaredError(), (x.to(ScalarType.Float64) - y.to(ScalarType.Float64)).pow(2).mean([0L]), 1e-10, "member SE");
        Same(s.Crps(CrpsEstimator.Fair), Crps.Ensemble(x, y, CrpsEstimator.Fair), 1e-10, "fair CRPS");
        Same(s.Crps(CrpsEstimator.Standard), Crps.Ensemble(x, y, CrpsEstimator.Standard), 1e-10, "standard CRPS");
        Assert.Equal(D(RankHistogram.Ranks(x, y, 123).to(ScalarType.Float64)), D(s.Ranks(123).to(ScalarType.Float64)));
        for (int k = 0; k < 2; k++)
        {
            Same(s.Brier(fair: true)[k], Brier.Score(x, y, thr[k], fair: true), 1e-12, "fair Brier");
            Same(s.Brier(fair: false)[k], Brier.Score(x, y, thr[k]), 1e-12, "Brier");
        }
        // The tied members really produced ties.
        Assert.True(s.Ranks(1).max().item<long>() <= M);
    }

    [Fact]
    public void Merge_of_shards_equals_single_pass_and_survives_save_load()
    {
        var (x, y, thr) = Data();
        using var single = new StreamingScores(y, thr);
        Feed(single, x, 0, M, new[] { 4 });
        using var a = new StreamingScores(y, thr);
        using var b = new StreamingScores(y, thr);
        using var c = new StreamingScores(y, thr);
        Feed(a, x, 0, 6, new[] { 2, 3 });
        Feed(b, x, 6, 17, new[] { 11 });
        Feed(c, x, 17, M, new[] { 1 });
        using var tmp = new TempDir();
        b.Save(tmp.File("b.acc"));
        using var bLoaded = StreamingScores.Load(tmp.File("b.acc"));
        a.Merge(bLoaded);
        a.Merge(c);
        a.Save(tmp.File("merged.acc"));
        using var merged = StreamingScores.Load(tmp.File("merged.acc"));
        Assert.Equal(single.Count, merged.Count);
        Same(merged.EnsembleMean(), single.EnsembleMean(), 1e-10, "mean");
        Same(merged.EnsembleVariance(), single.EnsembleVariance(), 1e-10, "variance");
        Same(merged.SquaredErrorOfMean(), single.SquaredErrorOfMean(), 1e-10, "SE");
        Same(merged.MeanMemberSquaredError(), single.MeanMemberSquaredError(), 1e-10, "member SE");
        Same(merged.Crps(CrpsEstimator.Fair), single.Crps(CrpsEstimator.Fair), 1e-10, "CRPS");
        Same(merged.Brier(true), single.Brier(true), 1e-12, "Brier");
        Assert.Equal(D(single.Ranks(5).to(ScalarType.Float64)), D(merged.Ranks(5).to(ScalarType.Float64)));
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp"));
    }

    [Fact]
    public void Bounded_mode_streams_everything_but_the_crps_spread()
    {
        var (x, y, _) = Data();
        using var s = new StreamingScores(y, keepMembers: false);
        Feed(s, x, 0, M, new[] { 8 });
        Same(s.EnsembleVariance(), SpreadSkill.EnsembleVariance(x.to(ScalarType.Float64) - y.to(ScalarType.Float64)), 1e-10, "variance");
        Assert.Throws<EnsembleException>(() => s.Crps(CrpsEstimator.Fair));
        Assert.Throws<EnsembleException>(() => s.Brier(false));
        using var tmp = new TempDir();
        s.Save(tmp.File("s.acc"));
        using var loaded = StreamingScores.Load(tmp.File("s.acc"));
        Same(loaded.EnsembleMean(), s.EnsembleMean(), 0, "round trip");
    }

    [Fact]
    public void User_errors_are_one_line_exceptions()
    {
        var (x, y, thr) = Data();
        using var s = new StreamingScores(y, thr);
        Assert.Throws<EnsembleException>(() => s.Update(0, zeros(2, V, NLat, NLon + 1)));
        Assert.Throws<EnsembleException>(() => s.Update(L, zeros(2, V, NLat, NLon)));
        Assert.Throws<EnsembleException>(() => s.EnsembleMean()); // no members yet
        using var other = new StreamingScores(y + 1, thr);
        Assert.Throws<EnsembleException>(() => s.Merge(other));
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("bad.acc"), "not an accumulator");
        Assert.Throws<EnsembleException>(() => StreamingScores.Load(tmp.File("bad.acc")));
        s.Update(0, x.select(1, 0));
        s.Save(tmp.File("ok.acc"));
        var bytes = File.ReadAllBytes(tmp.File("ok.acc"));
        File.WriteAllBytes(tmp.File("cut.acc"), bytes[..(bytes.Length / 2)]);
        Assert.Throws<EnsembleException>(() => StreamingScores.Load(tmp.File("cut.acc")));
    }
}
