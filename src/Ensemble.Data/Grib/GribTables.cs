namespace Ensemble.Data.Grib;

/// <summary>
/// Code tables needed to name what a GRIB message holds: centres, MARS types/streams, level types and the
/// parameter → shortName/paramId mapping (ECMWF tables for GRIB1, WMO discipline/category/number for GRIB2).
/// Names follow ecCodes so keys can be compared with grib_ls / the reference CSVs.
/// </summary>
internal static class GribTables
{
    static readonly Dictionary<int, string> Centres = new()
    {
        [1] = "ammc", [7] = "kwbc", [8] = "kwbc", [34] = "rjtd", [38] = "babj", [40] = "rksl", [46] = "sbsj",
        [54] = "cwao", [58] = "fnmo", [74] = "egrr", [78] = "edzw", [80] = "cnmc", [82] = "eswi", [84] = "lfpw",
        [85] = "lfpw", [86] = "efkl", [94] = "ekmi", [98] = "ecmf", [214] = "lemm", [215] = "lssw",
    };

    public static string CentreName(int centre) => Centres.TryGetValue(centre, out var s) ? s : centre.ToString();

    /// <summary>MARS type codes (ecCodes mars/type.table) used in the ECMWF local extension.</summary>
    static readonly Dictionary<int, string> MarsTypes = new()
    {
        [1] = "fg", [2] = "an", [3] = "ia", [4] = "oi", [5] = "3v", [6] = "4v", [7] = "3g", [8] = "4g", [9] = "fc",
        [10] = "cf", [11] = "pf", [12] = "ef", [13] = "ea", [14] = "cm", [15] = "cs", [16] = "fp", [17] = "em",
        [18] = "es", [19] = "fa", [20] = "cl", [21] = "si", [22] = "s3", [23] = "ed", [24] = "tu", [25] = "ff",
        [26] = "of", [27] = "efi", [28] = "efic", [29] = "pb", [30] = "ep", [31] = "bf", [32] = "cd", [33] = "4i",
        [34] = "go", [35] = "me", [36] = "pd", [37] = "ci", [38] = "sot", [60] = "pa", [61] = "icp", [62] = "sv",
        [63] = "as", [64] = "svar", [65] = "cv", [70] = "or", [71] = "fx", [80] = "fcmean", [81] = "fcmax",
        [82] = "fcmin", [83] = "fcstdev", [84] = "emtm", [85] = "estdtm", [86] = "hcmean",
    };

    public static string MarsType(int code) => MarsTypes.TryGetValue(code, out var s) ? s : code.ToString();

    static readonly Dictionary<int, string> MarsStreams = new()
    {
        [1025] = "oper", [1026] = "scda", [1030] = "enda", [1033] = "enfh", [1035] = "enfo", [1043] = "mnth",
        [1045] = "wave", [1090] = "seas", [1091] = "sfmm", [1093] = "mofc", [1094] = "mofm", [1220] = "mmsf",
        [1221] = "msmm", [1122] = "eefo", [1071] = "moda", [1247] = "lwda",
    };

    public static string MarsStream(int code) => MarsStreams.TryGetValue(code, out var s) ? s : code.ToString();

    static readonly Dictionary<int, string> MarsClasses = new()
    {
        [1] = "od", [2] = "rd", [3] = "er", [4] = "cs", [5] = "e4", [8] = "dm", [9] = "pv", [10] = "el",
        [11] = "to", [12] = "co", [13] = "en", [14] = "ps", [15] = "ms", [16] = "rm", [17] = "ma", [18] = "yt",
        [19] = "mc", [20] = "pe", [21] = "em", [22] = "e2", [23] = "ea", [24] = "ep", [25] = "rr", [26] = "s2",
        [27] = "j5", [28] = "ur", [29] = "uerra", [30] = "ce", [31] = "c3", [32] = "lw",
    };

    public static string MarsClass(int code) => MarsClasses.TryGetValue(code, out var s) ? s : code.ToString();

    /// <summary>GRIB2 code table 1.4 (type of processed data) as ecCodes' dataType abbreviations.</summary>
    public static string Grib2DataType(int typeOfProcessedData) => typeOfProcessedData switch
    {
        0 => "an", 1 => "fc", 2 => "af", 3 => "cf", 4 => "pf", 5 => "cp", 6 => "sa", 7 => "ra", 8 => "ep",
        _ => typeOfProcessedData.ToString(),
    };

