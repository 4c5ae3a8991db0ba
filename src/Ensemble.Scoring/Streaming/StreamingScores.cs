using Ensemble.Core;
using Ensemble.Scoring.Probabilistic;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Streaming;

/// <summary>
/// Float64 running sums per (lead time, variable, grid point) for an ensemble whose members arrive in
/// batches (hens-ensembles.md §11). Truth [L, V, lat, lon] is fixed at construction; each update adds
/// members [b, V, lat, lon] for one lead (or [b, L, V, lat, lon] for all leads). Everything is kept
/// on residuals d = x − y, which are small and keep digits for fields like z500.
/// <para>
/// Exactly streamed (memory independent of M, all plain sums or Chan-mergeable): count n per lead,
/// Welford mean and M2 of d (ensemble mean, ddof-1 variance, squared error of the mean), Σd²
/// (per-member squared error), Σ|d| (CRPS skill term), Σ1[d &lt; 0] and Σ1[d = 0] (ranks: the random
/// tie break is drawn at finalisation, from the same seeded generator as the all-members path), and
/// Σ1[x &gt; t] per threshold (Brier, reliability, ROC).
/// </para>
/// <para>
/// CRPS spread term Σ_i Σ_j |x_i − x_j|: it is not a function of any fixed set of sums — adding one
/// member x needs Σ_i |x_i − x|, i.e. the whole empirical CDF of the members so far — so it cannot be
/// streamed exactly in bounded memory. Sorting members only within a batch misses the cross-batch
/// pairs. The exact method used here keeps every member value per point in its input precision
/// (lossless: float32 model output is stored as float32, 4 bytes per member per point; the residual is
/// formed in float64 at finalisation) and evaluates the pair term by the sorted form
/// 2Σ(2i − M − 1)d₍ᵢ₎ over all kept members, O(M log M) per point. Memory: M × L × V × nlat × nlon ×
/// bytes(input), e.g. 1,000 members × 181 × 360 × 4 B = 261 MB per (lead, variable). Shards merge by
/// concatenating the kept members (the sorted form is order independent), so merge == single pass.
/// With <c>keepMembers: false</c> the accumulator is bounded by O(L·V·points) and fair/standard CRPS
/// are unavailable (the skill term Σ|d| still streams); shard the grid, not the members, to bound the
/// kept sample per process instead.
/// </para>
/// </summary>
public sealed class StreamingScores : IDisposable
{
    readonly Tensor _truth;          // [L, V, lat, lon] float64
    readonly Tensor? _thresholds;    // [K, L, V, lat, lon] float64
    readonly Tensor? _truthEvents;   // [K, L, V, lat, lon] float64 0/1, y > t
    internal readonly long[] _count; // per lead
    internal readonly Tensor _mean, _m2, _sumSq, _absSum, _below, _ties; // [L, V, lat, lon] float64
    internal readonly Tensor? _exceed;                                 // [K, L, V, lat, lon] float64
    internal readonly List<Tensor>[]? _members;                        // per lead: chunks [b, V, lat, lon]

    public StreamingScores(Tensor truth, Tensor? thresholds = null, bool keepMembers = true)
    {
        if (truth.dim() != 4)
            throw new EnsembleException($"streaming scores: truth {Shapes.Show(truth.shape)} must be [lead_time, variable, lat, lon]");
        _truth = truth.to(ScalarType.Float64).clone();
        var dev = _truth.device;
        if (thresholds is not null)
        {
            if (thresholds.dim() != 5 || !thresholds.shape.Skip(1).SequenceEqual(truth.shape))
                throw new EnsembleException($"streaming scores: thresholds {Shapes.Show(thresholds.shape)} must be [K, {string.Join(", ", truth.shape)}]");
            _thresholds = thresholds.to(ScalarType.Float64).to(dev).clone();
            _truthEvents = _truth.unsqueeze(0).gt(_thresholds).to(ScalarType.Float64);
            _exceed = zeros_like(_thresholds);
        }
        _count = new long[truth.shape[0]];
        _mean = zeros_like(_truth);
        _m2 = zeros_like(_truth);
        _sumSq = zeros_like(_truth);
        _absSum = zeros_like(_truth);
        _below = zeros_like(_truth);
        _ties = zeros_like(_truth);
        if (keepMembers)
        {
            _members = new List<Tensor>[truth.shape[0]];
            for (int l = 0; l < _members.Length; l++) _members[l] = new List<Tensor>();
        }
    }

    /// <summary>[L, V, lat, lon].</summary>
    public long[] CellShape => _truth.shape;
    public int LeadCount => (int)_truth.shape[0];
    /// <summary>Members accumulated per lead.</summary>
    public IReadOnlyList<long> Count => _count;
    public bool KeepsMembers => _members is not null;
    public Tensor Truth => _truth;
    public Tensor? Thresholds => _thresholds;

