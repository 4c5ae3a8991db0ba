using Ensemble.Data.EnsembleOutput;
using Ensemble.Data.Grib;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class ConvertCommandTests
{
    [SkippableFact]
    public void Converts_an_ens_grib_to_netcdf_and_exits_0()
    {
        string grib = Shared.Require("data/ensemble/ecmwf_ens_z500_20120920_step96.grib");
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("convert", grib, "--output", tmp.File("z500.nc"), "--model", "ifs-ens");
        Assert.True(r.ExitCode == 0, r.Err);
        using var store = EnsembleStore.Open(tmp.File("z500.nc"));
        Assert.Equal(["z500"], store.Layout.Variables);
        Assert.Equal([96.0], store.Layout.LeadTimeHours);
        Assert.Equal("ifs-ens", store.Layout.Attributes["model"]);
        using var f = GribFile.Open(grib);
        var m = f.Messages[^1];
        Assert.Equal(Array.ConvertAll(m.ToGrid().Values, x => (float)x), store.ReadField("z500", m.PerturbationNumber ?? 0, 0, 0));
        Assert.Single(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [SkippableFact]
    public void Missing_variable_exits_2_in_one_line_and_writes_nothing()
    {
        string grib = Shared.Require("data/ensemble/ecmwf_ens_z500_20120920_step96.grib");
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("convert", grib, "-o", tmp.File("out.zarr"), "--variables", "z500,t850");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'t850'", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [Theory]
    [InlineData("out.csv", "must end in .zarr")]
    [InlineData("out.zarr", "not found")]
    public void Bad_input_or_output_exits_2(string output, string message)
    {
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("convert", tmp.File("missing.grib"), "-o", tmp.File(output));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Err);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [SkippableFact]
    public void Existing_output_is_not_replaced()
    {
        string grib = Shared.Require("data/ensemble/ecmwf_ens_z850_tiny_51members.grib");
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("out.nc"), "keep me");
        var r = CliRunner.InProcess("convert", grib, "-o", tmp.File("out.nc"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("already exists", r.Err);
        Assert.Equal("keep me", File.ReadAllText(tmp.File("out.nc")));
    }
}
