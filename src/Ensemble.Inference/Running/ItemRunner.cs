using System.Diagnostics;
using System.Text.Json;
using Ensemble.Core;
using Ensemble.Core.Config;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Inference.Planning;
using Ensemble.Inference.Statistics;
using Ensemble.Models.Packages;
using Ensemble.Perturbations;
using Ensemble.Scoring.Streaming;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Inference.Running;

/// <summary>What <c>state/item_NNNNNN.done</c> records about a completed work item.</summary>
public sealed record ItemRecord(int Item, DateTime InitTime, int Checkpoint, int FirstPair, int Pairs, int Members, IReadOnlyList<FlaggedMember> Flagged, double Seconds);

/// <summary>Runs work items: perturbation, batched rollout, blow-up checks, field output, statistics and spill.</summary>
internal sealed class ItemRunner(Campaign campaign, IInitialPerturbation perturbation, Device device, IEnsembleWriter? writer, Action<string>? warning)
{
    readonly long[] _statChannels = campaign.StatisticsVariables.Select(v => (long)campaign.Channels.ToList().IndexOf(v)).ToArray();

    public long MemberSteps { get; private set; }
    public double InferenceSeconds { get; private set; }
    public double StatisticsSeconds { get; private set; }
    public double OutputSeconds { get; private set; }

    /// <summary>One work item end to end; the done marker is written last, after statistics and spill are in place.</summary>
    public IReadOnlyList<FlaggedMember> Run(WorkItem item, Forecaster forecaster, RunDirectory dir, Action<long> progress, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var members = campaign.Plan.MembersOf(item);
        var config = campaign.Config;
        StreamingScores? stats = null;
        MemberSpill.Writer? spill = null;
        try
        {
            if (config.Statistics.Enabled)
            {
                stats = NewStatistics(item.InitTimeIndex);
                if (config.Statistics.Crps)
                {
                    // A run killed mid-item leaves its half-written spill under a temporary name: remove it first.
                    foreach (var stale in Directory.GetFiles(dir.ItemsDir, Path.GetFileName(dir.ItemSpill(item.Index)) + ".*.tmp"))
                        File.Delete(stale);
                    spill = new MemberSpill.Writer(dir.ItemSpill(item.Index), campaign.LeadHours.Count, _statChannels.Length, (long)campaign.Model.ImgShapeX * campaign.Model.ImgShapeY);
                }
            }
            var flagged = RunMembers(item.InitTimeIndex, item.Checkpoint, members, forecaster, stats, spill, progress, cancel);
            var t = Stopwatch.StartNew();
            if (stats is not null) stats.Save(dir.ItemStats(item.Index));
            spill?.Commit();
            StatisticsSeconds += t.Elapsed.TotalSeconds;
            var record = new ItemRecord(item.Index, campaign.Plan.InitTimes[item.InitTimeIndex], item.Checkpoint, item.FirstPair, item.PairCount,
                item.MemberCount, flagged, clock.Elapsed.TotalSeconds);
            AtomicFile.WriteAllText(dir.ItemDone(item.Index), JsonSerializer.Serialize(record, YamlConfig.Options));
            return flagged;
        }
        finally
        {
            stats?.Dispose();
            spill?.Dispose();
        }
    }

    StreamingScores NewStatistics(int initIndex)
    {
        var t0 = campaign.Plan.InitTimes[initIndex];
        Tensor truth;
        Tensor? thresholds = null;
        using (NewDisposeScope())
        {
            truth = stack(campaign.LeadHours.Select(h =>
                campaign.Truth!.Get(campaign.TruthIndex[t0 + TimeSpan.FromHours(h)]).to(ScalarType.Float64)).ToArray(), 0).MoveToOuterDisposeScope();   // [L, V, H, W]
            var th = campaign.Config.Statistics.Thresholds;
            if (th is { Count: > 0 })
            {
                int k = th.Values.Max(v => v.Count);
                int nv = campaign.StatisticsVariables.Count;
                var vals = new double[k * nv];
                for (int i = 0; i < k; i++)
                    for (int v = 0; v < nv; v++)
                        vals[i * nv + v] = th.TryGetValue(campaign.StatisticsVariables[v], out var list) && i < list.Count ? list[i] : double.PositiveInfinity;
                thresholds = tensor(vals, [k, 1, nv, 1, 1]).expand(k, truth.shape[0], truth.shape[1], truth.shape[2], truth.shape[3]).contiguous().MoveToOuterDisposeScope();
            }
        }
        // Constructed outside any dispose scope: the accumulator owns tensors that must outlive this call.
        using (truth)
        using (thresholds)
            return new StreamingScores(truth, thresholds, keepMembers: false);
    }

