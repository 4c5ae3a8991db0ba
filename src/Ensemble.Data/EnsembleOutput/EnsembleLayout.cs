using Ensemble.Core;

namespace Ensemble.Data.EnsembleOutput;

/// <summary>
/// What an ensemble output store holds: one float32 array per variable with dims
/// (ensemble, time, lead_time, lat, lon), the initial times, lead times in hours, the grid, per-member
/// provenance (optional) and global attributes. Two layouts describe the same store when
/// <see cref="SameAs"/> holds.
/// </summary>
public sealed record EnsembleLayout(
    IReadOnlyList<string> Variables,
    IReadOnlyDictionary<string, string> Units,
    IReadOnlyList<DateTime> Times,
    IReadOnlyList<double> LeadTimeHours,
    int Members,
    double[] Lat,
    double[] Lon,
    IReadOnlyList<EnsembleMemberInfo>? MemberInfo,
    IReadOnlyDictionary<string, string> Attributes)
{
    /// <summary>Dimension names of every data variable, in order.</summary>
    public static readonly string[] Dimensions = ["ensemble", "time", "lead_time", "lat", "lon"];

    /// <summary>Names used by coordinates and per-member variables (data variables may not use them).</summary>
    public static readonly string[] ReservedNames = ["ensemble", "time", "lead_time", "lat", "lon", "checkpoint", "model", "perturbation", "pair", "sign", "seed"];

    public int Nlat => Lat.Length;
    public int Nlon => Lon.Length;

    /// <summary>Index of a variable, or -1.</summary>
    public int VariableIndex(string name)
    {
        for (int i = 0; i < Variables.Count; i++) if (Variables[i] == name) return i;
        return -1;
    }

    /// <summary>Index of the lead time (hours, to 1e-9 h), or -1 when this layout does not keep it.</summary>
    public int LeadIndex(double hours)
    {
        for (int i = 0; i < LeadTimeHours.Count; i++) if (Math.Abs(LeadTimeHours[i] - hours) < 1e-9) return i;
        return -1;
    }

    /// <summary>Index of the initial time, or -1.</summary>
    public int TimeIndex(DateTime time)
    {
        for (int i = 0; i < Times.Count; i++) if (Times[i] == time) return i;
        return -1;
    }

    /// <summary>Throws an <see cref="EnsembleException"/> naming <paramref name="what"/> when the layout cannot be stored.</summary>
    public void Validate(string what)
    {
        if (Variables.Count == 0) throw new EnsembleException($"{what}: the layout has no variables");
        foreach (var v in Variables)
        {
            if (string.IsNullOrWhiteSpace(v) || v.StartsWith('.') || v.Contains('/') || v.Contains('\\') || v.Contains(' '))
                throw new EnsembleException($"{what}: variable name '{v}' is not a plain name");
            if (ReservedNames.Contains(v))
                throw new EnsembleException($"{what}: variable name '{v}' clashes with a coordinate or member variable");
        }
        var dup = Variables.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new EnsembleException($"{what}: variable '{dup.Key}' is listed twice");
        if (Times.Count == 0) throw new EnsembleException($"{what}: the layout has no initial times");
        if (Times.Distinct().Count() != Times.Count) throw new EnsembleException($"{what}: initial times repeat");
        if (LeadTimeHours.Count == 0) throw new EnsembleException($"{what}: the layout has no lead times");
        if (LeadTimeHours.Any(h => !double.IsFinite(h))) throw new EnsembleException($"{what}: lead times must be finite");
        if (LeadTimeHours.Distinct().Count() != LeadTimeHours.Count) throw new EnsembleException($"{what}: lead times repeat");
        if (Members < 1) throw new EnsembleException($"{what}: {Members} members (need at least 1)");
        if (Lat.Length == 0 || Lon.Length == 0) throw new EnsembleException($"{what}: empty lat/lon grid ({Lat.Length}×{Lon.Length})");
        if (MemberInfo is not null && MemberInfo.Count != Members)
            throw new EnsembleException($"{what}: member info has {MemberInfo.Count} entries for {Members} members");
    }

    /// <summary>True when both layouts describe the same store contents (values, not references).</summary>
    public bool SameAs(EnsembleLayout other) =>
        Variables.SequenceEqual(other.Variables)
        && Times.SequenceEqual(other.Times)
        && LeadTimeHours.SequenceEqual(other.LeadTimeHours)
        && Members == other.Members
        && Lat.SequenceEqual(other.Lat) && Lon.SequenceEqual(other.Lon)
        && (MemberInfo is null ? other.MemberInfo is null : other.MemberInfo is not null && MemberInfo.SequenceEqual(other.MemberInfo))
        && Variables.All(v => Units.GetValueOrDefault(v) == other.Units.GetValueOrDefault(v));
}
