using Ensemble.Data.EnsembleOutput;

namespace Ensemble.Data.Conversion;

/// <summary>A store already in our ensemble layout (zarr v2 folder or netCDF-4 file), copied field by field.</summary>
internal sealed class EnsembleStoreSource : IConversionSource
{
    /// <summary>Root attributes the writer sets itself (so a copy names the software that wrote it).</summary>
    static readonly string[] Regenerated = ["Conventions", "software", "software_version"];

    readonly IEnsembleReader _reader;

    public EnsembleStoreSource(string path, string? model)
    {
        Name = path;
        _reader = EnsembleStore.Open(path);
        var l = _reader.Layout;
        var attrs = l.Attributes.Where(a => !Regenerated.Contains(a.Key)).ToDictionary(a => a.Key, a => a.Value);
        if (model is not null) attrs["model"] = model;
        Layout = l with { Attributes = attrs };
    }

    public string Name { get; }
    public EnsembleLayout Layout { get; }

    public IEnumerable<(int Member, int Time, int Lead)> Slots()
    {
        for (int m = 0; m < Layout.Members; m++)
            for (int t = 0; t < Layout.Times.Count; t++)
                for (int s = 0; s < Layout.LeadTimeHours.Count; s++)
                    yield return (m, t, s);
    }

    /// <summary>The stored field; null when it is all NaN (never written), so the copy leaves that chunk absent too.</summary>
    public float[]? Read(string variable, int member, int time, int lead)
    {
        var f = _reader.ReadField(variable, member, time, lead);
        foreach (var x in f) if (!float.IsNaN(x)) return f;
        return null;
    }

    public void Dispose() => _reader.Dispose();
}
