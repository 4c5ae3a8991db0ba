using System.Diagnostics;
using System.Text.Json;
using Ensemble.Core;
using Ensemble.Core.Config;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Inference.Config;
using Ensemble.Inference.Planning;
using Ensemble.Inference.Statistics;
using Ensemble.Models.Packages;
using Ensemble.Perturbations;
using Ensemble.Scoring.Streaming;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Inference.Running;

/// <summary>
/// Runs this rank's contiguous block of work items: perturb the analysis (fresh copy per member), roll out the
/// members in batches that share a checkpoint, write the selected fields into the shared store, accumulate float64
/// statistics per work item and spill member values for the exact CRPS, then mark the item done (atomically).
/// Items already marked done are skipped, so rerunning the same command after a crash completes the rest.
/// </summary>
public static class EnsembleRun
{
    public static RunSummary Execute(EnsembleRunConfig config, RankInfo rank, IProgress<RunProgress>? progress = null, CancellationToken cancel = default) =>
        Execute(config, rank, new RunOptions(), progress, cancel);

    public static RunSummary Execute(EnsembleRunConfig config, RankInfo rank, RunOptions options, IProgress<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        // The thread count is part of the config (and its hash): CPU reductions split work by thread, so every rank
        // and every rerun must use the same count for bit-identical members and statistics.
        if (config.Threads is { } threads)
        {
            if (threads < 1) throw new Ensemble.Core.EnsembleException($"threads: must be ≥ 1, got {threads}");
            torch.set_num_threads(threads);
        }
        using var campaign = Campaign.Open(config);
        var perturbation = options.Perturbation?.Invoke(campaign.Channels, campaign.Model.ImgShapeX, campaign.Model.ImgShapeY)
            ?? PerturbationFromConfig(config, campaign);
        var device = ResolveDevice(config.Device, rank);
        var dir = new RunDirectory(config.Output.Path);
        Directory.CreateDirectory(dir.Root);
        if (options.Member is { } k) return RunMember(campaign, perturbation, device, dir, k, options, progress, cancel);

        dir.Create();
        var manifest = campaign.Manifest(perturbation.Name);
        CheckOrWriteManifest(dir, manifest);
        var writer = OpenStore(campaign, perturbation, dir);
        var mine = campaign.Plan.ItemsFor(rank);
        var todo = mine.Where(i => !File.Exists(dir.ItemDone(i.Index))).ToList();
        if (todo.Count < mine.Count)
            options.Warning?.Invoke($"rank {rank.Rank}: {mine.Count - todo.Count} of {mine.Count} work item(s) already done; resuming with {todo.Count}");
        var runner = new ItemRunner(campaign, perturbation, device, writer, options.Warning);
        long total = todo.Sum(i => (long)i.MemberCount * config.Steps);
        var clock = Stopwatch.StartNew();
        int done = 0;
        var flagged = new List<FlaggedMember>();
        try
        {
            foreach (var group in todo.GroupBy(i => i.Checkpoint))
            {
                using var package = CheckpointSources.Load(config, group.Key, device);
                var forecaster = Forecaster(package, device);
                foreach (var item in group)
                {
                    cancel.ThrowIfCancellationRequested();
                    var itemFlags = runner.Run(item, forecaster, dir, steps =>
                    {
                        double rate = (runner.MemberSteps) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                        progress?.Report(new RunProgress(runner.MemberSteps, total, rate,
                            rate > 0 ? TimeSpan.FromSeconds((total - runner.MemberSteps) / rate) : null, done, todo.Count));
                    }, cancel);
                    flagged.AddRange(itemFlags);
                    done++;
                }
            }
        }
        finally
        {
            writer?.Dispose();
        }
        var summary = new RunSummary(rank.Rank, rank.WorldSize, mine.Count, todo.Count, mine.Count - todo.Count, runner.MemberSteps, campaign.BatchSize,
            clock.Elapsed.TotalSeconds, runner.InferenceSeconds, runner.StatisticsSeconds, runner.OutputSeconds, flagged, false);
        AtomicFile.WriteAllText(dir.RankSummary(rank.Rank), JsonSerializer.Serialize(summary, YamlConfig.Options));
        if (rank.WorldSize == 1 && options.MergeWhenSingle)
        {
            EnsembleMerge.Execute(dir.Root);
            summary = summary with { Merged = true };
        }
        return summary;
    }

