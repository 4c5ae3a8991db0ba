using Ensemble.Data.Npy;
using Ensemble.Models.Sfno;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

[CollectionDefinition("torch thread count", DisableParallelization = true)]
public class TorchThreadCountCollection;

/// <summary>
/// The CPU inference forward on 2 threads runs on 2 workers (one member per piece at batch ≥ 2, the pieces of one
/// member's forward at batch 1): it must match makani and the forward without workers, and a member's result must not
/// depend on which worker ran what.
/// </summary>
[Collection("torch thread count")]
public class SfnoWorkersTests(ITestOutputHelper output)
{
    static T WithThreads<T>(int threads, Func<T> body)
    {
        int before = torch.get_num_threads();
        torch.set_num_threads(threads);
        try { return body(); }
        finally { torch.set_num_threads(before); }
    }

    static Tensor Forward(SphericalFourierNeuralOperatorNet net, Tensor x, bool workers)
    {
        bool before = SfnoWorkers.Enabled;
        SfnoWorkers.Enabled = workers;
        try { return net.forward(x); }
        finally { SfnoWorkers.Enabled = before; }
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    public void FixtureForwardOnWorkersMatchesMakani(int threads)
    {
        string dir = Shared.Require("fixtures/sfno_small");
        using var net = new SphericalFourierNeuralOperatorNet(TestTensors.SmallConfig(dir));
        var sd = TestTensors.ReadNpzTensors(Path.Combine(dir, "state_dict.npz"));
        net.LoadStateDict(sd, "state_dict.npz");
        foreach (var t in sd.Values) t.Dispose();
        net.eval();
        using var x = NpyFile.Read(Path.Combine(dir, "input.npy")).ToTensor();
        using var expected = NpyFile.Read(Path.Combine(dir, "output.npy")).ToTensor();
        Assert.True(x.shape[0] >= 2, "the fixture batch must have several members to exercise members as pieces");
        using var inference = torch.inference_mode();
        WithThreads(threads, () =>
        {
            using var batch = Forward(net, x, workers: true);
            double rel = TestTensors.RelativeError(batch, expected);
            output.WriteLine($"{threads} thread(s), batch {x.shape[0]}: relative error {rel:E3}");
            Assert.True(rel <= 1e-5, $"batch forward relative error {rel:E3} > 1e-5");
            Assert.Equal(threads, torch.get_num_threads());                 // the section restores the thread count
            for (long m = 0; m < x.shape[0]; m++)                              // batch 1: tiles shared among the workers
            {
                using var one = Forward(net, x.narrow(0, m, 1), workers: true);
                using var want = expected.narrow(0, m, 1);
                double r = TestTensors.RelativeError(one, want);
                output.WriteLine($"  member {m} alone: relative error {r:E3}");
                Assert.True(r <= 1e-5, $"member {m} relative error {r:E3} > 1e-5");
            }
            using var without = Forward(net, x, workers: false);
            double ab = TestTensors.RelativeError(batch, without);
            output.WriteLine($"  workers vs intra-op threads: relative difference {ab:E3}");
            Assert.True(ab <= 1e-5, $"workers differ from the forward without workers by {ab:E3}");
            return 0;
        });
    }

    /// <summary>
    /// On 2 workers a member alone (batch 1: tiles, norm-statistics chunks, Fourier row chunks, Legendre blocks and
    /// degree groups taken by both workers) runs the one-thread path's operations on the same slices, so it equals the
    /// one-thread forward bit for bit; in a batch each member is one piece, a one-thread forward, so every member equals
    /// its own forward bit for bit whatever the batch (the
    /// ensemble runner's "member K rerun alone reproduces the full run" and the bred vectors' "pair alone equals its batch
    /// row" rest on that; grouped members used to round differently: the 8×16 model differed by ≈ 2e-7).
    /// </summary>
    [Theory]
    [InlineData(181, 360, 24, 3, 2, true)]
    [InlineData(91, 180, 16, 2, 2, true)]
    [InlineData(8, 16, 8, 1, 1, true)]
    public void BatchOnWorkersEqualsPerMemberForwards(int nlat, int nlon, int embed, int layers, int scale, bool bitwiseAcrossBatch)
    {
        var config = new SfnoConfig
        {
            ImgShapeX = nlat, ImgShapeY = nlon, ScaleFactor = scale, NInChannels = 3, NOutChannels = 3, EmbedDim = embed, NumLayers = layers,
        };
        using var net = new SphericalFourierNeuralOperatorNet(config, seed: 3);
        net.eval();
        long hiddenBytes = (long)config.MlpHidden * nlat * nlon * 4;
        output.WriteLine($"hidden activation {hiddenBytes / 1e6:F1} MB (batch 1 is shared among the workers from {SphericalFourierNeuralOperatorNet.ShareBytes / 1e6:F1} MB)");
        using var inference = torch.inference_mode();
        using var x = torch.randn([5, 3, nlat, nlon], generator: new Generator(7));
        var alone1 = WithThreads(1, () => Enumerable.Range(0, 5).Select(m => net.forward(x.narrow(0, m, 1))).ToArray());
        WithThreads(2, () =>
        {
            using var batch = Forward(net, x, workers: true);
            using var without = Forward(net, x, workers: false);
            for (long m = 0; m < x.shape[0]; m++)
            {
                using var one = Forward(net, x.narrow(0, m, 1), workers: true);
                using var slice = batch.narrow(0, m, 1);
                Assert.True(one.bytes.SequenceEqual(alone1[m].bytes), $"member {m}: its forward on 2 workers differs from the one-thread forward");
                double r = TestTensors.RelativeError(slice, one);
                output.WriteLine($"member {m}: batch on workers vs alone {r:E3}");
                Assert.True(r <= 1e-6, $"member {m}: batch forward on workers differs from its own forward by {r:E3}");
                if (bitwiseAcrossBatch)
                    Assert.True(slice.contiguous().bytes.SequenceEqual(one.bytes), $"member {m}: batch forward on workers differs from its own forward (relative {r:E3})");
            }
            double ab = TestTensors.RelativeError(batch, without);
            output.WriteLine($"workers vs intra-op threads: {ab:E3}");
            Assert.True(ab <= 1e-5, $"workers differ from the forward without workers by {ab:E3}");
            return 0;
        });
        foreach (var t in alone1) t.Dispose();
    }

    [Fact]
    public void PiecesRunOnceEachAndTheFirstFailureByIndexIsRethrown()
    {
        WithThreads(2, () =>
        {
            using var section = SfnoWorkers.Enter(2, 2);
            var runs = new int[40];
            var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
            SfnoWorkers.ForEach(runs.Length, i => i, i =>
            {
                threads[Environment.CurrentManagedThreadId] = true;
                Interlocked.Increment(ref runs[i]);
                Thread.Sleep(1);                                                   // long enough for the worker to take some
            });
            Assert.All(runs, n => Assert.Equal(1, n));
            Assert.Equal(2, threads.Count);
            Array.Clear(runs);
            var e = Assert.Throws<InvalidOperationException>(() => SfnoWorkers.ForEach(runs.Length, null, i =>
            {
                Interlocked.Increment(ref runs[i]);
                if (i is 7 or 23) throw new InvalidOperationException($"piece {i}");
            }));
            Assert.Equal("piece 7", e.Message);
            Assert.All(runs, n => Assert.Equal(1, n));                              // the others still ran
            return 0;
        });
        Assert.Equal(1, SfnoWorkers.Width);                                         // the section is closed
    }

    [Fact]
    public void TrainingAndOneThreadBypassTheWorkers()
    {
        var config = new SfnoConfig { ImgShapeX = 17, ImgShapeY = 32, ScaleFactor = 2, NInChannels = 2, NOutChannels = 2, EmbedDim = 4, NumLayers = 2 };
        using var net = new SphericalFourierNeuralOperatorNet(config, seed: 1);
        using var x = torch.randn([3, 2, 17, 32], generator: new Generator(2));
        WithThreads(2, () =>
        {
            using var y = net.forward(x);                                      // gradient recorded: module path
            Assert.True(y.requires_grad);
            Assert.Equal(2, torch.get_num_threads());
            return 0;
        });
        using var inference = torch.inference_mode();
        WithThreads(1, () =>
        {
            using var on = Forward(net, x, workers: true);
            using var off = Forward(net, x, workers: false);
            Assert.Equal(0f, (on - off).abs().max().item<float>());          // the unchanged one-thread path, bit for bit
            return 0;
        });
    }
}
