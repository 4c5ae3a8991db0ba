using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Data.EnsembleOutput;

/// <summary>
/// A latitude/longitude box in degrees. <see cref="LonMin"/> &gt; <see cref="LonMax"/> (e.g. 350 → 10) wraps
/// across the 0°/360° (or ±180°) seam; longitudes are compared modulo 360, so a box given in −180…180
/// selects on a 0…360 grid and vice versa.
/// </summary>
public sealed record CropBox(double LatMin, double LatMax, double LonMin, double LonMax)
{
    public void Validate()
    {
        if (!(LatMin <= LatMax)) throw new EnsembleException($"crop box: lat_min {LatMin} > lat_max {LatMax}");
        if (new[] { LatMin, LatMax, LonMin, LonMax }.Any(x => !double.IsFinite(x)))
            throw new EnsembleException("crop box: bounds must be finite");
    }
}

/// <summary>
/// Which part of the model output is saved, because saving everything is impossible at scale: a subset of
/// variables (by name, in the given order), of lead times (hours), a lat/lon crop box and a stride applied to
/// the cropped grid (every k-th latitude and longitude, starting at the first). Null members keep everything.
/// <see cref="Apply"/> maps the full layout to the stored one; <see cref="Select(Tensor)"/> cuts a batch of full
/// fields [b, C, H, W] down to the stored [b, V, lat, lon] (call <see cref="Apply"/> first, or pass the layout).
/// Lead times are not cut from tensors: writers look up <see cref="EnsembleLayout.LeadIndex"/> per step.
/// </summary>
public sealed class OutputSelection
{
    Indices? _bound;

    public OutputSelection(IReadOnlyList<string>? variables = null, IReadOnlyList<double>? leadHours = null, CropBox? crop = null, int stride = 1)
    {
        if (stride < 1) throw new EnsembleException($"output selection: stride {stride} must be ≥ 1");
        crop?.Validate();
        Variables = variables; LeadHours = leadHours; Crop = crop; Stride = stride;
    }

    /// <summary>Everything: all variables, leads and grid points.</summary>
    public static OutputSelection All { get; } = new();

    public IReadOnlyList<string>? Variables { get; }
    public IReadOnlyList<double>? LeadHours { get; }
    public CropBox? Crop { get; }
    public int Stride { get; }

    sealed record Indices(EnsembleLayout Full, EnsembleLayout Selected, long[] Channels, long[] LatIndex, long[] LonIndex);

    /// <summary>The stored layout for a full layout (member info, times and attributes unchanged).</summary>
    public EnsembleLayout Apply(EnsembleLayout full)
    {
        var b = Bind(full);
        _bound = b;
        return b.Selected;
    }

    /// <summary>Cuts [b, C, H, W] (C, H, W of the layout last given to <see cref="Apply"/>) to [b, V, lat, lon].</summary>
    public Tensor Select(Tensor fields)
    {
        var b = _bound ?? throw new InvalidOperationException("OutputSelection.Select needs Apply(fullLayout) first");
        return Cut(fields, b);
    }

    /// <summary>Cuts [b, C, H, W] of <paramref name="full"/> to the selected [b, V, lat, lon].</summary>
    public Tensor Select(Tensor fields, EnsembleLayout full) => Cut(fields, _bound is { } b && ReferenceEquals(b.Full, full) ? b : Bind(full));

    /// <summary>Channel indices (into the full layout's variables) of the stored variables.</summary>
    public long[] ChannelIndices(EnsembleLayout full) => (_bound is { } b && ReferenceEquals(b.Full, full) ? b : Bind(full)).Channels;

    static Tensor Cut(Tensor fields, Indices b)
    {
        var full = b.Full;
        if (fields.dim() != 4 || fields.shape[1] != full.Variables.Count || fields.shape[2] != full.Nlat || fields.shape[3] != full.Nlon)
            throw new EnsembleException($"output selection: fields [{string.Join(", ", fields.shape)}] are not [b, {full.Variables.Count}, {full.Nlat}, {full.Nlon}]");
        using var scope = NewDisposeScope();
        var dev = fields.device;
        Tensor t = fields;
        if (!IsIdentity(b.Channels, full.Variables.Count)) t = t.index_select(1, tensor(b.Channels, device: dev));
        if (!IsIdentity(b.LatIndex, full.Nlat)) t = t.index_select(2, tensor(b.LatIndex, device: dev));
        if (!IsIdentity(b.LonIndex, full.Nlon)) t = t.index_select(3, tensor(b.LonIndex, device: dev));
        return (ReferenceEquals(t, fields) ? fields.alias() : t).MoveToOuterDisposeScope();
    }