    /// <summary>
    /// The members (all of one checkpoint) in batches: each batch rolls out all steps; fields are written as they come,
    /// the statistics variables of every lead are buffered for the batch so a member that blows up at any step is
    /// left out of the statistics entirely.
    /// </summary>
    public List<FlaggedMember> RunMembers(int initIndex, int checkpoint, IReadOnlyList<PlannedMember> members, Forecaster forecaster,
        StreamingScores? stats, MemberSpill.Writer? spill, Action<long> progress, CancellationToken cancel)
    {
        var config = campaign.Config;
        var t0 = campaign.Plan.InitTimes[initIndex];
        var flagged = new List<FlaggedMember>();
        using var analysis = campaign.Initial.Get(campaign.InitialIndex[t0]).to(ScalarType.Float64).to(device);
        // Perturbations of the pairs involved, one request (each pair's δ depends only on its seed).
        var pairs = members.Where(m => !m.IsControl).Select(m => m.Pair).Distinct().ToList();
        Tensor? deltas = null;
        if (pairs.Count > 0)
        {
            var seeds = pairs.Select(p => PerturbationSeeds.Pair(config.Seed, checkpoint, t0, p)).ToList();
            var request = new PerturbationRequest(analysis, t0, seeds, forecaster, AnalysisAt);
            using (inference_mode()) deltas = perturbation.Perturbations(request);
            deltas = deltas.to(ScalarType.Float64).to(device);
        }
        var (centre, scale) = forecaster.InputNormalisation;
        using var mu = tensor(centre.ToArray(), dtype: ScalarType.Float64, device: device).reshape(1, -1, 1, 1);
        using var sigma = tensor(scale.ToArray(), dtype: ScalarType.Float64, device: device).reshape(1, -1, 1, 1);
        try
        {
            for (int b0 = 0; b0 < members.Count; b0 += campaign.BatchSize)
            {
                cancel.ThrowIfCancellationRequested();
                var batch = members.Skip(b0).Take(campaign.BatchSize).ToList();
                flagged.AddRange(RunBatch(initIndex, batch, pairs, analysis, deltas, forecaster, mu, sigma, stats, spill, progress));
            }
        }
        finally { deltas?.Dispose(); }
        foreach (var f in flagged)
            warning?.Invoke($"member {f.Member} (init {f.InitTime:yyyy-MM-ddTHH:mm}) flagged at step {f.Step}: {f.Reason}; excluded from the statistics");
        return flagged;
    }

    Tensor AnalysisAt(DateTime t)
    {
        var u = DateTime.SpecifyKind(t, DateTimeKind.Utc);
        if (!campaign.InitialIndex.TryGetValue(u, out int i))
            throw new EnsembleException($"initial_conditions.path: {campaign.Config.InitialConditions.Path} has no analysis at {u:yyyy-MM-ddTHH:mm} (the perturbation needs it)");
        return campaign.Initial.Get(i).to(ScalarType.Float64).to(device);
    }

