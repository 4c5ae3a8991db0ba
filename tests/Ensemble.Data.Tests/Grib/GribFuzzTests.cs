using Ensemble.Core;
using Ensemble.Data.Grib;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Data.Tests.Grib.GribTestWriter;

namespace Ensemble.Data.Tests.Grib;

/// <summary>
/// Corrupted messages (random bytes overwritten, seeded) must either decode or fail with an
/// <see cref="EnsembleException"/>; an IndexOutOfRange/Overflow/OutOfMemory exception would be a reader bug.
/// </summary>
public sealed class GribFuzzTests
{
    static void Fuzz(byte[] original, int seed, int rounds)
    {
        var random = new Random(seed);
        using var dir = new TempDir();
        string path = dir.File("fuzz.grib");
        for (int round = 0; round < rounds; round++)
        {
            byte[] bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            for (int k = 0; k < flips; k++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            if (random.Next(8) == 0) bytes = bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
            File.WriteAllBytes(path, bytes);
            try
            {
                using var file = GribFile.Open(path);
                foreach (var m in file.Messages)
                {
                    m.Values();
                    m.Latitudes();
                    _ = GribInspect.Describe(path);
                }
            }
            catch (EnsembleException e)
            {
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Fact]
    public void Corrupt_grib1_messages_fail_cleanly()
    {
        var packing = new Packing(11, -3.25, -2, 1, [.. Enumerable.Range(0, 9).Select(i => (uint)(i * 200))],
            [true, true, false, true, true, true, true, true, false, true, true]);
        Fuzz(Grib1(11, 1, 10000, 0, 10000, 100000, 9000, 0, 0, packing), seed: 1, rounds: 400);
    }

    [Fact]
    public void Corrupt_grib2_messages_fail_cleanly()
    {
        var packing = new Packing(12, 1.5f, -4, 0, [0, 4095, 17, 2048, 1], [true, true, false, true, true, true]);
        byte[] message = Grib2(3, 2, 60_000_000, 350_000_000, 50_000_000, 10_000_000, 10_000_000, 10_000_000, 0,
        [
            new Grib2Field(11, 2, 22, 103, 10, packing, ForecastTime: 69, Statistic: 2, StatisticLength: 3),
            new Grib2Field(1, 0, 0, 100, 85000, packing with { Present = null, Codes = [1, 2, 3, 4, 5, 6] }),
        ]);
        Fuzz(message, seed: 2, rounds: 400);
    }

    [SkippableFact]
    public void Corrupt_real_messages_fail_cleanly()
    {
        byte[] real = File.ReadAllBytes(Shared.Require("data/verification/ifs_fc_20160925_00z_step0_120/t_pl.grib"));
        Fuzz(real, seed: 3, rounds: 150);
    }
}
