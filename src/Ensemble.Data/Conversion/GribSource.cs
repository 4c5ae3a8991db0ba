using System.Globalization;
using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Data.Grib;

namespace Ensemble.Data.Conversion;

/// <summary>
/// GRIB1/2 messages of one or more files as an ensemble: variable = the caller's name for the message (shortName with
/// its level, e.g. t850), member = ensemble member number (control and deterministic/analysis fields without one = 0),
/// initial time = reference time, lead time = step (end of a step range). Every message must be on the same grid and
/// every (variable, member, time, lead) may occur once; combinations without a message stay NaN.
/// </summary>
internal sealed class GribSource : IConversionSource
{
    readonly List<GribFile> _files = [];
    readonly Dictionary<(string Variable, int Member, int Time, int Lead), GribMessage> _fields = [];

    public GribSource(IReadOnlyList<string> paths, Func<GribMessage, string> variableName, string? model)
    {
        Name = string.Join(", ", paths);
        try
        {
            var all = new List<(string Path, GribMessage Message, string Variable)>();
            foreach (var p in paths)
            {
                var f = GribFile.Open(p);
                _files.Add(f);
                foreach (var m in f.Messages) all.Add((p, m, variableName(m)));
            }
            if (all.Count == 0) throw new EnsembleException($"{Name}: no GRIB messages");
            var (p0, m0, v0) = all[0];
            foreach (var (p, m, v) in all.Skip(1))
                if (!SameGrid(m0, m))
                    throw new EnsembleException($"{p}: message {m.Index} ({v}) is on the grid {Describe(m)} but {p0} message {m0.Index} ({v0}) is on {Describe(m0)}; convert them separately");

            var variables = all.Select(x => x.Variable).Distinct().Order(StringComparer.Ordinal).ToList();
            var memberNumbers = all.Select(x => Member(x.Message)).Distinct().Order().ToArray();
            var times = all.Select(x => DateTime.SpecifyKind(x.Message.ReferenceTime, DateTimeKind.Utc)).Distinct().Order().ToArray();
            var leads = all.Select(x => x.Message.Step.TotalHours).Distinct().Order().ToArray();
            var dataTypes = new string[memberNumbers.Length];
            foreach (var (p, m, v) in all)
            {
                int mi = Array.IndexOf(memberNumbers, Member(m));
                var key = (v, mi, Array.IndexOf(times, DateTime.SpecifyKind(m.ReferenceTime, DateTimeKind.Utc)), Array.IndexOf(leads, m.Step.TotalHours));
                if (_fields.TryGetValue(key, out var other))
                    throw new EnsembleException($"{p}: message {m.Index} repeats '{v}' member {Member(m)} init {m.ReferenceTime:yyyy-MM-dd HH:mm} step {m.StepRange} (message {other.Index} has the same keys)");
                _fields[key] = m;
                dataTypes[mi] ??= m.DataType;
            }
            var units = new Dictionary<string, string>();
            foreach (var g in all.GroupBy(x => x.Variable))
                if (GribUnits.Of(g.First().Message.ShortName) is { } u) units[g.Key] = u;

            var grid = m0.ToGrid();
            string modelName = model ?? System.IO.Path.GetFileNameWithoutExtension(paths[0]);
            // pair holds the GRIB member number (perturbationNumber) so it survives when the numbers are not 0..M-1.
            var info = memberNumbers.Select((n, i) => new EnsembleMemberInfo(0, modelName, dataTypes[i], n, 0, 0)).ToArray();
            var attrs = new Dictionary<string, string>
            {
                ["model"] = modelName,
                ["source_format"] = "GRIB",
                ["grib_member_numbers"] = string.Join(" ", memberNumbers.Select(n => n.ToString(CultureInfo.InvariantCulture))),
            };
            Layout = new EnsembleLayout(variables, units, times, leads, memberNumbers.Length, grid.Latitudes, grid.Longitudes, info, attrs);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }
    public EnsembleLayout Layout { get; }

    static int Member(GribMessage m) => m.PerturbationNumber ?? 0;

    static bool SameGrid(GribMessage a, GribMessage b) =>
        a.Ni == b.Ni && a.Nj == b.Nj && a.ScanningMode == b.ScanningMode
        && Near(a.La1, b.La1) && Near(a.Lo1, b.Lo1) && Near(a.La2, b.La2) && Near(a.Lo2, b.Lo2) && Near(a.Di, b.Di) && Near(a.Dj, b.Dj);

    static bool Near(double x, double y) => Math.Abs(x - y) <= 1e-6 * Math.Max(1, Math.Abs(x));

    static string Describe(GribMessage m) =>
        string.Create(CultureInfo.InvariantCulture, $"{m.Ni}×{m.Nj} (lat {m.La1}→{m.La2}, lon {m.Lo1}→{m.Lo2})");

    public IEnumerable<(int Member, int Time, int Lead)> Slots() =>
        _fields.Keys.Select(k => (k.Member, k.Time, k.Lead)).Distinct().Order();

    public float[]? Read(string variable, int member, int time, int lead) =>
        _fields.TryGetValue((variable, member, time, lead), out var m) ? Array.ConvertAll(m.ToGrid().Values, x => (float)x) : null;

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }
}
