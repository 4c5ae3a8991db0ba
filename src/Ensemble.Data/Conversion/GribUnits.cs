namespace Ensemble.Data.Conversion;

/// <summary>
/// CF-style units of the common ECMWF parameters (ecCodes' parameter database), by shortName. GRIB messages do not
/// carry units, so the converter labels the fields it knows and leaves the others without a units attribute.
/// </summary>
internal static class GribUnits
{
    static readonly Dictionary<string, string> ByShortName = new()
    {
        ["t"] = "K", ["2t"] = "K", ["2d"] = "K", ["sst"] = "K", ["skt"] = "K", ["mx2t"] = "K", ["mn2t"] = "K",
        ["z"] = "m**2 s**-2", ["gh"] = "gpm",
        ["u"] = "m s**-1", ["v"] = "m s**-1", ["10u"] = "m s**-1", ["10v"] = "m s**-1", ["100u"] = "m s**-1", ["100v"] = "m s**-1",
        ["10fg"] = "m s**-1", ["10fg3"] = "m s**-1", ["10fg6"] = "m s**-1", ["i10fg"] = "m s**-1", ["ws"] = "m s**-1",
        ["w"] = "Pa s**-1", ["pv"] = "K m**2 kg**-1 s**-1", ["vo"] = "s**-1", ["d"] = "s**-1",
        ["msl"] = "Pa", ["prmsl"] = "Pa", ["sp"] = "Pa",
        ["q"] = "kg kg**-1", ["r"] = "%", ["2r"] = "%", ["tcwv"] = "kg m**-2", ["tcw"] = "kg m**-2",
        ["tp"] = "m", ["cp"] = "m", ["lsp"] = "m", ["sf"] = "m of water equivalent", ["tcc"] = "(0 - 1)",
    };

    public static string? Of(string shortName) => ByShortName.GetValueOrDefault(shortName);
}
