using Ensemble.Data.Npy;
using Ensemble.Data.Zarr;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class InspectCommandTests
{
    [SkippableFact]
    public void Lists_grib_messages_like_grib_ls()
    {
        string f = Shared.Require("data/ensemble/ecmwf_ens_z850_tiny_51members.grib");
        var r = CliRunner.InProcess("inspect", f);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("z", r.Out);
        Assert.Contains("isobaricInhPa", r.Out);
        Assert.Contains("51", r.Out);
    }

    [SkippableFact]
    public void Lists_netcdf_variables_like_ncdump()
    {
        string f = Shared.Require("data/analysis/era5_t_z_500_850_20070101_12z_1deg_global.nc");
        var r = CliRunner.InProcess("inspect", f);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("dimensions:", r.Out);
        Assert.Contains("variables:", r.Out);
        Assert.Contains("latitude", r.Out);
    }

    [Fact]
    public void Lists_npy_and_zarr()
    {
        using var tmp = new TempDir();
        NpyFile.Write(tmp.File("a.npy"), NpyArray.FromFloats(new float[6], 2, 3));
        var r = CliRunner.InProcess("inspect", tmp.File("a.npy"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("<f4 (2, 3)", r.Out);

        var store = ZarrStore.Create(tmp.File("s.zarr"));
        store.WriteArray("lat", ["lat"], [90, 0, -90], [3]);
        store.Consolidate();
        var z = CliRunner.InProcess("inspect", tmp.File("s.zarr"));
        Assert.True(z.ExitCode == 0, z.Err);
        Assert.Contains("lat(lat=3)", z.Out);
    }

    [Fact]
    public void Unknown_and_missing_files_exit_2()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("x.txt"), "hello world");
        var r = CliRunner.InProcess("inspect", tmp.File("x.txt"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unrecognised format", r.Err);
        Assert.Equal(2, CliRunner.InProcess("inspect", tmp.File("missing.grib")).ExitCode);
        Directory.CreateDirectory(tmp.File("dir"));
        Assert.Contains("not a zarr", CliRunner.InProcess("inspect", tmp.File("dir")).Err);
    }
}
