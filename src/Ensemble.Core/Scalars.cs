using System.Collections.Concurrent;
using TorchSharp;

namespace Ensemble.Core;

/// <summary>
/// Cached, never-freed TorchSharp <see cref="Scalar"/>s for hot loops. TorchSharp 0.107 hands a temporary Scalar's
/// native pointer to libtorch without keeping the managed object alive (dotnet/TorchSharp#1434, #1496), and libtorch
/// reads it by reference during the op: a GC triggered on another thread can finalize it mid-op, which shows up as
/// "INTERNAL ASSERT FAILED at c10/core/Scalar.h" (seen once in CI in the world solver's tendency). Implicit conversions
/// (<c>0.5 * x</c>, <c>x.pow(2)</c>) create such temporaries; <c>x.mul(Scalars.Of(0.5))</c> does not.
/// </summary>
public static class Scalars
{
    static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    /// <summary>A double Scalar that lives for the whole process (one per distinct value).</summary>
    public static Scalar Of(double value) => Cache.GetOrAdd(value, v => v.ToScalar());
}
