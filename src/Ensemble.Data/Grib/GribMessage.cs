using Ensemble.Core;

namespace Ensemble.Data.Grib;

/// <summary>
/// One GRIB field (a GRIB1 message, or one field of a GRIB2 message). Header keys are parsed when the file is
/// opened; values are read and unpacked only when <see cref="Values"/> is called.
/// </summary>
public sealed class GribMessage
{
    internal GribMessage(GribFile file, LatLonGrid grid, PackedField data)
    {
        File = file; Grid = grid; Data = data;
    }

    internal GribFile File { get; }
    internal LatLonGrid Grid { get; }
    internal PackedField Data { get; }

    /// <summary>0-based position in <see cref="GribFile.Messages"/>.</summary>
    public int Index { get; internal init; }
    /// <summary>1-based number of the GRIB message in the file (fields of one GRIB2 message share it).</summary>
    public int MessageNumber { get; internal init; }
    /// <summary>1-based field number inside a GRIB2 message (always 1 for GRIB1).</summary>
    public int FieldNumber { get; internal init; } = 1;
    /// <summary>Byte offset of the message's 'GRIB' marker in the file.</summary>
    public long Offset { get; internal init; }
    public long TotalLength { get; internal init; }

    public int Edition { get; internal init; }
    /// <summary>Originating centre as ecCodes abbreviates it (ecmf, kwbc, egrr …), or the code number.</summary>
    public string Centre { get; internal init; } = "";
    public int CentreCode { get; internal init; }
    public int SubCentre { get; internal init; }

    public string ShortName { get; internal init; } = "unknown";
    public int? ParamId { get; internal init; }
    public string TypeOfLevel { get; internal init; } = "";
    public double Level { get; internal init; }

    /// <summary>Reference (analysis / forecast start) time, UTC.</summary>
    public DateTime ReferenceTime { get; internal init; }
    /// <summary>Start of the step range (equal to <see cref="Step"/> for instantaneous fields).</summary>
    public TimeSpan StartStep { get; internal init; }
    /// <summary>Forecast step; for statistics over an interval the end of the interval (ecCodes' step/endStep).</summary>
    public TimeSpan Step { get; internal init; }
    /// <summary>ecCodes-style step range in hours: "78" or "69-72".</summary>
    public string StepRange { get; internal init; } = "0";
    /// <summary>instant, avg, accum, max, min, diff … (ecCodes stepType).</summary>
    public string StepType { get; internal init; } = "instant";
    public DateTime ValidTime => ReferenceTime + Step;

    /// <summary>Ensemble member ("number"): 0 for the control; null when the message has no ensemble information.</summary>
    public int? PerturbationNumber { get; internal init; }
    public int? NumberOfForecastsInEnsemble { get; internal init; }
    /// <summary>GRIB2 code table 4.6 (0/1 control, 2/3 perturbed), null for GRIB1.</summary>
    public int? TypeOfEnsembleForecast { get; internal init; }
    /// <summary>MARS-style data type: an, fc, cf, pf, fcmean … ("unknown" when the message does not say).</summary>
    public string DataType { get; internal init; } = "unknown";

    public string GridType => "regular_ll";
    public int Ni => Grid.Ni;
    public int Nj => Grid.Nj;
    public double La1 => Grid.La1;
    public double Lo1 => Grid.Lo1;
    public double La2 => Grid.La2;
    public double Lo2 => Grid.Lo2;
    public double Di => Grid.Di;
    public double Dj => Grid.Dj;
    public int ScanningMode => Grid.ScanningMode;
    public int NumberOfPoints => Grid.NumberOfPoints;

    public string PackingType => Data.PackingType;
    public int BitsPerValue => Data.BitsPerValue;
    public double ReferenceValue => Data.ReferenceValue;
    public int BinaryScaleFactor => Data.BinaryScaleFactor;
    public int DecimalScaleFactor => Data.DecimalScaleFactor;
    public bool BitmapPresent => Data.BitmapPresent;
    /// <summary>GRIB2 section 5's count of packed (non-missing) values; null for GRIB1, where it follows from grid and bitmap.</summary>
    public int? NumberOfPackedValues => Data.NumberOfPackedValues;

    /// <summary>Spacing of the packed values: 2^E·10^(−D). Decoding can be off by at most half of it.</summary>
    public double QuantisationStep => SimplePacking.Power(BinaryScaleFactor, 2) * SimplePacking.Power(-DecimalScaleFactor, 10);

    /// <summary>ecCodes key names → values (strings, ints, doubles), for grib_ls-like listings and lookups.</summary>
    public IReadOnlyDictionary<string, object> Keys { get; internal init; } = new Dictionary<string, object>();

    /// <summary>Latitude of every point, in the order of <see cref="Values"/>.</summary>
    public double[] Latitudes() => Grid.Latitudes();

    /// <summary>Longitude of every point, in the order of <see cref="Values"/> (Lo1 + c·Di, not wrapped to [0, 360)).</summary>
    public double[] Longitudes() => Grid.Longitudes();

    /// <summary>
    /// Decoded values in storage (scan) order, as ecCodes returns them; NaN where the bitmap marks a point missing.
    /// </summary>
    public double[] Values()
    {
        if (Data.Unsupported is { } why) throw File.Error(this, why);
        int points = Grid.NumberOfPoints;
        byte[] bitmap = [];
        int packedCount = points;
        if (Data.BitmapOffset is long bo)
        {
            if (Data.BitmapBits < points)
                throw File.Error(this, $"bitmap has {Data.BitmapBits} bits for {points} grid points");
            bitmap = File.ReadBytes(bo, (points + 7) / 8, this);
            packedCount = SimplePacking.CountOnes(bitmap, points);
        }
        if (Data.NumberOfPackedValues is int declared && declared != packedCount)
            throw File.Error(this, $"data section declares {declared} packed values but the grid/bitmap needs {packedCount}");
        long bitsNeeded = (long)packedCount * Data.BitsPerValue;
        if (bitsNeeded > Data.DataBitsAvailable)
            throw File.Error(this, $"data section holds {Data.DataBitsAvailable} bits, {packedCount} values of {Data.BitsPerValue} bits need {bitsNeeded}");
        byte[] raw = Data.BitsPerValue == 0 ? [] : File.ReadBytes(Data.DataOffset, (int)((bitsNeeded + 7) / 8), this);
        var values = new double[points];
        SimplePacking.Unpack(raw, Data.BitsPerValue, packedCount, Data.ReferenceValue, Data.BinaryScaleFactor,
            Data.DecimalScaleFactor, values);
        if (Data.BitmapOffset is not null) SimplePacking.ExpandInPlace(values, packedCount, bitmap);
        return values;
    }

    /// <summary>
    /// Values re-ordered to row-major [Nj, Ni] with latitude north → south and longitude increasing, whatever the
    /// scanning mode (the engine's [lat, lon] convention); missing points are NaN.
    /// </summary>
    public GribGrid ToGrid() => GribGridBuilder.NorthToSouth(Grid, Values());

    public override string ToString() =>
        $"#{MessageNumber} {ShortName} {TypeOfLevel} {Level} {ReferenceTime:yyyy-MM-dd HH:mm} step {StepRange}" +
        (PerturbationNumber is int n ? $" number {n}" : "");
}
