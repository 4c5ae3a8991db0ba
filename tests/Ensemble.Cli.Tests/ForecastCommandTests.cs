using Ensemble.Data.Npy;
using Ensemble.Data.NetCdf;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class ForecastCommandTests
{
    static string Package => Shared.Require("fixtures/sfno_small_package");

    [SkippableTheory]
    [InlineData("ic_input.npy", 5e-5)]
    [InlineData("ic_input_float32.npy", 5e-5)]
    public void One_step_of_the_fixture_package_reproduces_makani(string ic, double tolPerStd)
    {
        using var tmp = new TempDir();
        string pkg = Package;
        var r = CliRunner.InProcess("forecast", "--model", pkg, "--input", Path.Combine(pkg, ic), "--steps", "1", "--output", tmp.File("out.npy"), "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Err);
        var output = NpyFile.Read(tmp.File("out.npy"));
        Assert.Equal(new long[] { 2, 2, 5, 73, 144 }, output.Shape);
        var expected = NpyFile.Read(Path.Combine(pkg, "expected_output_physical.npy")).ToDoubles();
        var stds = NpyFile.Read(Path.Combine(pkg, "global_stds.npy")).ToDoubles();
        var all = output.ToDoubles();
        int field = 73 * 144;
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 5; c++)
            {
                double max = 0;
                for (int k = 0; k < field; k++)
                {
                    double got = all[((b * 2 + 1) * 5 + c) * field + k];
                    double want = expected[(b * 5 + c) * field + k];
                    max = Math.Max(max, Math.Abs(got - want));
                }
                Assert.True(max <= tolPerStd * stds[c], $"member {b} channel {c}: max error {max:E3} > {tolPerStd} x std {stds[c]}");
            }
    }

    [SkippableFact]
    public void NetCdf_output_has_named_dimensions_and_lead_times()
    {
        using var tmp = new TempDir();
        string pkg = Package;
        var r = CliRunner.InProcess("forecast", "-m", pkg, "-i", Path.Combine(pkg, "ic_input.npy"), "-o", tmp.File("out.nc"), "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Err);
        using var nc = NetCdfFile.Open(tmp.File("out.nc"));
        var z = nc.Variable("z500");
        Assert.Equal(new[] { "ensemble", "lead_time", "lat", "lon" }, z.Dimensions);
        Assert.Equal(new long[] { 2, 2, 73, 144 }, z.Shape);
        Assert.Equal(new[] { 0.0, 6.0 }, nc.ReadDoubles("lead_time"));
        Assert.Equal(90.0, nc.ReadDoubles("lat")[0], 12);
    }

    [SkippableTheory]
    [InlineData("channels")]
    [InlineData("grid")]
    [InlineData("nan")]
    [InlineData("steps")]
    public void Bad_inputs_exit_2_with_one_line(string what)
    {
        using var tmp = new TempDir();
        string pkg = Package;
        var ic = NpyFile.Read(Path.Combine(pkg, "ic_input.npy"));
        var v = ic.ToDoubles();
        string input = tmp.File("ic.npy");
        string steps = "1";
        switch (what)
        {
            case "channels": NpyFile.Write(input, NpyArray.FromDoubles(v[..(2 * 6 * 73 * 144)], 2, 6, 73, 144)); break;
            case "grid": NpyFile.Write(input, NpyArray.FromDoubles(v[..(2 * 7 * 72 * 144)], 2, 7, 72, 144)); break;
            case "nan": v[12345] = double.NaN; NpyFile.Write(input, NpyArray.FromDoubles(v, 2, 7, 73, 144)); break;
            case "steps": NpyFile.Write(input, ic); steps = "3"; break;
        }
        var r = CliRunner.InProcess("forecast", "-m", pkg, "-i", input, "-n", steps, "-o", tmp.File("out.npy"), "--device", "cpu");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(File.Exists(tmp.File("out.npy")));
    }

    [SkippableFact]
    public void A_tampered_checkpoint_exits_2()
    {
        using var tmp = new TempDir();
        string pkg = Package;
        string copy = tmp.File("pkg");
        foreach (var f in Directory.GetFiles(pkg, "*", SearchOption.AllDirectories))
        {
            string dest = Path.Combine(copy, Path.GetRelativePath(pkg, f));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(f, dest);
        }
        string ckpt = Path.Combine(copy, "training_checkpoints", "best_ckpt_mp0.tar");
        byte[] b = File.ReadAllBytes(ckpt);
        File.WriteAllBytes(ckpt, b[..(b.Length * 2 / 3)]);
        var r = CliRunner.InProcess("forecast", "-m", copy, "-i", Path.Combine(pkg, "ic_input.npy"), "-o", tmp.File("out.npy"), "--device", "cpu");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("best_ckpt_mp0.tar", r.Err);
    }
}
