using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;

namespace Ensemble.Data.Conversion;

/// <summary>
/// The output layout of a conversion and, for every output variable, the source that owns it: union of the sources'
/// times and lead times, the largest member count, the selected variables (each from exactly one source) on the one grid.
/// </summary>
internal sealed class ConversionPlan
{
    ConversionPlan(IReadOnlyList<IConversionSource> sources, EnsembleLayout layout, int[] owner)
    {
        Sources = sources;
        Layout = layout;
        Owner = owner;
    }

    public IReadOnlyList<IConversionSource> Sources { get; }
    public EnsembleLayout Layout { get; }
    /// <summary>Index into <see cref="Sources"/> of each output variable.</summary>
    public int[] Owner { get; }

    public static ConversionPlan Build(IReadOnlyList<IConversionSource> sources, ConversionOptions options, string output)
    {
        var first = sources[0].Layout;
        var ownerOf = new Dictionary<string, int>();
        for (int i = 0; i < sources.Count; i++)
        {
            var l = sources[i].Layout;
            if (i > 0) RequireSameGrid(sources[0], sources[i]);
            foreach (var v in l.Variables)
                if (!ownerOf.TryAdd(v, i))
                    throw new EnsembleException($"variable '{v}' is in both {sources[ownerOf[v]].Name} and {sources[i].Name}; convert them separately or select variables");
        }
        if (ownerOf.Count == 0) throw new EnsembleException($"{string.Join(", ", sources.Select(s => s.Name))}: no variables to convert");

        IReadOnlyList<string> variables;
        if (options.Variables is { Count: > 0 } wanted)
        {
            foreach (var w in wanted)
                if (!ownerOf.ContainsKey(w))
                    throw new EnsembleException($"--variables: no variable '{w}' in the input (has: {string.Join(", ", ownerOf.Keys.Order(StringComparer.Ordinal))})");
            variables = wanted.Distinct().ToList();
        }
        else variables = sources.SelectMany(s => s.Layout.Variables).ToList();

        var units = new Dictionary<string, string>();
        foreach (var v in variables)
            if (sources[ownerOf[v]].Layout.Units.TryGetValue(v, out var u)) units[v] = u;
        var used = variables.Select(v => ownerOf[v]).Distinct().Order().ToArray();
        var times = used.SelectMany(i => sources[i].Layout.Times).Distinct().Order().ToList();
        var leads = used.SelectMany(i => sources[i].Layout.LeadTimeHours).Distinct().Order().ToList();
        int members = used.Max(i => sources[i].Layout.Members);
        IReadOnlyList<EnsembleMemberInfo>? info = sources[used[0]].Layout.MemberInfo;
        foreach (var i in used.Skip(1))
            if (info is null || sources[i].Layout.MemberInfo is not { } other || !other.SequenceEqual(info)) info = null;
        if (info is not null && info.Count != members) info = null;

        var attrs = new Dictionary<string, string>();
        foreach (var i in used)
            foreach (var (k, v) in sources[i].Layout.Attributes) attrs.TryAdd(k, v);
        attrs["source_files"] = string.Join(", ", sources.Select(s => s.Name).Select(n => string.Join(", ", n.Split(", ").Select(p => Path.GetFileName(p.TrimEnd('/', '\\'))))));
        if (options.Model is not null) attrs["model"] = options.Model;

        var layout = new EnsembleLayout(variables, units, times, leads, members, first.Lat, first.Lon, info, attrs);
        layout.Validate(output);
        return new ConversionPlan(sources, layout, variables.Select(v => ownerOf[v]).ToArray());
    }

    static void RequireSameGrid(IConversionSource a, IConversionSource b)
    {
        var (la, lb) = (a.Layout, b.Layout);
        bool same = la.Nlat == lb.Nlat && la.Nlon == lb.Nlon
            && la.Lat.Zip(lb.Lat).All(p => Math.Abs(p.First - p.Second) <= 1e-6 * Math.Max(1, Math.Abs(p.First)))
            && la.Lon.Zip(lb.Lon).All(p => Math.Abs(p.First - p.Second) <= 1e-6 * Math.Max(1, Math.Abs(p.First)));
        if (!same)
            throw new EnsembleException($"grids differ: {a.Name} is {la.Nlon}×{la.Nlat} (lat {la.Lat[0]}→{la.Lat[^1]}, lon {la.Lon[0]}→{la.Lon[^1]}), {b.Name} is {lb.Nlon}×{lb.Nlat} (lat {lb.Lat[0]}→{lb.Lat[^1]}, lon {lb.Lon[0]}→{lb.Lon[^1]})");
    }

    /// <summary>Every output (member, time, lead) slot with data, and which source slots fill it.</summary>
    public List<((int Member, int Time, int Lead) Slot, List<(int Source, int Member, int Time, int Lead)> Parts)> Slots()
    {
        var map = new SortedDictionary<(int, int, int), List<(int, int, int, int)>>();
        var used = Owner.Distinct();
        foreach (int i in used)
        {
            var l = Sources[i].Layout;
            var tMap = l.Times.Select(Layout.TimeIndex).ToArray();
            var sMap = l.LeadTimeHours.Select(Layout.LeadIndex).ToArray();
            foreach (var (m, t, s) in Sources[i].Slots())
            {
                var key = (m, tMap[t], sMap[s]);
                if (!map.TryGetValue(key, out var list)) map[key] = list = [];
                list.Add((i, m, t, s));
            }
        }
        return map.Select(kv => (kv.Key, kv.Value)).ToList();
    }
}
