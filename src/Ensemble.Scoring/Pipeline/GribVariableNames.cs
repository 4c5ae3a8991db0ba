using Ensemble.Data.Grib;

namespace Ensemble.Scoring.Pipeline;

/// <summary>
/// Our variable names (earth2studio vocabulary) for GRIB fields: pressure levels are shortName + hPa
/// (t, 850 → t850; z, 500 → z500); the single-level ECMWF short names with a height in them are renamed
/// (2t → t2m, 10u → u10m, prmsl → msl …); other levels keep shortName + level (pv on 320 K → pv320).
/// </summary>
public static class GribVariableNames
{
    static readonly Dictionary<string, string> SingleLevel = new()
    {
        ["2t"] = "t2m", ["2d"] = "d2m", ["2r"] = "r2m", ["2q"] = "q2m", ["2sh"] = "q2m",
        ["10u"] = "u10m", ["10v"] = "v10m", ["100u"] = "u100m", ["100v"] = "v100m",
        ["prmsl"] = "msl", ["msl"] = "msl", ["sp"] = "sp", ["tcwv"] = "tcwv", ["tp"] = "tp", ["sst"] = "sst",
    };

    public static string Of(GribMessage m)
    {
        if (m.TypeOfLevel is "isobaricInhPa")
            return $"{m.ShortName}{m.Level.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        if (m.TypeOfLevel is "isobaricInPa")
            return $"{m.ShortName}{(m.Level / 100).ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        if (SingleLevel.TryGetValue(m.ShortName, out var name)) return name;
        if (m.TypeOfLevel is "surface" or "meanSea" or "heightAboveGround" or "entireAtmosphere" or "" || m.Level == 0)
            return m.ShortName;
        return $"{m.ShortName}{m.Level.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
