using Ensemble.Data.Npy;
using Ensemble.Models.Checkpoints;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class TrainCommandTests
{
    static string SmallConfig => Path.Combine(Shared.RepoRoot, "configs", "train-small.yaml");

    [Fact]
    public void Trains_an_sfno_on_solid_body_rotation_and_exports_a_forecastable_package()
    {
        using var tmp = new TempDir();
        string run = tmp.File("run");
        var r = CliRunner.InProcess("train", "--config", SmallConfig, "--data", "solid-body-rotation", "--seed", "3", "--output", run, "--device", "cpu",
            "training.stages=[{epochs: 2, rollout_steps: 1, learning_rate: 3.0e-3}]", "training.steps_per_epoch=4");
        Assert.True(r.ExitCode == 0, r.Err);
        var info = SfnoCheckpointFile.ReadInfo(Path.Combine(run, "best.dat"));
        Assert.Equal(3, info.TrainingSeed);
        Assert.Equal(["f0", "f1", "f2"], info.ChannelNames);
        Assert.True(File.Exists(Path.Combine(run, "package", "training_checkpoints", "best_ckpt_mp0.tar")));

        // The exported package runs through `ensemble forecast`.
        var ic = new float[3 * 33 * 64];
        for (int i = 0; i < ic.Length; i++) ic[i] = (float)Math.Sin(i * 0.01);
        NpyFile.Write(tmp.File("ic.npy"), NpyArray.FromFloats(ic, 1, 3, 33, 64));
        var f = CliRunner.InProcess("forecast", "-m", Path.Combine(run, "package"), "-i", tmp.File("ic.npy"), "-n", "2", "-o", tmp.File("out.npy"), "--device", "cpu");
        Assert.True(f.ExitCode == 0, f.Err);
        Assert.Equal(new long[] { 1, 3, 3, 33, 64 }, NpyFile.Read(tmp.File("out.npy")).Shape);
    }

    [Theory]
    [InlineData("training.batch_size=0", "batch_size must be ≥ 1")]
    [InlineData("training.batchsize=4", "unknown key 'training.batchsize'")]
    [InlineData("model.embed_dim=lots", "key 'model.embed_dim'")]
    public void Bad_configs_exit_2_naming_the_key(string o, string message)
    {
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("train", "-c", SmallConfig, "-d", "solid-body-rotation", "-o", tmp.File("run"), "--device", "cpu", o);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void Missing_data_folder_exits_2()
    {
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("train", "-c", SmallConfig, "-d", tmp.File("nope"), "-o", tmp.File("run"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no such folder", r.Err);
    }
}

public class TrainKillResumeTests
{
    static string SmallConfig => Path.Combine(Shared.RepoRoot, "configs", "train-small.yaml");
    static readonly string[] Recipe = ["training.stages=[{epochs: 3, rollout_steps: 1, learning_rate: 3.0e-3}, {epochs: 1, rollout_steps: 2, learning_rate: 5.0e-4}]", "training.steps_per_epoch=6"];

    static string[] Args(string run) => ["train", "-c", SmallConfig, "-d", "solid-body-rotation", "-s", "5", "-o", run, "--device", "cpu", .. Recipe];

    [SkippableFact]
    public void A_run_killed_with_SIGKILL_resumes_to_the_weights_of_an_uninterrupted_run()
    {
        using var tmp = new TempDir();
        string whole = tmp.File("whole"), killed = tmp.File("killed");
        var full = CliRunner.Process(Args(whole));
        Assert.True(full.ExitCode == 0, full.Err);

        // Start the same run and kill -9 it once at least one epoch is on disk but before it finishes.
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ensemble.dll"));
        foreach (var a in Args(killed)) psi.ArgumentList.Add(a);
        using (var p = System.Diagnostics.Process.Start(psi)!)
        {
            string state = Path.Combine(killed, "train-state.json");
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (!p.HasExited && DateTime.UtcNow < deadline && !(File.Exists(state) && File.ReadAllText(state).Contains("\"CompletedEpochs\": 1")))
                Thread.Sleep(20);
            Skip.If(p.HasExited, "the run finished before it could be killed (machine too fast for this check)");
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        var resumed = CliRunner.Process(Args(killed));
        Assert.True(resumed.ExitCode == 0, resumed.Err);
        Assert.Contains("Resumed", resumed.Err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "best.dat")), File.ReadAllBytes(Path.Combine(killed, "best.dat")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "package", "training_checkpoints", "best_ckpt_mp0.tar")),
                     File.ReadAllBytes(Path.Combine(killed, "package", "training_checkpoints", "best_ckpt_mp0.tar")));
    }
}
