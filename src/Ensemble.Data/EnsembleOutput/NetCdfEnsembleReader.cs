using Ensemble.Core;
using Ensemble.Data.NetCdf;

namespace Ensemble.Data.EnsembleOutput;

/// <summary>Reads a netCDF file of the ensemble layout (what <see cref="EnsembleStore.ToNetCdf"/> writes).</summary>
internal sealed class NetCdfEnsembleReader : IEnsembleReader
{
    public const string ModelAttribute = "member_model", PerturbationAttribute = "member_perturbation";
    readonly NetCdfFile _nc;

    public NetCdfEnsembleReader(string path)
    {
        _nc = NetCdfFile.Open(path);
        Path = path;
        try { Layout = ReadLayout(); }
        catch { _nc.Dispose(); throw; }
    }

    public string Path { get; }
    public string Format => _nc.Format == "NETCDF4" ? "netcdf4" : "netcdf3";
    public EnsembleLayout Layout { get; }

    EnsembleLayout ReadLayout()
    {
        List<string> variables = _nc.GlobalAttribute(EnsembleZarrLayout.VariablesAttribute)?.Text is { } names
            ? names.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList()
            : _nc.Variables.Where(v => v.Dimensions.SequenceEqual(EnsembleLayout.Dimensions)).Select(v => v.Name).ToList();
        if (variables.Count == 0)
            throw new EnsembleException($"{Path}: no variable with dimensions ({string.Join(", ", EnsembleLayout.Dimensions)})");
        var units = new Dictionary<string, string>();
        foreach (var name in variables)
        {
            var v = _nc.Variable(name);
            if (!v.Dimensions.SequenceEqual(EnsembleLayout.Dimensions))
                throw new EnsembleException($"{Path}: variable '{name}' has dimensions ({string.Join(", ", v.Dimensions)}), not ({string.Join(", ", EnsembleLayout.Dimensions)})");
            if (v.TextAttribute("units") is { } u) units[name] = u;
        }
        var times = _nc.Times("time");
        var leads = _nc.Durations("lead_time").Select(d => d.TotalHours).ToArray();
        int members = checked((int)_nc.Dimension("ensemble").Length);
        IReadOnlyList<EnsembleMemberInfo>? info = null;
        if (new[] { "checkpoint", "pair", "sign", "seed" }.All(_nc.HasVariable))
        {
            var ck = _nc.ReadInt64("checkpoint");
            var model = MemberTexts(ModelAttribute, "model", members);
            var pert = MemberTexts(PerturbationAttribute, "perturbation", members);
            var pair = _nc.ReadInt64("pair");
            var sign = _nc.ReadInt64("sign");
            var seed = _nc.ReadInt64("seed");
            info = Enumerable.Range(0, members).Select(i => new EnsembleMemberInfo((int)ck[i], model[i], pert[i], (int)pair[i], (int)sign[i], seed[i])).ToArray();
        }
        var attrs = _nc.GlobalAttributes.Where(a => a.Name is not (EnsembleZarrLayout.VariablesAttribute or ModelAttribute or PerturbationAttribute))
            .ToDictionary(a => a.Name, a => a.Text ?? string.Join(" ", a.Numbers.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        return new EnsembleLayout(variables, units, times, leads, members, _nc.ReadDoubles("lat"), _nc.ReadDoubles("lon"), info, attrs);
    }

    /// <summary>Per-member text: a JSON-array global attribute (what we write) or a string variable.</summary>
    string[] MemberTexts(string attribute, string variable, int members)
    {
        string[] values;
        if (_nc.GlobalAttribute(attribute)?.Text is { } json)
        {
            try { values = System.Text.Json.JsonSerializer.Deserialize<string[]>(json) ?? []; }
            catch (System.Text.Json.JsonException e) { throw new EnsembleException($"{Path}: attribute '{attribute}' is not a JSON string array: {e.Message}"); }
        }
        else if (_nc.HasVariable(variable)) values = _nc.ReadStrings(variable);
        else values = new string[members];
        if (values.Length != members) throw new EnsembleException($"{Path}: '{attribute}' has {values.Length} entries for {members} members");
        return values.Select(v => v ?? "").ToArray();
    }

    string Check(string variable) => Layout.VariableIndex(variable) >= 0 ? variable
        : throw new EnsembleException($"{Path}: no variable '{variable}' (has: {string.Join(", ", Layout.Variables)})");

    public float[] ReadField(string variable, int member, int timeIndex, int leadIndex)
    {
        var l = Layout;
        long[] starts = [member, timeIndex, leadIndex, 0, 0], counts = [1, 1, 1, l.Nlat, l.Nlon];
        if (_nc is Netcdf4File h && h.Variable(Check(variable)).Type == NcType.Float && h.Variable(variable).Attributes.All(a => a.Name is "units" or "long_name" or "coordinates"))
            return h.ReadFloatSlab(variable, starts, counts);
        return Array.ConvertAll(_nc.ReadSlice(Check(variable), starts, counts), x => (float)x);
    }

    public TorchSharp.torch.Tensor Read(string variable)
    {
        var l = Layout;
        var values = _nc.ReadFloats(Check(variable));
        return TorchSharp.torch.tensor(values, [l.Members, l.Times.Count, l.LeadTimeHours.Count, l.Nlat, l.Nlon]);
    }

    public void Dispose() => _nc.Dispose();
}
