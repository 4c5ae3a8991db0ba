namespace Ensemble.Core.Native;

/// <summary>
/// The switch for the inference kernels that call MKL directly (<see cref="Mkl"/>) instead of composing libtorch ops:
/// on where the entry points resolved, unless <c>ENSEMBLE_NATIVE_KERNELS=0</c>; tests and benchmarks turn them off
/// per thread with <see cref="Suppress"/> to compare against the libtorch path.
/// </summary>
public static class NativeKernels
{
    static readonly bool s_enabled = Mkl.Available && Environment.GetEnvironmentVariable("ENSEMBLE_NATIVE_KERNELS") != "0";

    [ThreadStatic] static int t_suppressed;

    /// <summary>Whether the native kernels are on in this process.</summary>
    public static bool Enabled => s_enabled;

    /// <summary>Whether they run on this thread now.</summary>
    public static bool Active => s_enabled && t_suppressed == 0;

    /// <summary>Runs the libtorch paths on this thread until disposed.</summary>
    public static IDisposable Suppress()
    {
        t_suppressed++;
        return new Release();
    }

    sealed class Release : IDisposable
    {
        bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_suppressed--;
        }
    }
}
