using System.IO.Compression;
using System.Text;
using Ensemble.Core;
using Ensemble.Models.Checkpoints;
using Ensemble.Models.Checkpoints.Pickle;
using Ensemble.Models.Packages;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

public class CheckpointSecurityTests
{
    static object? Unpickle(byte[] bytes) =>
        new Unpickler(new MemoryStream(bytes), _ => throw new PickleRefusedException("no persistent ids"), (_, _) => null).Load();

    static byte[] B(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public static TheoryData<string, string> Malicious => new()
    {
        // protocol 2 GLOBAL + REDUCE: os.system("id")
        { "\u0080\u0002cos\nsystem\nq\u0000X\u0002\u0000\u0000\u0000idq\u0001\u0085q\u0002Rq\u0003.", "os.system" },
        { "\u0080\u0002cposix\nsystem\nX\u0002\u0000\u0000\u0000id\u0085R.", "posix.system" },
        { "\u0080\u0002csubprocess\nPopen\nX\u0002\u0000\u0000\u0000id\u0085R.", "subprocess.Popen" },
        { "\u0080\u0002c__builtin__\neval\nX\u0001\u0000\u0000\u00001\u0085R.", "__builtin__.eval" },
        // protocol 4 STACK_GLOBAL: builtins.exec
        { "\u0080\u0004\u008c\u0008builtins\u008c\u0004exec\u0093\u008c\u0001x\u0085R.", "builtins.exec" },
        // a torch global that is not a state-dict rebuild function
        { "\u0080\u0002ctorch\nload\nX\u0001\u0000\u0000\u0000x\u0085R.", "torch.load" },
    };

    [Theory]
    [MemberData(nameof(Malicious))]
    public void MaliciousGlobalsAreRefusedBeforeAnythingRuns(string pickle, string global)
    {
        var e = Assert.Throws<PickleRefusedException>(() => Unpickle(B(pickle)));
        Assert.Contains(global, e.Message);
    }

    [Fact]
    public void InstantiatingOpcodesAreRefused()
    {
        // INST 'os system' with a MARK'd argument: a class/callable call outside REDUCE.
        Assert.Throws<PickleRefusedException>(() => Unpickle(B("\u0080\u0002(X\u0002\u0000\u0000\u0000idios\nsystem\n.")));
        // REDUCE on a storage class (only valid inside a persistent id).
        Assert.Throws<PickleRefusedException>(() => Unpickle(B("\u0080\u0002ctorch\nFloatStorage\n)R.")));
    }

    [Fact]
    public void MaliciousCheckpointFileIsAUserErrorNamingTheGlobal()
    {
        using var tmp = new TempDir();
        string path = tmp.File("best_ckpt_mp0.tar");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var s = zip.CreateEntry("best_ckpt_mp0/data.pkl").Open();
            s.Write(B("\u0080\u0002cos\nsystem\nX\u0002\u0000\u0000\u0000id\u0085R."));
        }
        var e = Assert.Throws<EnsembleException>(() => MakaniCheckpoint.ReadModelState(path));
        Assert.Contains("os.system", e.Message);
    }

    [Fact]
    public void MakaniParamsObjectBecomesAnInertPlaceholder()
    {
        // {'params': ParamsBase.__new__(ParamsBase) with state {'embed_dim': 16}, 'iters': 1}
        var p = B("\u0080\u0002}(X\u0006\u0000\u0000\u0000paramscmakani.utils.YParams\nParamsBase\n)\u0081}X\u0009\u0000\u0000\u0000embed_dimK\u0010sbX\u0005\u0000\u0000\u0000itersK\u0001u.");
        var root = Assert.IsType<PyDict>(Unpickle(p));
        Assert.True(root.TryGet("params", out var pv));
        var opaque = Assert.IsType<PickleOpaque>(pv);
        Assert.Equal("makani.utils.YParams.ParamsBase", opaque.Type.FullName);
        Assert.IsType<PyDict>(opaque.State);
        // The same object holding a builtins global is refused: the placeholder list does not widen the allowlist.
        var bad = B("\u0080\u0002}(X\u0006\u0000\u0000\u0000paramscmakani.utils.YParams\nParamsBase\n)\u0081c__builtin__\nset\n]\u0085RbX\u0005\u0000\u0000\u0000itersK\u0001u.");
        Assert.Contains("__builtin__.set", Assert.Throws<PickleRefusedException>(() => Unpickle(bad)).Message);
    }