    static bool IsIdentity(long[] idx, int n)
    {
        if (idx.Length != n) return false;
        for (int i = 0; i < n; i++) if (idx[i] != i) return false;
        return true;
    }

    Indices Bind(EnsembleLayout full)
    {
        full.Validate("output selection");
        long[] channels;
        if (Variables is null) channels = Enumerable.Range(0, full.Variables.Count).Select(i => (long)i).ToArray();
        else
        {
            var missing = Variables.Where(v => full.VariableIndex(v) < 0).ToList();
            if (missing.Count > 0)
                throw new EnsembleException($"output selection: variable(s) {string.Join(", ", missing)} not in the model output ({string.Join(", ", full.Variables)})");
            channels = Variables.Select(v => (long)full.VariableIndex(v)).ToArray();
        }
        IReadOnlyList<double> leads = full.LeadTimeHours;
        if (LeadHours is not null)
        {
            var missing = LeadHours.Where(h => full.LeadIndex(h) < 0).ToList();
            if (missing.Count > 0)
                throw new EnsembleException($"output selection: lead time(s) {string.Join(", ", missing)} h not produced (leads: {string.Join(", ", full.LeadTimeHours)} h)");
            leads = full.LeadTimeHours.Where(h => LeadHours.Any(x => Math.Abs(x - h) < 1e-9)).ToArray();
        }
        var latIdx = Enumerable.Range(0, full.Nlat).Where(i => Crop is null || (full.Lat[i] >= Crop.LatMin && full.Lat[i] <= Crop.LatMax)).ToArray();
        var (lonIdx, lonValues) = SelectLongitudes(full.Lon);
        latIdx = latIdx.Where((_, k) => k % Stride == 0).ToArray();
        var lonKeep = Enumerable.Range(0, lonIdx.Length).Where(k => k % Stride == 0).ToArray();
        if (latIdx.Length == 0 || lonKeep.Length == 0)
            throw new EnsembleException($"output selection: crop box {Crop} contains no grid points (lat {full.Lat[0]}…{full.Lat[^1]}, lon {full.Lon[0]}…{full.Lon[^1]})");
        var selected = full with
        {
            Variables = channels.Select(c => full.Variables[(int)c]).ToArray(),
            Units = channels.Select(c => full.Variables[(int)c]).Where(full.Units.ContainsKey).ToDictionary(v => v, v => full.Units[v]),
            LeadTimeHours = leads,
            Lat = latIdx.Select(i => full.Lat[i]).ToArray(),
            Lon = lonKeep.Select(k => lonValues[k]).ToArray(),
        };
        return new Indices(full, selected, channels, latIdx.Select(i => (long)i).ToArray(), lonKeep.Select(k => (long)lonIdx[k]).ToArray());
    }

    /// <summary>Longitudes in the box, ordered eastward from LonMin; wrapped values shifted by 360 so they increase.</summary>
    (int[] Index, double[] Values) SelectLongitudes(double[] lon)
    {
        if (Crop is null) return (Enumerable.Range(0, lon.Length).ToArray(), lon);
        double span = Mod360(Crop.LonMax - Crop.LonMin);
        bool full = span == 0 && Crop.LonMax != Crop.LonMin;
        var picked = new List<(int I, double D)>();
        for (int i = 0; i < lon.Length; i++)
        {
            double d = Mod360(lon[i] - Crop.LonMin);
            if (full || d <= span + 1e-9) picked.Add((i, d));
        }
        bool increasing = lon.Zip(lon.Skip(1)).All(p => p.Second > p.First);
        if (!increasing) return (picked.Select(p => p.I).ToArray(), picked.Select(p => lon[p.I]).ToArray());
        var ordered = picked.OrderBy(p => p.D).ToList();
        // Express each longitude in [LonMin, LonMin + 360): the grid's own values unless the box wraps.
        var values = ordered.Select(p =>
        {
            double v = lon[p.I];
            while (v < Crop.LonMin - 1e-9) v += 360;
            while (v >= Crop.LonMin + 360 - 1e-9) v -= 360;
            return v;
        }).ToArray();
        return (ordered.Select(p => p.I).ToArray(), values);
    }

    static double Mod360(double x)
    {
        double m = x % 360;
        return m < 0 ? m + 360 : m;
    }
}
