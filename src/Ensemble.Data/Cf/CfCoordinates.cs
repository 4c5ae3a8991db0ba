namespace Ensemble.Data.Cf;

/// <summary>
/// CF attributes of the coordinates we write for (ensemble, time, lead_time, lat, lon) outputs, shared by
/// the netCDF-4 and zarr writers. time: "hours since &lt;reference&gt;" (proleptic Gregorian) decoding to
/// datetime64; lead_time: bare "hours", which xarray decodes to timedelta64.
/// </summary>
public static class CfCoordinates
{
    public static Dictionary<string, object> Ensemble() => new()
    {
        ["long_name"] = "ensemble member", ["standard_name"] = "realization",
    };

    public static Dictionary<string, object> Time(DateTime reference) => new()
    {
        ["units"] = CfTimeUnits.HoursSince(reference).UnitsString, ["calendar"] = "proleptic_gregorian",
        ["standard_name"] = "forecast_reference_time", ["long_name"] = "initial time",
    };

    public static Dictionary<string, object> LeadTime() => new()
    {
        ["units"] = "hours", ["standard_name"] = "forecast_period", ["long_name"] = "lead time",
    };

    public static Dictionary<string, object> Latitude() => new()
    {
        ["units"] = "degrees_north", ["standard_name"] = "latitude", ["long_name"] = "latitude", ["axis"] = "Y",
    };

    public static Dictionary<string, object> Longitude() => new()
    {
        ["units"] = "degrees_east", ["standard_name"] = "longitude", ["long_name"] = "longitude", ["axis"] = "X",
    };

    /// <summary>Hours of each time since the reference (exact for whole seconds).</summary>
    public static double[] HoursSince(DateTime reference, IEnumerable<DateTime> times)
    {
        var u = CfTimeUnits.HoursSince(reference);
        return times.Select(u.Encode).ToArray();
    }
}
