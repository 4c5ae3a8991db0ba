using System.CommandLine;
using Ensemble.Core;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble doctor`: what runtime the engine would compute with, and whether it works.</summary>
public static class DoctorCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var cmd = new Command("doctor", "Report TorchSharp/libtorch versions, backend, devices, threads and the native compatibility step");
        cmd.SetAction(parse => wrap(parse, Run));
        return cmd;
    }

    static int Run(CommandContext ctx)
    {
        var o = ctx.Out;
        o.WriteLine($"ensemble          {typeof(DoctorCommand).Assembly.GetName().Version}");
        o.WriteLine($".NET              {Environment.Version} ({System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier})");
        o.WriteLine($"OS                {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        o.WriteLine($"processors        {Environment.ProcessorCount}");
        TorchRuntimeInfo info;
        try
        {
            info = TorchRuntime.Describe();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or InvalidOperationException)
        {
            string native = TorchRuntime.FindNativeLibrary() ?? "libLibTorchSharp.so not found";
            o.WriteLine($"torch             FAILED to load: {(e.InnerException ?? e).Message.ReplaceLineEndings(" ")}");
            o.WriteLine($"native library    {native}");
            if (native.EndsWith(".so", StringComparison.Ordinal))
                o.WriteLine($"compatibility     {TorchRuntime.CompatibilityStatus(native)}");
            ctx.Log.Error("TorchSharp could not be loaded; rebuild so the native compatibility step runs (dotnet build)");
            return EnsembleCli.Bug;
        }
        o.WriteLine($"TorchSharp        {info.TorchSharpVersion}");
        o.WriteLine($"libtorch          {info.LibTorchVersion}");
        o.WriteLine($"backend           {info.Backend}");
        o.WriteLine($"devices           cpu{(info.CudaAvailable ? string.Concat(Enumerable.Range(0, info.CudaDevices).Select(i => $", cuda:{i}")) : "")}");
        o.WriteLine($"threads           {info.Threads}");
        o.WriteLine($"native library    {info.NativeLibrary}");
        o.WriteLine($"compatibility     {info.CompatibilityStep}");
        // A real computation, not just a load: a small matmul on every device.
        using var a = TorchSharp.torch.ones(64, 64);
        using var b = TorchSharp.torch.mm(a, a);
        bool ok = Math.Abs(b[0, 0].item<float>() - 64f) < 1e-4;
        o.WriteLine($"self-test         {(ok ? "ok (64x64 matmul on cpu)" : "FAILED")}");
        return ok ? EnsembleCli.Ok : EnsembleCli.Bug;
    }
}