    /// <summary>Adds members [b, L, V, lat, lon] for every lead.</summary>
    public void Update(Tensor members)
    {
        if (members.dim() != 5 || !members.shape.Skip(1).SequenceEqual(_truth.shape))
            throw new EnsembleException($"streaming scores: members {Shapes.Show(members.shape)} must be [b, {string.Join(", ", _truth.shape)}]");
        for (int l = 0; l < LeadCount; l++)
        {
            using var slice = members.select(1, l);
            Update(l, slice);
        }
    }

    /// <summary>Adds members [b, V, lat, lon] at lead index <paramref name="lead"/>.</summary>
    public void Update(int lead, Tensor members)
    {
        if (lead < 0 || lead >= LeadCount)
            throw new EnsembleException($"streaming scores: lead index {lead} outside 0 … {LeadCount - 1}");
        var cell = _truth.shape.Skip(1).ToArray();
        if (members.dim() != 4 || !members.shape.Skip(1).SequenceEqual(cell) || members.shape[0] < 1)
            throw new EnsembleException($"streaming scores: members {Shapes.Show(members.shape)} must be [b ≥ 1, {string.Join(", ", cell)}]");
        long b = members.shape[0];
        using (var scope = NewDisposeScope())
        {
            var x = members.to(_truth.device);
            var y = _truth[lead];
            var d = x.to(ScalarType.Float64) - y.unsqueeze(0);
            var batchMean = d.mean([0L]);
            var batchM2 = (d - batchMean.unsqueeze(0)).pow(2).sum(0L);
            ChanMerge(lead, b, batchMean, batchM2);
            _sumSq[lead].add_(d.pow(2).sum(0L));
            _absSum[lead].add_(d.abs().sum(0L));
            _below[lead].add_(d.lt(0).to(ScalarType.Float64).sum(0L));
            _ties[lead].add_(d.eq(0).to(ScalarType.Float64).sum(0L));
            if (_exceed is not null)
            {
                var t = _thresholds![TensorIndex.Colon, lead];                 // [K, V, lat, lon]
                var ex = x.to(ScalarType.Float64).unsqueeze(0).gt(t.unsqueeze(1)).to(ScalarType.Float64).sum(1L);
                _exceed[TensorIndex.Colon, lead].add_(ex);
            }
        }
        _members?[lead].Add(members.detach().to(_truth.device).clone());
        _count[lead] += b;
    }

    /// <summary>Chan et al. parallel update of (n, mean, M2) at one lead with a batch (n_b, mean_b, M2_b).</summary>
    void ChanMerge(int lead, long nb, Tensor meanB, Tensor m2B)
    {
        long na = _count[lead];
        double n = na + nb;
        using var delta = meanB - _mean[lead];
        _mean[lead].add_(delta * (nb / n));
        _m2[lead].add_(m2B + delta.pow(2) * (na * (double)nb / n));
    }

    /// <summary>Adds another shard's sums (same truth and thresholds). Afterwards this equals a single pass over both.</summary>
    public void Merge(StreamingScores other)
    {
        if (!other._truth.shape.SequenceEqual(_truth.shape) || !other._truth.eq(_truth).all().item<bool>())
            throw new EnsembleException("streaming scores: cannot merge accumulators with different truth");
        if ((_thresholds is null) != (other._thresholds is null) ||
            (_thresholds is not null && !_thresholds.eq(other._thresholds!).all().item<bool>()))
            throw new EnsembleException("streaming scores: cannot merge accumulators with different thresholds");
        if (KeepsMembers != other.KeepsMembers)
            throw new EnsembleException("streaming scores: cannot merge an accumulator that keeps members with one that does not");
        for (int l = 0; l < LeadCount; l++)
        {
            if (other._count[l] == 0) continue;
            ChanMerge(l, other._count[l], other._mean[l], other._m2[l]);
            _count[l] += other._count[l];
            if (_members is not null)
                foreach (var chunk in other._members![l]) _members[l].Add(chunk.clone());
        }
        _sumSq.add_(other._sumSq);
        _absSum.add_(other._absSum);
        _below.add_(other._below);
        _ties.add_(other._ties);
        _exceed?.add_(other._exceed!);
    }

    // ---- finalisation --------------------------------------------------------------------------

    Tensor Counts()
    {
        var shape = new long[] { LeadCount, 1, 1, 1 };
        return tensor(_count.Select(c => (double)c).ToArray(), dtype: ScalarType.Float64, device: _truth.device).reshape(shape);
    }

    void RequireMembers(string what)
    {
        if (_count.Any(c => c == 0))
            throw new EnsembleException($"streaming scores: {what} needs at least one member at every lead (counts {string.Join(", ", _count)})");
    }

    /// <summary>Ensemble mean x̄ = y + mean(d), [L, V, lat, lon].</summary>
    public Tensor EnsembleMean() { RequireMembers("ensemble mean"); return _truth + _mean; }

    /// <summary>Ensemble variance, ddof 1 (0 where only one member has arrived, as WB2).</summary>
    public Tensor EnsembleVariance()
    {
        RequireMembers("ensemble variance");
        using var n = Counts();
        using var den = (n - 1).clamp_min(1);
        return _m2 / den;
    }

