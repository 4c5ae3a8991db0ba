using Ensemble.Core;

namespace Ensemble.Inference.Planning;

/// <summary>One ensemble member: its global index along <c>ensemble</c>, checkpoint, pair and sign (+1, −1; 0 = control).</summary>
public sealed record PlannedMember(int Index, int Checkpoint, int Pair, int Sign)
{
    public bool IsControl => Sign == 0;
}

/// <summary>
/// The unit of sharding, resume and merge: one initial time, one checkpoint and a block of pairs (plus the control
/// member in the checkpoint's first block). Its members share a checkpoint and so a loaded model.
/// </summary>
public sealed record WorkItem(int Index, int InitTimeIndex, int Checkpoint, int FirstPair, int PairCount, bool HasControl)
{
    public int MemberCount => 2 * PairCount + (HasControl ? 1 : 0);
}

/// <summary>
/// Checkpoints × pairs × 2 signs (+ control) for each initial time. Work items are ordered by checkpoint, then
/// initial time, then pair block (each process loads as few models as possible); member indices, seeds and items
/// are functions of the plan only, never of the world size or the batch size.
/// </summary>
public sealed class MemberPlan
{
    public MemberPlan(IReadOnlyList<DateTime> initTimes, int checkpoints, int pairs, bool control, int pairsPerItem)
    {
        if (initTimes.Count == 0) throw new EnsembleException("member plan: no initial times");
        if (checkpoints < 1) throw new EnsembleException("member plan: no checkpoints");
        if (pairs < 0 || (pairs == 0 && !control)) throw new EnsembleException($"member plan: {pairs} pairs and no control is an empty ensemble");
        if (pairsPerItem < 1) throw new EnsembleException($"pairs_per_item: must be ≥ 1, not {pairsPerItem}");
        InitTimes = initTimes; Checkpoints = checkpoints; Pairs = pairs; Control = control; PairsPerItem = pairsPerItem;
        var items = new List<WorkItem>();
        for (int c = 0; c < checkpoints; c++)
            for (int t = 0; t < initTimes.Count; t++)
            {
                if (pairs == 0) { items.Add(new WorkItem(items.Count, t, c, 0, 0, true)); continue; }
                for (int p = 0; p < pairs; p += pairsPerItem)
                    items.Add(new WorkItem(items.Count, t, c, p, Math.Min(pairsPerItem, pairs - p), control && p == 0));
            }
        Items = items;
    }

    public IReadOnlyList<DateTime> InitTimes { get; }
    public int Checkpoints { get; }
    public int Pairs { get; }
    public bool Control { get; }
    public int PairsPerItem { get; }
    public IReadOnlyList<WorkItem> Items { get; }

    public int MembersPerCheckpoint => 2 * Pairs + (Control ? 1 : 0);
    /// <summary>Members per initial time (the length of the <c>ensemble</c> dimension).</summary>
    public int TotalMembers => Checkpoints * MembersPerCheckpoint;

    /// <summary>Global member index: checkpoint-major, control first, then (+δ₀, −δ₀, +δ₁, −δ₁, …).</summary>
    public int MemberIndex(int checkpoint, int pair, int sign) =>
        checkpoint * MembersPerCheckpoint + (sign == 0 ? 0 : (Control ? 1 : 0) + 2 * pair + (sign > 0 ? 0 : 1));

    public PlannedMember Member(int index)
    {
        if (index < 0 || index >= TotalMembers) throw new EnsembleException($"--member {index}: outside 0 … {TotalMembers - 1}");
        int c = index / MembersPerCheckpoint, r = index % MembersPerCheckpoint;
        if (Control)
        {
            if (r == 0) return new PlannedMember(index, c, 0, 0);
            r--;
        }
        return new PlannedMember(index, c, r / 2, r % 2 == 0 ? 1 : -1);
    }

    /// <summary>An item's members in batch order: the control (if any), then + and − of each pair.</summary>
    public IReadOnlyList<PlannedMember> MembersOf(WorkItem item)
    {
        var list = new List<PlannedMember>(item.MemberCount);
        if (item.HasControl) list.Add(new PlannedMember(MemberIndex(item.Checkpoint, 0, 0), item.Checkpoint, 0, 0));
        for (int p = item.FirstPair; p < item.FirstPair + item.PairCount; p++)
        {
            list.Add(new PlannedMember(MemberIndex(item.Checkpoint, p, 1), item.Checkpoint, p, 1));
            list.Add(new PlannedMember(MemberIndex(item.Checkpoint, p, -1), item.Checkpoint, p, -1));
        }
        return list;
    }

    /// <summary>The items this rank runs: a contiguous block of the plan.</summary>
    public IReadOnlyList<WorkItem> ItemsFor(RankInfo rank)
    {
        var (start, count) = rank.Block(Items.Count);
        return Items.Skip(start).Take(count).ToList();
    }
}