    List<FlaggedMember> RunBatch(int initIndex, List<PlannedMember> batch, List<int> pairs, Tensor analysis, Tensor? deltas, Forecaster forecaster,
        Tensor mu, Tensor sigma, StreamingScores? stats, MemberSpill.Writer? spill, Action<long> progress)
    {
        var config = campaign.Config;
        var t0 = campaign.Plan.InitTimes[initIndex];
        int b = batch.Count, L = campaign.LeadHours.Count;
        var clip = perturbation.NonNegativeChannels;
        var flagged = new List<FlaggedMember>();
        var bad = new bool[b];
        var indices = batch.Select(m => m.Index).ToList();
        var layout = writer?.Layout;
        using var scope = NewDisposeScope();
        var x = stack(batch.Select(m => m.IsControl
            ? analysis.clone()
            : CentredPairs.Member(analysis, deltas![pairs.IndexOf(m.Pair)], m.Sign, clip)).ToArray(), 0);
        Tensor? buffer = stats is null ? null : empty([b, L, _statChannels.Length, analysis.shape[1], analysis.shape[2]], dtype: ScalarType.Float64, device: device);
        using var statIdx = tensor(_statChannels, device: device);
        for (int s = 0; s < L; s++)
        {
            if (s > 0)
            {
                var w = Stopwatch.StartNew();
                var next = forecaster.Step(x, t0 + (s - 1) * campaign.Step);
                x.Dispose();
                x = next;
                InferenceSeconds += w.Elapsed.TotalSeconds;
                MemberSteps += b;
            }
            // Blow-up check per member: non-finite, or beyond blowup_sigmas package standard deviations.
            var sw = Stopwatch.StartNew();
            using (var z = ((x - mu) / sigma).abs().reshape(b, -1))
            using (var finite = isfinite(z).all(1))
            using (var big = z.nan_to_num(0, 0, 0).amax(1))
            {
                var fin = finite.cpu().data<bool>().ToArray();
                var mag = big.cpu().data<double>().ToArray();
                for (int i = 0; i < b; i++)
                    if (!bad[i] && (!fin[i] || mag[i] > config.Statistics.BlowupSigmas))
                    {
                        bad[i] = true;
                        flagged.Add(new FlaggedMember(batch[i].Index, t0, s, !fin[i] ? "NaN or infinite values" : $"|x − mean| reached {mag[i]:G3} standard deviations"));
                    }
            }
            Tensor? badMask = null;
            if (bad.Any(v => v))
            {
                // Keep the batch finite: a flagged member continues from the analysis (its output is NaN, its values unused).
                badMask = tensor(bad, device: device).reshape(b, 1, 1, 1);
                var fixedX = where(badMask, analysis.unsqueeze(0).expand_as(x), x);
                x.Dispose(); x = fixedX;
            }
            if (buffer is not null) buffer.select(1, s).copy_(x.index_select(1, statIdx));
            StatisticsSeconds += sw.Elapsed.TotalSeconds;
            if (writer is not null && layout!.LeadIndex(campaign.LeadHours[s]) is var li && li >= 0)
            {
                var ow = Stopwatch.StartNew();
                using var f = x.to(ScalarType.Float32);
                using var masked = badMask is null ? f.alias() : where(badMask, full_like(f, float.NaN), f);
                using var sel = campaign.Selection.Select(masked, campaign.FullLayout);
                writer.Write(indices, initIndex, li, sel);
                OutputSeconds += ow.Elapsed.TotalSeconds;
            }
            badMask?.Dispose();
            if (s > 0) progress(MemberSteps);
        }
        if (buffer is not null)
        {
            var sw = Stopwatch.StartNew();
            var keep = Enumerable.Range(0, b).Where(i => !bad[i]).Select(i => (long)i).ToArray();
            if (keep.Length > 0)
            {
                using var k = tensor(keep, device: device);
                using var valid = keep.Length == b ? buffer.alias() : buffer.index_select(0, k);
                for (int l = 0; l < L; l++)
                {
                    using var lead = valid.select(1, l);
                    stats!.Update(l, lead);
                }
                spill?.Append(valid.reshape(keep.Length, L, _statChannels.Length, -1));
            }
            StatisticsSeconds += sw.Elapsed.TotalSeconds;
        }
        return flagged;
    }
}