    /// <summary>(x̄ − y)² per cell.</summary>
    public Tensor SquaredErrorOfMean() { RequireMembers("squared error"); return _mean.pow(2); }

    /// <summary>Mean over members of (x_i − y)² per cell.</summary>
    public Tensor MeanMemberSquaredError()
    {
        RequireMembers("member squared error");
        using var n = Counts();
        return _sumSq / n;
    }

    /// <summary>Per-cell ranks (int64) with the random tie break of <see cref="RankHistogram"/>.</summary>
    public Tensor Ranks(long seed)
    {
        RequireMembers("ranks");
        using var below = _below.to(ScalarType.Int64);
        using var ties = _ties.to(ScalarType.Int64);
        return RankHistogram.FromCounts(below, ties, seed);
    }

    /// <summary>Exceedance probabilities e/M, [K, L, V, lat, lon].</summary>
    public Tensor ExceedanceProbability()
    {
        if (_exceed is null) throw new EnsembleException("streaming scores: no thresholds were configured");
        RequireMembers("exceedance probability");
        using var n = Counts().unsqueeze(0);
        return _exceed / n;
    }

    /// <summary>Observed events 1{y &gt; t}, [K, L, V, lat, lon].</summary>
    public Tensor ObservedEvents() =>
        _truthEvents?.clone() ?? throw new EnsembleException("streaming scores: no thresholds were configured");

    /// <summary>Brier or fair Brier score per threshold and cell, [K, L, V, lat, lon].</summary>
    public Tensor Brier(bool fair)
    {
        if (_exceed is null) throw new EnsembleException("streaming scores: no thresholds were configured");
        RequireMembers("Brier score");
        var parts = new List<Tensor>();
        for (int l = 0; l < LeadCount; l++)
            parts.Add(Probabilistic.Brier.FromCounts(_exceed[TensorIndex.Colon, l], _truthEvents![TensorIndex.Colon, l], _count[l], fair));
        var r = stack(parts, 1);
        foreach (var p in parts) p.Dispose();
        return r;
    }

    /// <summary>CRPS per cell, [L, V, lat, lon]: skill from the streamed Σ|d|, spread from the kept members.</summary>
    public Tensor Crps(CrpsEstimator estimator)
    {
        if (_members is null)
            throw new EnsembleException("streaming scores: CRPS needs the kept members (constructed with keepMembers: false)");
        RequireMembers("CRPS");
        var perLead = new List<Tensor>();
        for (int l = 0; l < LeadCount; l++)
        {
            using var scope = NewDisposeScope();
            var x = cat(_members[l], 0);
            long m = x.shape[0];
            var (_, g) = Probabilistic.Crps.SkillAndSpread(x.reshape(m, -1), _truth[l].reshape(1, -1), m, x.shape.Skip(1).Aggregate(1L, (a, v) => a * v));
            var crps = Probabilistic.Crps.Combine(_absSum[l].reshape(-1), g, m, estimator).reshape(_truth[l].shape);
            perLead.Add(crps.MoveToOuterDisposeScope());
        }
        var result = stack(perLead, 0);
        foreach (var t in perLead) t.Dispose();
        return result;
    }

    /// <summary>Kept members of one lead, [M, V, lat, lon] in input precision.</summary>
    public Tensor Members(int lead)
    {
        if (_members is null) throw new EnsembleException("streaming scores: members were not kept");
        return cat(_members[lead], 0);
    }

    // ---- persistence ---------------------------------------------------------------------------

    public void Save(string path) => StreamingScoresFile.Save(this, path);
    public static StreamingScores Load(string path) => StreamingScoresFile.Load(path);

    internal static StreamingScores Restore(Tensor truth, Tensor? thresholds, bool keepMembers, long[] count,
        Tensor mean, Tensor m2, Tensor sumSq, Tensor absSum, Tensor below, Tensor ties, Tensor? exceed, Tensor?[] members)
    {
        var s = new StreamingScores(truth, thresholds, keepMembers);
        Array.Copy(count, s._count, count.Length);
        s._mean.copy_(mean); s._m2.copy_(m2); s._sumSq.copy_(sumSq); s._absSum.copy_(absSum);
        s._below.copy_(below); s._ties.copy_(ties);
        if (exceed is not null) s._exceed!.copy_(exceed);
        if (keepMembers)
            for (int l = 0; l < members.Length; l++)
                if (members[l] is Tensor t) s._members![l].Add(t);
        return s;
    }

    public void Dispose()
    {
        _truth.Dispose(); _thresholds?.Dispose(); _truthEvents?.Dispose();
        _mean.Dispose(); _m2.Dispose(); _sumSq.Dispose(); _absSum.Dispose(); _below.Dispose(); _ties.Dispose();
        _exceed?.Dispose();
        if (_members is not null) foreach (var list in _members) foreach (var t in list) t.Dispose();
    }
}