    /// <summary>GRIB1 table 3 (indicatorOfTypeOfLevel) → ecCodes typeOfLevel; layer types use octets 11 and 12 separately.</summary>
    public static (string Name, bool IsLayer) Grib1LevelType(int code) => code switch
    {
        1 => ("surface", false), 2 => ("cloudBase", false), 3 => ("cloudTop", false), 4 => ("isothermZero", false),
        5 => ("adiabaticCondensation", false), 6 => ("maxWind", false), 7 => ("tropopause", false),
        8 => ("nominalTop", false), 9 => ("seaBottom", false), 20 => ("isothermal", false),
        100 => ("isobaricInhPa", false), 101 => ("isobaricLayer", true), 102 => ("meanSea", false),
        103 => ("heightAboveSea", false), 104 => ("heightAboveSeaLayer", true), 105 => ("heightAboveGround", false),
        106 => ("heightAboveGroundLayer", true), 107 => ("sigma", false), 108 => ("sigmaLayer", true),
        109 => ("hybrid", false), 110 => ("hybridLayer", true), 111 => ("depthBelowLand", false),
        112 => ("depthBelowLandLayer", true), 113 => ("theta", false), 114 => ("thetaLayer", true),
        115 => ("pressureFromGround", false), 116 => ("pressureFromGroundLayer", true),
        117 => ("potentialVorticity", false), 160 => ("depthBelowSea", false), 200 => ("entireAtmosphere", false),
        201 => ("entireOcean", false), 210 => ("isobaricInPa", false),
        _ => (code.ToString(), false),
    };

    /// <summary>GRIB2 code table 4.5 (type of fixed surface) → ecCodes typeOfLevel.</summary>
    public static string Grib2LevelType(int code) => code switch
    {
        1 => "surface", 2 => "cloudBase", 3 => "cloudTop", 4 => "isothermZero", 5 => "adiabaticCondensation",
        6 => "maxWind", 7 => "tropopause", 8 => "nominalTop", 9 => "seaBottom", 10 => "entireAtmosphere",
        20 => "isothermal", 100 => "isobaricInhPa", 101 => "meanSea", 102 => "heightAboveSea",
        103 => "heightAboveGround", 104 => "sigma", 105 => "hybrid", 106 => "depthBelowLand", 107 => "theta",
        108 => "pressureFromGround", 109 => "potentialVorticity", 111 => "eta", 150 => "generalVertical",
        151 => "soil", 160 => "depthBelowSea", 200 => "entireAtmosphere",
        _ => code.ToString(),
    };

    /// <summary>ECMWF parameter ids whose shortName is known here (GRIB1 table 128 = id, other tables = table·1000 + number).</summary>
    static readonly Dictionary<int, string> EcmwfShortNames = new()
    {
        [1] = "strf", [2] = "vp", [3] = "pt", [10] = "ws", [31] = "ci", [34] = "sst", [39] = "swvl1", [40] = "swvl2",
        [41] = "swvl3", [42] = "swvl4", [49] = "10fg", [51] = "mx2t24", [52] = "mn2t24", [54] = "pres", [59] = "cape",
        [60] = "pv", [121] = "mx2t6", [122] = "mn2t6", [123] = "10fg6", [129] = "z", [130] = "t", [131] = "u",
        [132] = "v", [133] = "q", [134] = "sp", [135] = "w", [136] = "tcw", [137] = "tcwv", [138] = "vo",
        [139] = "stl1", [141] = "sd", [142] = "lsp", [143] = "cp", [144] = "sf", [146] = "sshf", [147] = "slhf",
        [151] = "msl", [152] = "lnsp", [155] = "d", [156] = "gh", [157] = "r", [159] = "blh", [164] = "tcc",
        [165] = "10u", [166] = "10v", [167] = "2t", [168] = "2d", [169] = "ssrd", [172] = "lsm", [175] = "strd",
        [176] = "ssr", [177] = "str", [178] = "tsr", [179] = "ttr", [186] = "lcc", [187] = "mcc", [188] = "hcc",
        [201] = "mx2t", [202] = "mn2t", [228] = "tp", [235] = "skt", [246] = "clwc", [247] = "ciwc", [248] = "cc",
        [228026] = "mx2t3", [228027] = "mn2t3", [228028] = "10fg3", [228029] = "i10fg", [228246] = "100u",
        [228247] = "100v", [260074] = "prmsl",
    };

    /// <summary>WMO GRIB1 table 2 (versions 1–3) for centres without an ECMWF-style local table.</summary>
    static readonly Dictionary<int, int> WmoTable2ToParamId = new()
    {
        [1] = 54, [2] = 260074, [6] = 129, [7] = 156, [11] = 130, [33] = 131, [34] = 132, [39] = 135, [51] = 133, [52] = 157,
    };

    public static string ShortName(int? paramId) =>
        paramId is int id && EcmwfShortNames.TryGetValue(id, out var s) ? s : "unknown";

