using System.Diagnostics;
using Xunit;

namespace Ensemble.Data.Tests;

/// <summary>
/// Runs /usr/bin/python3 with xarray, zarr, netCDF4 and h5py to check that other tools read our files.
/// Tests skip (with the reason) only where that interpreter or those modules are absent.
/// </summary>
public static class PythonInterop
{
    const string Python = "/usr/bin/python3";
    static readonly Lazy<string?> Missing = new(Probe);

    static string? Probe()
    {
        if (!File.Exists(Python)) return $"{Python} not found";
        var (code, _, err) = RunRaw("import xarray, zarr, netCDF4, h5py, numpy");
        return code == 0 ? null : $"python modules missing (apt-get install python3-xarray python3-netcdf4 python3-h5py python3-zarr): {err.Trim().Split('\n').LastOrDefault()}";
    }

    public static void RequireOrSkip() => Skip.If(Missing.Value is not null, Missing.Value);

    /// <summary>Runs a script, failing the test with its stderr when it exits non-zero; returns stdout.</summary>
    public static string Run(string script, params string[] args)
    {
        RequireOrSkip();
        var (code, stdout, stderr) = RunRaw(script, args);
        Assert.True(code == 0, $"python failed ({code}):\n{stderr}\n{stdout}");
        return stdout;
    }

    static (int, string, string) RunRaw(string script, params string[] args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); return (-1, so.Result, "timeout"); }
        return (p.ExitCode, so.Result, se.Result);
    }
}
