using System.Diagnostics;
using Ensemble.Cli;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Campaigns.Tests;

/// <summary>The `ensemble campaign` command as users run it: bad configs, and a real kill -9 in the middle.</summary>
public class CampaignCommandTests
{
    [Theory]
    [InlineData("ensemble.members=5", "key 'ensemble.members'")]
    [InlineData("ensemble.stepz=3", "unknown key 'ensemble.stepz'")]
    [InlineData("scores.metrics=[crps, skill]", "unknown metric 'skill'")]
    public void A_malformed_config_exits_2_with_one_line_and_writes_nothing(string o, string message)
    {
        using var tmp = new TempDir();
        string data = EndToEndCampaignTests.WriteData(tmp.File("data"));
        File.WriteAllText(tmp.File("c.yaml"), EndToEndCampaignTests.Yaml(data));
        var err = new StringWriter();
        int code = EnsembleCli.Run(["campaign", tmp.File("c.yaml"), $"output={tmp.File("out")}", o], new StringWriter(), err);
        Assert.Equal(EnsembleCli.UserError, code);
        Assert.Contains(message, err.ToString());
        Assert.Single(err.ToString().Trim().Split('\n'));
        Assert.False(Directory.Exists(tmp.File("out")));
    }

    [Fact]
    public void Killed_with_sigkill_mid_stage_the_rerun_resumes_and_equals_an_uninterrupted_campaign()
    {
        using var tmp = new TempDir();
        string data = EndToEndCampaignTests.WriteData(tmp.File("data"));
        string config = tmp.File("c.yaml");
        File.WriteAllText(config, EndToEndCampaignTests.Yaml(data));

        var reference = Run(config, tmp.File("reference"));
        Assert.True(reference.Code == 0, reference.Err);

        // Kill once the M-climate hindcasts have finished some, but not all, of their work items.
        string killed = tmp.File("killed");
        string state = Path.Combine(killed, "climate", "hindcasts", "state");
        using (var p = Start(config, killed))
        {
            var clock = Stopwatch.StartNew();
            while (!p.HasExited && (!Directory.Exists(state) || Directory.GetFiles(state, "item_*.done").Length == 0) && clock.Elapsed < TimeSpan.FromMinutes(5))
                Thread.Sleep(20);
            Assert.False(p.HasExited, "the campaign finished before it could be killed");
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(killed, "climate", "stage.json")));

        var rerun = Run(config, killed);
        Assert.True(rerun.Code == 0, rerun.Err);
        Assert.Matches(@"checkpoint-0\s+reused", rerun.Out);
        Assert.Matches(@"climate\s+resumed", rerun.Out);
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.File("reference"), "scores", "scores.csv")),
            File.ReadAllBytes(Path.Combine(killed, "scores", "scores.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.File("reference"), "climate", "mclimate.npz")),
            File.ReadAllBytes(Path.Combine(killed, "climate", "mclimate.npz")));
    }

    [Fact]
    public void Slurm_submit_runs_the_stages_before_the_ensemble_and_chains_ensemble_merge_and_finish_jobs()
    {
        using var tmp = new TempDir();
        string data = EndToEndCampaignTests.WriteData(tmp.File("data"));
        File.WriteAllText(tmp.File("c.yaml"), EndToEndCampaignTests.Yaml(data));
        string output = tmp.File("out");
        var stdout = new StringWriter();
        var err = new StringWriter();
        int code = EnsembleCli.Run(["campaign", tmp.File("c.yaml"), $"output={output}", "--slurm-submit", "--tasks", "2", "--gpus-per-task", "1", "--dry-run"], stdout, err);
        Assert.True(code == 0, err.ToString());
        string o = stdout.ToString();
        Assert.Matches(@"climate\s+ran", o);
        Assert.DoesNotContain("ml-ensemble ", o);
        string runConfig = Path.Combine(output, "ml-ensemble", "run-config.yaml");
        Assert.True(File.Exists(runConfig));
        Assert.False(File.Exists(Path.Combine(output, "ml-ensemble", "stage.json")));
        Assert.Contains($"ENSEMBLE_CONFIG={runConfig}", o);
        Assert.Contains("--ntasks=2", o);
        Assert.Contains("--gpus-per-task=1", o);
        Assert.Contains("ensemble-tasks.sbatch", o);
        Assert.Contains($"ENSEMBLE_RUN_DIR={Path.Combine(output, "ml-ensemble", "run")} sbatch --parsable --dependency=afterok:<run>", o);
        Assert.Contains("--dependency=afterok:<merge> --job-name=campaign-finish", o);
        // The written run config is what `ensemble run` executes on the nodes.
        var cfg = Ensemble.Inference.Config.EnsembleRunConfig.Load(runConfig);
        Assert.Equal(2, cfg.Models.Count);
        Assert.Equal(1, cfg.Threads);

        var bad = EnsembleCli.Run(["campaign", tmp.File("c.yaml"), $"output={output}", "--slurm-submit"], new StringWriter(), new StringWriter());
        Assert.Equal(EnsembleCli.UserError, bad);
    }

    static Process Start(string config, string output)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "ensemble.dll"), "campaign", config, $"output={output}" }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    static (int Code, string Out, string Err) Run(string config, string output)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "ensemble.dll"), "campaign", config, $"output={output}" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }
}
