using Xunit;

namespace Ensemble.TestSupport;

/// <summary>
/// The read-only ../shared folder (fixtures, docs, real data) beside the repository. Tests that need it
/// call <see cref="Require"/>, which skips them with a clear reason where it is absent.
/// </summary>
public static class Shared
{
    static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    /// <summary>The repository root (the folder holding Ensemble.sln).</summary>
    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>ENSEMBLE_SHARED if set, else RepoRoot/../shared.</summary>
    public static string Root =>
        Environment.GetEnvironmentVariable("ENSEMBLE_SHARED") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static bool Available => Directory.Exists(Root);

    /// <summary>Full path of a file or folder under shared/, skipping the test when it is missing.</summary>
    public static string Require(string relative)
    {
        string p = Path.Combine(Root, relative);
        Skip.IfNot(File.Exists(p) || Directory.Exists(p),
            $"shared data '{relative}' not found under {Root} (../shared is provided to developers and CI only)");
        return p;
    }

    static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Ensemble.sln")) || File.Exists(Path.Combine(d.FullName, "Ensemble.slnx")))
                return d.FullName;
        throw new InvalidOperationException($"Ensemble.sln not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ensemble-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Tolerance helpers that report the measured error on failure.</summary>
public static class Close
{
    /// <summary>‖a−b‖₂/‖b‖₂ ≤ tol.</summary>
    public static void Relative(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, double tol, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        double rel = den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
        Assert.True(rel <= tol, $"{what} relative error {rel:E3} > {tol:E1}");
    }

    /// <summary>max|a−b| ≤ tol.</summary>
    public static void Absolute(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, double tol, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0; int at = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (!(d <= max)) { max = d; at = i; }
        }
        Assert.True(max <= tol, $"{what} max abs error {max:E3} at {at} > {tol:E1}");
    }
}
