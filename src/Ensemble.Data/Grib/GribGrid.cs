namespace Ensemble.Data.Grib;

/// <summary>
/// A field on the engine's orientation: <see cref="Values"/> row-major [<see cref="Nlat"/>, <see cref="Nlon"/>],
/// latitude north → south, longitude increasing (not wrapped: a grid starting at −19.5° keeps its negative longitudes).
/// </summary>
public sealed record GribGrid(int Nlat, int Nlon, double[] Latitudes, double[] Longitudes, double[] Values);

internal static class GribGridBuilder
{
    public static GribGrid NorthToSouth(LatLonGrid grid, double[] scanOrder)
    {
        int ni = grid.Ni, nj = grid.Nj;
        // With a single row/column the step's sign still follows the scan direction, so the flips below stay right.
        bool flipRows = grid.LatStep > 0, flipCols = grid.LonStep < 0;
        var values = new double[scanOrder.Length];
        for (int n = 0; n < scanOrder.Length; n++)
        {
            var (row, col) = grid.Position(n);
            int r = flipRows ? nj - 1 - row : row, c = flipCols ? ni - 1 - col : col;
            values[r * ni + c] = scanOrder[n];
        }
        var lat = new double[nj];
        for (int r = 0; r < nj; r++) lat[r] = grid.Latitude(flipRows ? nj - 1 - r : r);
        var lon = new double[ni];
        for (int c = 0; c < ni; c++) lon[c] = grid.Longitude(flipCols ? ni - 1 - c : c);
        return new GribGrid(nj, ni, lat, lon, values);
    }
}
