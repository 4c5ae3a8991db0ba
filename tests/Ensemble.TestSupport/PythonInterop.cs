using System.Diagnostics;
using Xunit;

namespace Ensemble.TestSupport;

/// <summary>
/// Runs Debian's /usr/bin/python3 (xarray, zarr, netCDF4, h5py; torch for checkpoints) to check that other tools
/// read our files. Tests skip (with the reason) only where that interpreter or those modules are absent; .ci/run
/// installs them.
/// </summary>
public static class PythonInterop
{
    const string Python = "/usr/bin/python3";
    const string DataModules = "xarray, zarr, netCDF4, h5py, numpy";
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> Missing = new();

    static string? Probe(string modules)
    {
        if (!File.Exists(Python)) return $"{Python} not found";
        var (code, _, err) = RunRaw($"import {modules}");
        return code == 0 ? null : $"python modules missing ({modules}; apt-get install python3-xarray python3-netcdf4 python3-h5py python3-zarr python3-torch): {err.Trim().Split('\n').LastOrDefault()}";
    }

    /// <summary>Skips the test unless python3 can import <paramref name="modules"/> (default: the data stack).</summary>
    public static void RequireOrSkip(string modules = DataModules)
    {
        string? why = Missing.GetOrAdd(modules, Probe);
        Skip.If(why is not null, why);
    }

    /// <summary>Runs a script, failing the test with its stderr when it exits non-zero; returns stdout.</summary>
    public static string Run(string script, params string[] args) => RunWith(DataModules, script, args);

    /// <summary>Runs a script that needs <paramref name="modules"/>; returns stdout.</summary>
    public static string RunWith(string modules, string script, params string[] args)
    {
        RequireOrSkip(modules);
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