    /// <summary>GRIB1 paramId from table version and indicatorOfParameter (ecCodes conventions).</summary>
    public static int? Grib1ParamId(int table2Version, int parameter, bool ecmwfTables)
    {
        if (table2Version >= 128 && ecmwfTables)
            return table2Version == 128 ? parameter : table2Version * 1000 + parameter;
        if (table2Version <= 3)
            return WmoTable2ToParamId.TryGetValue(parameter, out int id) ? id : null;
        return null;
    }

    /// <summary>
    /// GRIB2 (discipline, category, number) plus the level and statistics that ecCodes uses to tell e.g. 2t from t
    /// or 10fg3 from i10fg. Returns null when the combination is not in this table.
    /// </summary>
    public static int? Grib2ParamId(int discipline, int category, int number, int levelType, double levelValue,
        int? statistic, TimeSpan? statisticLength)
    {
        if (discipline != 0) return null;
        bool at2m = levelType == 103 && levelValue == 2, at10m = levelType == 103 && levelValue == 10;
        return (category, number) switch
        {
            (0, 0) when at2m && statistic is null => 167,
            (0, 0) => 130,
            (0, 6) when at2m => 168,
            (0, 17) when levelType == 1 => 235,
            (1, 0) => 133,
            (1, 1) => 157,
            (1, 8) when statistic == 1 => 228,
            (2, 2) when at10m => 165,
            (2, 2) => 131,
            (2, 3) when at10m => 166,
            (2, 3) => 132,
            (2, 8) => 135,
            (2, 12) => 138,
            (2, 13) => 155,
            (2, 14) => 60,
            (2, 22) when at10m && statistic == 2 && statisticLength == TimeSpan.FromHours(3) => 228028,
            (2, 22) when at10m && statistic == 2 && statisticLength == TimeSpan.FromHours(6) => 123,
            (2, 22) when at10m && statistic is null => 228029,
            (3, 0) when levelType == 101 => 151,
            (3, 0) when levelType == 1 => 134,
            (3, 0) => 54,
            (3, 1) => 260074,
            (3, 4) => 129,
            (3, 5) => 156,
            _ => null,
        };
    }

    /// <summary>GRIB2 code table 4.10 → ecCodes stepType.</summary>
    public static string StatisticName(int code) => code switch
    {
        0 => "avg", 1 => "accum", 2 => "max", 3 => "min", 4 => "diff", 5 => "rms", 6 => "sd", 7 => "cov",
        _ => code.ToString(),
    };

    /// <summary>Unit of a forecast time: GRIB1 table 4 / GRIB2 code table 4.4. Months and longer have no fixed length.</summary>
    public static TimeSpan? TimeUnit(int edition, int code) => code switch
    {
        0 => TimeSpan.FromMinutes(1),
        1 => TimeSpan.FromHours(1),
        2 => TimeSpan.FromDays(1),
        10 => TimeSpan.FromHours(3),
        11 => TimeSpan.FromHours(6),
        12 => TimeSpan.FromHours(12),
        13 when edition == 2 => TimeSpan.FromSeconds(1),
        13 when edition == 1 => TimeSpan.FromMinutes(15),
        14 when edition == 1 => TimeSpan.FromMinutes(30),
        254 when edition == 1 => TimeSpan.FromSeconds(1),
        _ => null,
    };

    public static string TimeUnitName(int code) => code switch
    {
        3 => "month", 4 => "year", 5 => "decade", 6 => "normal (30 years)", 7 => "century", 255 => "missing",
        _ => $"code {code}",
    };

    /// <summary>Names of grid templates for error messages (GRIB1 table 6 / GRIB2 table 3.1).</summary>
    public static string Grib1GridName(int code) => code switch
    {
        0 => "regular lat/lon", 1 => "Mercator", 3 => "Lambert conformal", 4 => "Gaussian", 5 => "polar stereographic",
        10 => "rotated lat/lon", 14 => "rotated Gaussian", 50 => "spherical harmonics", 60 => "rotated spherical harmonics",
        90 => "space view", _ => "unknown",
    };

    public static string Grib2GridName(int template) => template switch
    {
        0 => "regular lat/lon", 1 => "rotated lat/lon", 10 => "Mercator", 20 => "polar stereographic",
        30 => "Lambert conformal", 40 => "Gaussian", 41 => "rotated Gaussian", 50 => "spherical harmonics",
        90 => "space view", 101 => "unstructured", 140 => "Lambert azimuthal equal area", _ => "unknown",
    };

    public static string Grib2PackingName(int template) => template switch
    {
        0 => "simple packing", 2 => "complex packing", 3 => "complex packing with spatial differencing",
        4 => "IEEE floating point", 40 => "JPEG2000", 41 => "PNG", 42 => "CCSDS", 50 => "spectral simple",
        51 => "spectral complex", 200 => "run length", _ => "unknown",
    };
}