    [Fact]
    public void TruncatedTamperedAndMismatchedCheckpointsAreUserErrors()
    {
        using var tmp = new TempDir();
        string good = tmp.File("good.tar");
        using (var w = torch.arange(12, dtype: ScalarType.Float32).reshape(3, 4))
            TorchCheckpoint.WriteStateDict(good, [new("module.model.w", w)]);
        Assert.Single(MakaniCheckpoint.ReadModelState(good));

        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(tmp.File("truncated.tar"), bytes[..(bytes.Length / 2)]);
        Assert.Throws<EnsembleException>(() => MakaniCheckpoint.ReadModelState(tmp.File("truncated.tar")));

        File.WriteAllBytes(tmp.File("garbage.tar"), Encoding.ASCII.GetBytes("not a checkpoint at all"));
        Assert.Throws<EnsembleException>(() => MakaniCheckpoint.ReadModelState(tmp.File("garbage.tar")));

        // Replace the 48-byte storage with 40 bytes: the declared element count no longer fits.
        string shortStorage = tmp.File("short.tar");
        File.Copy(good, shortStorage);
        using (var zip = ZipFile.Open(shortStorage, ZipArchiveMode.Update))
        {
            zip.GetEntry("good/data/0")!.Delete();
            using var s = zip.CreateEntry("good/data/0").Open();
            s.Write(new byte[40]);
        }
        Assert.Contains("40 bytes", Assert.Throws<EnsembleException>(() => MakaniCheckpoint.ReadModelState(shortStorage)).Message);

        // Flip a byte inside the stored storage data: the zip CRC check catches it.
        string tampered = tmp.File("tampered.tar");
        var t = (byte[])bytes.Clone();
        int at = IndexOf(t, "good/data/0"u8.ToArray()) + "good/data/0".Length + 4; // inside that entry's data (stored, no extra field)
        t[at] ^= 0xFF;
        File.WriteAllBytes(tampered, t);
        Assert.Throws<EnsembleException>(() => MakaniCheckpoint.ReadModelState(tampered));
    }

    [Fact]
    public void LegacyNonZipCheckpointIsRead()
    {
        var ms = new MemoryStream();
        // magic number 0x1950a86a20f9469cfc6c as LONG1, protocol 1001, sys info
        ms.Write(B("\u0080\u0002\u008a\u000a\u006c\u00fc\u009c\u0046\u00f9\u0020\u006a\u00a8\u0050\u0019."));
        ms.Write(B("\u0080\u0002M\u00e9\u0003."));
        ms.Write(B("\u0080\u0002}X\u000d\u0000\u0000\u0000little_endian\u0088s."));
        var w = new PickleWriter();
        w.EmptyDict();
        w.Mark();
        w.String("model_state");
        w.EmptyOrderedDict();
        w.Mark();
        w.String("module.model.bias");
        w.Tensor("k0", ScalarTypeName.Float64, 3, [3], [1]);
        w.SetItems();
        w.SetItems();
        ms.Write(w.Finish());
        ms.Write(B("\u0080\u0002]X\u0002\u0000\u0000\u0000k0a."));
        ms.Write(BitConverter.GetBytes(3L));
        foreach (var v in new[] { 1.5, -2.0, 3.25 }) ms.Write(BitConverter.GetBytes(v));
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("legacy.tar"), ms.ToArray());
        var state = MakaniCheckpoint.ReadModelState(tmp.File("legacy.tar"));
        Assert.Equal(new[] { 1.5, -2.0, 3.25 }, state["module.model.bias"].data<double>().ToArray());
    }

    [SkippableFact]
    public void FixtureCheckpointHoldsTheFixtureKeysWithComplexFilters()
    {
        string dir = Shared.Require("fixtures/sfno_small_package");
        var state = MakaniCheckpoint.ReadModelState(Path.Combine(dir, ModelPackage.CheckpointPath));
        Assert.Equal(47, state.Count);
        Assert.All(state.Keys, k => Assert.StartsWith("module.model.", k));
        Assert.Equal(ScalarType.ComplexFloat32, state["module.model.blocks.0.filter.filter.weight"].dtype);
        Assert.Equal(new long[] { 16, 16, 24 }, state["module.model.blocks.0.filter.filter.weight"].shape);
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
            if (hay.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("needle not found");
    }
}
