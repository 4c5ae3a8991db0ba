using Ensemble.Inference.Config;
using Ensemble.Perturbations;

namespace Ensemble.Inference.Running;

/// <summary>Progress of one rank: member-steps done of this rank's total, rate and ETA.</summary>
public sealed record RunProgress(long MemberStepsDone, long MemberStepsTotal, double MemberStepsPerSecond, TimeSpan? Eta, int ItemsDone, int ItemsTotal);

/// <summary>A member excluded from the statistics: where and why it blew up.</summary>
public sealed record FlaggedMember(int Member, DateTime InitTime, int Step, string Reason);

/// <summary>What one rank did (also written to <c>state/rank_NNNN.json</c>).</summary>
public sealed record RunSummary(
    int Rank, int WorldSize, int ItemsTotal, int ItemsRun, int ItemsSkipped, long MemberSteps, int BatchSize,
    double Seconds, double InferenceSeconds, double StatisticsSeconds, double OutputSeconds,
    IReadOnlyList<FlaggedMember> Flagged, bool Merged)
{
    public double MemberStepsPerSecond => Seconds > 0 ? MemberSteps / Seconds : 0;
    /// <summary>Streaming statistics (accumulation and spill) relative to model time.</summary>
    public double StatisticsShare => InferenceSeconds > 0 ? StatisticsSeconds / InferenceSeconds : 0;
}

/// <summary>Optional behaviour of <see cref="EnsembleRun.Execute(EnsembleRunConfig, Planning.RankInfo, RunOptions, IProgress{RunProgress}?, CancellationToken)"/>.</summary>
public sealed record RunOptions
{
    /// <summary>Recompute only this member (global ensemble index) for every initial time; no statistics or state.</summary>
    public int? Member { get; init; }
    /// <summary>Builds the perturbation method (channels, nlat, nlon); default: from the config's <c>perturbation</c> section.</summary>
    public Func<IReadOnlyList<string>, int, int, IInitialPerturbation>? Perturbation { get; init; }
    /// <summary>Receives one-line warnings (flagged members, skipped items).</summary>
    public Action<string>? Warning { get; init; }
    /// <summary>Merge statistics and outputs at the end of a single-process run (world size 1).</summary>
    public bool MergeWhenSingle { get; init; } = true;
}
