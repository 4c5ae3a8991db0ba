using System.Diagnostics;

namespace Ensemble.Cli.Tests;

/// <summary>Runs the CLI in-process (fast) or as a real child process (exit codes as a shell sees them).</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Err);

    public static Result InProcess(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = EnsembleCli.Run(args, o, e);
        return new Result(code, o.ToString(), e.ToString());
    }

    public static Result Process(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "ensemble.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
