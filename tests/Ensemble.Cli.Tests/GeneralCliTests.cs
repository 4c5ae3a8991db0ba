using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class GeneralCliTests
{
    [Fact]
    public void Help_lists_the_commands_and_exits_zero()
    {
        var r = CliRunner.InProcess("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("doctor", r.Out);
        Assert.Contains("spectrum", r.Out);
        Assert.Contains("--verbosity", r.Out);
    }

    [Fact]
    public void Version_prints_a_version()
    {
        var r = CliRunner.InProcess("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", r.Out.Trim());
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("doctor", "--no-such-flag")]
    [InlineData("doctor", "-v", "loud")]
    public void Bad_usage_is_one_line_and_exit_code_2(params string[] args)
    {
        var r = CliRunner.InProcess(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.StartsWith("error:", r.Err);
    }

    [Fact]
    public void Doctor_reports_the_runtime_and_computes()
    {
        var r = CliRunner.InProcess("doctor");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        Assert.Contains("TorchSharp        0.107", r.Out);
        Assert.Contains("libtorch          2.10", r.Out);
        Assert.Contains("backend           cpu", r.Out);
        Assert.Matches(@"compatibility\s+(applied|not applied|not needed)", r.Out);
        Assert.Contains("self-test         ok", r.Out);
    }

    [Fact]
    public void Log_file_receives_json_events()
    {
        using var tmp = new TempDir();
        string log = tmp.File("log.jsonl");
        var r = CliRunner.InProcess("doctor", "--log-file", log, "-v", "quiet");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Err);
        // doctor logs nothing on success; a failing command must log its error as JSON.
        var bad = CliRunner.InProcess("spectrum", "--input", tmp.File("missing.npy"), "--output", tmp.File("x.csv"), "--log-file", log);
        Assert.Equal(2, bad.ExitCode);
        string text = File.ReadAllText(log);
        Assert.Contains("\"@mt\"", text);
        Assert.Contains("missing.npy", text);
    }

    [Fact]
    public void A_real_process_exits_2_with_one_line_for_a_missing_file()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Process("spectrum", "--input", tmp.File("nope.npy"), "--grid", "equiangular", "--output", tmp.File("s.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: {tmp.File("nope.npy")}: file not found", r.Err.Trim());
        Assert.False(File.Exists(tmp.File("s.csv")));
    }
}