    /// <summary>Forecaster set up for the runner: members are checked by the runner (not thrown on), and on CPU each
    /// member runs through the network alone, so a member's values do not depend on the batch it ran in (--member K
    /// is bit-identical to the full run).</summary>
    internal static Forecaster Forecaster(ModelPackage package, Device device)
    {
        if (device.type == DeviceType.CPU) package.Model.MembersPerChunk = 1;
        return new Forecaster(package) { RejectNonFinite = false };
    }

    static Device ResolveDevice(string name, RankInfo rank) =>
        name.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) ? Devices.ForLocalRank(rank.LocalRank) : Devices.Parse(name);

    static IInitialPerturbation PerturbationFromConfig(EnsembleRunConfig config, Campaign campaign) =>
        PerturbationFactory.Create(config.Perturbation, campaign.Channels, campaign.Model.ImgShapeX, campaign.Model.ImgShapeY, source: "perturbation");

    static void CheckOrWriteManifest(RunDirectory dir, RunManifest manifest)
    {
        if (File.Exists(dir.RunJson))
        {
            var existing = RunManifest.Read(dir.RunJson);
            if (existing.ConfigHash != manifest.ConfigHash)
                throw new EnsembleException($"{dir.Root}: holds a different campaign (config hash {existing.ConfigHash[..12]} ≠ {manifest.ConfigHash[..12]}); resume with the same config or choose a new output.path");
            return;
        }
        AtomicFile.WriteAllText(dir.RunJson, JsonSerializer.Serialize(manifest, YamlConfig.Options));
    }

    static IEnsembleWriter? OpenStore(Campaign campaign, IInitialPerturbation perturbation, RunDirectory dir)
    {
        if (campaign.Format == "none") return null;
        var plan = campaign.Plan;
        var infos = Enumerable.Range(0, plan.TotalMembers).Select(k =>
        {
            var m = plan.Member(k);
            string model = CheckpointSources.Of(campaign.Config)[m.Checkpoint].Name;
            // Seeds differ per initial time; the stored seed is the first initial time's (all are re-derivable from the plan).
            long seed = m.IsControl ? 0 : PerturbationSeeds.Pair(campaign.Config.Seed, m.Checkpoint, plan.InitTimes[0], m.Pair);
            return new EnsembleMemberInfo(m.Checkpoint, model, m.IsControl ? "none" : perturbation.Name, m.Pair, m.Sign, seed);
        }).ToList();
        var full = campaign.FullLayout with { MemberInfo = infos };
        var layout = campaign.Selection.Apply(full);
        return EnsembleStore.Create(dir.FieldsZarr, layout);
    }

    /// <summary>--member K: the member alone (batch of one) for every initial time, written into the store at index K.</summary>
    static RunSummary RunMember(Campaign campaign, IInitialPerturbation perturbation, Device device, RunDirectory dir, int k, RunOptions options,
        IProgress<RunProgress>? progress, CancellationToken cancel)
    {
        var member = campaign.Plan.Member(k);
        var writer = OpenStore(campaign, perturbation, dir);
        var runner = new ItemRunner(campaign, perturbation, device, writer, options.Warning);
        var clock = Stopwatch.StartNew();
        var flagged = new List<FlaggedMember>();
        try
        {
            using var package = CheckpointSources.Load(campaign.Config, member.Checkpoint, device);
            var forecaster = Forecaster(package, device);
            for (int t = 0; t < campaign.Plan.InitTimes.Count; t++)
            {
                cancel.ThrowIfCancellationRequested();
                flagged.AddRange(runner.RunMembers(t, member.Checkpoint, [member], forecaster, null, null, _ => { }, cancel));
                progress?.Report(new RunProgress(runner.MemberSteps, (long)campaign.Plan.InitTimes.Count * campaign.Config.Steps, 0, null, t + 1, campaign.Plan.InitTimes.Count));
            }
        }
        finally { writer?.Dispose(); }
        return new RunSummary(0, 1, campaign.Plan.InitTimes.Count, campaign.Plan.InitTimes.Count, 0, runner.MemberSteps, 1, clock.Elapsed.TotalSeconds,
            runner.InferenceSeconds, runner.StatisticsSeconds, runner.OutputSeconds, flagged, false);
    }
}

