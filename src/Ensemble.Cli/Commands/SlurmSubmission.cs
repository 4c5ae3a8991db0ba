using System.Diagnostics;
using Ensemble.Core;

namespace Ensemble.Cli.Commands;

/// <summary>
/// `ensemble campaign --slurm-submit`: the ML ensemble's members go to SLURM as srun tasks or a job array through
/// scripts/slurm/submit.sh (which chains the merge); a last job, after the merge, reruns the campaign, which finds the
/// ensemble complete and finishes scores and report. See docs/slurm.md.
/// </summary>
public static class SlurmSubmission
{
    public sealed record Request(string Mode, int Count, int GpusPerTask, string? Partition, string? TimeLimit, bool DryRun);

    /// <summary>scripts/slurm/submit.sh: ENSEMBLE_SLURM_SCRIPTS, else found upwards from the working directory or the executable.</summary>
    public static string SubmitScript()
    {
        if (Environment.GetEnvironmentVariable("ENSEMBLE_SLURM_SCRIPTS") is { Length: > 0 } dir && File.Exists(Path.Combine(dir, "submit.sh")))
            return Path.Combine(dir, "submit.sh");
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "scripts", "slurm", "submit.sh");
                if (File.Exists(candidate)) return candidate;
            }
        throw new EnsembleException("--slurm-submit: scripts/slurm/submit.sh not found (run from the repository or set ENSEMBLE_SLURM_SCRIPTS)");
    }

    /// <summary>The command that runs this CLI again on a compute node (the apphost beside ensemble.dll).</summary>
    public static string Executable()
    {
        string dll = typeof(SlurmSubmission).Assembly.Location;
        string host = Path.Combine(Path.GetDirectoryName(dll)!, "ensemble");
        return File.Exists(host) ? host : Environment.ProcessPath ?? "ensemble";
    }

    /// <summary>Submits run (+ merge) and the finishing campaign job; returns the lines to print.</summary>
    public static IReadOnlyList<string> Submit(Request r, string runConfig, string runDirectory, string campaignConfig, IReadOnlyList<string> overrides)
    {
        string bin = Executable();
        var args = new List<string> { SubmitScript(), runConfig, r.Mode == "tasks" ? "--tasks" : "--array", r.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--run-dir", runDirectory, "--bin", bin };
        if (r.GpusPerTask > 0) args.AddRange(["--gpus-per-task", r.GpusPerTask.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (r.Partition is { } p) args.AddRange(["--partition", p]);
        if (r.TimeLimit is { } t) args.AddRange(["--time", t]);
        if (r.DryRun) args.Add("--dry-run");
        var lines = Run("bash", args).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        string finish = $"{Quote(bin)} campaign {Quote(campaignConfig)}{string.Concat(overrides.Select(o => " " + Quote(o)))}";
        if (r.DryRun)
        {
            lines.Add($"sbatch --parsable --dependency=afterok:<merge> --job-name=campaign-finish --wrap {Quote(finish)}");
            return lines;
        }
        string merge = lines.FirstOrDefault(l => l.StartsWith("merge ", StringComparison.Ordinal))?[6..]
            ?? throw new EnsembleException($"--slurm-submit: submit.sh printed no merge job ({string.Join("; ", lines)})");
        var sbatch = new List<string> { "--parsable", $"--dependency=afterok:{merge}", "--job-name=campaign-finish" };
        if (r.Partition is { } part) sbatch.Add($"--partition={part}");
        sbatch.AddRange(["--wrap", finish]);
        string job = Run("sbatch", sbatch).Trim().Split(';')[0];
        lines.Add($"finish {job}");
        return lines;
    }

    static string Quote(string s) => s.All(c => char.IsLetterOrDigit(c) || "/._-=:,".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    static string Run(string file, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new EnsembleException($"--slurm-submit: cannot run {file}: {e.Message}");
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new EnsembleException($"--slurm-submit: {file} failed (exit {p.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
            return stdout.Result;
        }
    }
}
