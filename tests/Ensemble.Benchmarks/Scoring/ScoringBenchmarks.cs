using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Ensemble.Scoring.Probabilistic;
using Ensemble.Scoring.Streaming;
using static TorchSharp.torch;

namespace Ensemble.Benchmarks.Scoring;

/// <summary>
/// Fair CRPS of 1,000 float32 members on the 181×360 (1°) grid for one lead time: the sorted-member
/// O(M log M) form, float64 accumulation, CPU. Each operation is several seconds, so few iterations.
/// `dotnet run -c Release --project tests/Ensemble.Benchmarks -- --filter '*FairCrps*'`
/// </summary>
[Config(typeof(ScoringBenchmarkConfig.Slow))]
public class FairCrpsBenchmark
{
    Tensor _members = null!, _truth = null!;

    [Params(1000)] public int Members;

    [GlobalSetup]
    public void Setup()
    {
        var gen = new Generator(1);
        _truth = (randn(181, 360, generator: gen, dtype: ScalarType.Float64) * 10 + 280).to(ScalarType.Float32);
        _members = (_truth.unsqueeze(0).to(ScalarType.Float64) + randn(Members, 181, 360, generator: gen, dtype: ScalarType.Float64) * 2).to(ScalarType.Float32);
    }

    [GlobalCleanup]
    public void Cleanup() { _members.Dispose(); _truth.Dispose(); }

    [Benchmark(Description = "fair CRPS, 1000 members, 181x360, one lead")]
    public double FairCrps()
    {
        using var crps = Crps.Ensemble(_members, _truth, CrpsEstimator.Fair);
        using var mean = crps.mean();
        return mean.item<double>();
    }
}

/// <summary>
/// Streaming update cost per member-step: one member field [1 variable, 181, 360] for one lead added to a
/// (1 lead × 1 variable) accumulator with 2 thresholds; bounded mode (no kept members) and exact-CRPS
/// mode (members kept), single members and batches of 10. The accumulator is rebuilt every iteration.
/// </summary>
[Config(typeof(ScoringBenchmarkConfig.Fast))]
public class StreamingUpdateBenchmark
{
    Tensor _truth = null!, _thresholds = null!, _member = null!, _batch10 = null!;
    StreamingScores _acc = null!;

    [Params(false, true)] public bool KeepMembers;

    [GlobalSetup]
    public void Setup()
    {
        var gen = new Generator(2);
        _truth = (randn(1, 1, 181, 360, generator: gen, dtype: ScalarType.Float64) * 10 + 280).to(ScalarType.Float32);
        _thresholds = stack(new[] { _truth.to(ScalarType.Float64) - 1, _truth.to(ScalarType.Float64) + 2 }, 0);
        _member = (_truth[0].to(ScalarType.Float64) + randn(1, 1, 181, 360, generator: gen, dtype: ScalarType.Float64)).to(ScalarType.Float32);
        _batch10 = (_truth[0].to(ScalarType.Float64) + randn(10, 1, 181, 360, generator: gen, dtype: ScalarType.Float64)).to(ScalarType.Float32);
    }

    [IterationSetup]
    public void NewAccumulator()
    {
        _acc?.Dispose();
        _acc = new StreamingScores(_truth, _thresholds, KeepMembers);
    }

    [Benchmark(Description = "update, 1 member x 181x360")]
    public void UpdateOneMember() => _acc.Update(0, _member);

    [Benchmark(Description = "update, batch of 10 members x 181x360 (divide by 10 per member)")]
    public void UpdateBatchOfTen() => _acc.Update(0, _batch10);
}

/// <summary>
/// In-process jobs: the benchmarks run inside the already built Release assembly (no generated project),
/// which keeps the build slots of parallel sessions apart; the long timeout keeps the executor from aborting
/// slow iterations on a shared machine (the default aborted the batched streaming case).
/// </summary>
public static class ScoringBenchmarkConfig
{
    public sealed class Slow : ManualConfig
    {
        public Slow()
        {
            AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true))
                .WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3));
            AddDiagnoser(MemoryDiagnoser.Default);
        }
    }

    public sealed class Fast : ManualConfig
    {
        public Fast()
        {
            AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true))
                .WithStrategy(RunStrategy.Throughput).WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(8)
                .WithInvocationCount(40).WithUnrollFactor(1));
            AddDiagnoser(MemoryDiagnoser.Default);
        }
    }
}
