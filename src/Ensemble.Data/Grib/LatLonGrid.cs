namespace Ensemble.Data.Grib;

/// <summary>
/// A regular latitude/longitude grid as GRIB describes it: first and last point in scan order, increments and the
/// scanning-mode flags (GRIB1 table 8 = GRIB2 flag table 3.4). Knows where the n-th stored value lies.
/// </summary>
internal sealed class LatLonGrid
{
    public LatLonGrid(int ni, int nj, double la1, double lo1, double la2, double lo2, double di, double dj, int scanningMode)
    {
        Ni = ni; Nj = nj; La1 = la1; Lo1 = lo1; La2 = la2; Lo2 = lo2; Di = di; Dj = dj; ScanningMode = scanningMode;
        // Steps come from the end points (exact there, as ecCodes does when the coded increment is inconsistent
        // through rounding); a single row/column falls back on the coded increment with the scan direction's sign.
        double lonEnd = lo2;
        if (!IScansNegatively && lonEnd < lo1) lonEnd += 360;
        if (IScansNegatively && lonEnd > lo1) lonEnd -= 360;
        LonStep = ni > 1 ? (lonEnd - lo1) / (ni - 1) : (IScansNegatively ? -di : di);
        LatStep = nj > 1 ? (la2 - la1) / (nj - 1) : (JScansPositively ? dj : -dj);
    }

    /// <summary>Largest grid accepted (2^28 points, 2 GiB of float64): beyond that a header is taken as corrupt.</summary>
    public const long MaxPoints = 1L << 28;

    public int Ni { get; }
    public int Nj { get; }
    public double La1 { get; }
    public double Lo1 { get; }
    public double La2 { get; }
    public double Lo2 { get; }
    public double Di { get; }
    public double Dj { get; }
    public int ScanningMode { get; }
    public double LonStep { get; }
    public double LatStep { get; }
    public int NumberOfPoints => Ni * Nj;

    public bool IScansNegatively => (ScanningMode & 0x80) != 0;
    public bool JScansPositively => (ScanningMode & 0x40) != 0;
    public bool JPointsAreConsecutive => (ScanningMode & 0x20) != 0;
    public bool AlternativeRowScanning => (ScanningMode & 0x10) != 0;

    /// <summary>Row (j index in scan order) and column (i index in scan order) of the n-th stored value.</summary>
    public (int Row, int Col) Position(int n)
    {
        int row, col;
        if (JPointsAreConsecutive)
        {
            col = n / Nj; row = n % Nj;
            if (AlternativeRowScanning && (col & 1) == 1) row = Nj - 1 - row;
        }
        else
        {
            row = n / Ni; col = n % Ni;
            if (AlternativeRowScanning && (row & 1) == 1) col = Ni - 1 - col;
        }
        return (row, col);
    }

    public double Latitude(int row) => La1 + row * LatStep;
    public double Longitude(int col) => Lo1 + col * LonStep;

    public double[] Latitudes()
    {
        var lat = new double[NumberOfPoints];
        for (int n = 0; n < lat.Length; n++) lat[n] = Latitude(Position(n).Row);
        return lat;
    }

    public double[] Longitudes()
    {
        var lon = new double[NumberOfPoints];
        for (int n = 0; n < lon.Length; n++) lon[n] = Longitude(Position(n).Col);
        return lon;
    }
}
