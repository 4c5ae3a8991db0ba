using System.Collections.Concurrent;
using TorchSharp;

namespace Ensemble.Core;

/// <summary>
/// Cached, never-freed TorchSharp <see cref="Scalar"/>s for hot loops. TorchSharp 0.107 hands a temporary Scalar's
/// native pointer to libtorch without keeping the managed object alive (dotnet/TorchSharp#1434, #1496), and libtorch
/// reads it by reference during the op: a GC triggered on another thread can finalize it mid-op, which shows up as
/// "INTERNAL ASSERT FAILED at c10/core/Scalar.h" (seen once in CI in the world solver's tendency). Implicit conversions
/// (<c>0.5 * x</c>, <c>x.pow(2)</c>) create such temporaries, and so do some TorchSharp methods internally:
/// <c>square()</c> is <c>pow(2)</c>, <c>a + b</c> and <c>add_(b)</c> pass alpha = 1 as a temporary, and
/// <c>linalg.vector_norm(x, double)</c> converts its order (CI hit the latter on the SFNO workers: "Unknown scalar type").
/// <c>x.mul(Scalars.Of(0.5))</c>, <c>a.add_(b, Scalars.Of(1))</c>, <c>x.mul(x)</c>, <c>sub</c>/<c>mul</c> of two tensors and
/// <c>linalg.norm(x, double)</c> do not. Checked by reading TorchSharp's IL (which calls make a Scalar).
/// </summary>
public static class Scalars
{
    static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    /// <summary>A double Scalar that lives for the whole process (one per distinct value).</summary>
    public static Scalar Of(double value) => Cache.GetOrAdd(value, v => v.ToScalar());

    /// <summary>The alpha of <c>a.add(b, Scalars.One)</c>, the race-free form of <c>a + b</c>.</summary>
    public static Scalar One => Of(1);
}
