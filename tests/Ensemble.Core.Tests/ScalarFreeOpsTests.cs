using System.Reflection;
using TorchSharp;
using Xunit;

namespace Ensemble.Core.Tests;

/// <summary>
/// The hot loops (SFNO workers, world solver) rely on some TorchSharp calls not creating a temporary Scalar
/// (Ensemble.Core.Scalars: a GC on another thread can finalize one mid-op). This reads TorchSharp's IL, so a TorchSharp
/// upgrade that changes one of them fails here instead of as a rare crash.
/// </summary>
public class ScalarFreeOpsTests
{
    static bool MakesScalar(MethodInfo m)
    {
        var il = m.GetMethodBody()?.GetILAsByteArray() ?? [];
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] is not (0x28 or 0x6F)) continue;                       // call, callvirt
            MethodBase? callee;
            try { callee = m.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1)); }
            catch (ArgumentException) { continue; }                              // not a method token at this offset
            if (callee is { Name: "op_Implicit", DeclaringType.Name: "Scalar" } or { Name: "ToScalar" }) return true;
        }
        return false;
    }

    static MethodInfo Method(Type type, string name, params Type[] parameters) =>
        type.GetMethod(name, parameters) ?? throw new InvalidOperationException($"{type.Name}.{name} not found");

    [Fact]
    public void Ops_used_as_scalar_free_make_no_temporary_scalar()
    {
        var t = typeof(torch.Tensor);
        var safe = new[]
        {
            Method(t, "sub", t), Method(t, "sub_", t), Method(t, "mul", t), Method(t, "mul_", t), Method(t, "neg"),
            Method(t, "add", t, typeof(Scalar)), Method(t, "add_", t, typeof(Scalar)), Method(t, "mul", typeof(Scalar)),
            Method(t, "addmm_", t, t, typeof(float), typeof(float)), Method(t, "fill_", typeof(Scalar)), Method(t, "rsqrt_"),
            Method(typeof(torch.linalg), "norm", t, typeof(double), typeof(long[]), typeof(bool)),
        };
        Assert.All(safe, m => Assert.False(MakesScalar(m), $"{m.DeclaringType!.Name}.{m.Name} now makes a temporary Scalar"));
        // And the traps the code avoids are still traps (so the comments stay true).
        Assert.True(MakesScalar(Method(t, "add", t)));
        Assert.True(MakesScalar(Method(t, "square")));
        Assert.True(MakesScalar(Method(typeof(torch.linalg), "vector_norm", t, typeof(double), typeof(long[]), typeof(bool))));
    }
}
