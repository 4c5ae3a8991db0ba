using Ensemble.Core;
using Ensemble.Data.Grib;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Data.Tests.Grib.GribTestWriter;

namespace Ensemble.Data.Tests.Grib;

/// <summary>Bad files give one-line <see cref="EnsembleException"/>s naming the file, the message and the problem.</summary>
public sealed class GribErrorTests
{
    static readonly Packing Small = new(8, 0, 0, 0, [1, 2, 3, 4]);
    static byte[] Good1() => Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, Small);
    static byte[] Good2(int gridTemplate = 0, int template = 0) =>
        Grib2(2, 2, 10_000_000, 0, 0, 10_000_000, 10_000_000, 10_000_000, 0,
            [new Grib2Field(template, 0, 0, 100, 50000, new Packing(8, 0f, 0, 0, [1, 2, 3, 4]))], gridTemplate);

    static EnsembleException OpenFails(TempDir dir, byte[] bytes, string name = "bad.grib")
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<EnsembleException>(() => GribFile.Open(path));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith(path + ": ", e.Message);
        return e;
    }

    [Fact]
    public void Truncated_second_message_is_named()
    {
        using var dir = new TempDir();
        byte[] one = Good1();
        byte[] bytes = [.. one, .. Good1().AsSpan(0, one.Length - 10)];
        var e = OpenFails(dir, bytes);
        Assert.Equal($"{dir.File("bad.grib")}: message 2 (byte {one.Length}): truncated: message declares {one.Length} bytes but the file ends after {one.Length - 10}", e.Message);
    }

    [SkippableFact]
    public void Truncated_real_file_is_reported()
    {
        byte[] real = File.ReadAllBytes(Shared.Require("data/ensemble/ecmwf_ens_z850_tiny_51members.grib"));
        using var dir = new TempDir();
        var e = OpenFails(dir, real.AsSpan(0, 240 * 3 + 100).ToArray(), "cut.grib");
        Assert.Contains("message 4 (byte 720): truncated", e.Message);
    }

    [Fact]
    public void Wrong_magic_and_empty_files_are_not_grib()
    {
        using var dir = new TempDir();
        Assert.Equal($"{dir.File("text.grib")}: not a GRIB file (no 'GRIB' marker in 21 bytes)",
            OpenFails(dir, "CDF\u0001 not a grib file\n"u8.ToArray(), "text.grib").Message);
        Assert.Equal($"{dir.File("empty.grib")}: not a GRIB file (the file is empty)", OpenFails(dir, [], "empty.grib").Message);
        Assert.Throws<EnsembleException>(() => GribFile.Open(dir.File("missing.grib")));
    }

    [Fact]
    public void Unsupported_edition_and_corrupt_end_marker()
    {
        using var dir = new TempDir();
        byte[] three = Good2();
        three[7] = 3;
        Assert.EndsWith("message 1 (byte 0): GRIB edition 3 is not supported (only 1 and 2)", OpenFails(dir, three).Message);

        byte[] noEnd = Good1();
        noEnd[^1] = (byte)'X';
        Assert.EndsWith("message 1 (byte 0): end marker '7777' not found where the declared length puts it (corrupt or truncated message)",
            OpenFails(dir, noEnd).Message);
    }

    [Fact]
    public void Unsupported_grids_and_templates_are_named()
    {
        using var dir = new TempDir();
        Assert.EndsWith("message 1 (byte 0): grid template 3.40 (Gaussian) is not supported (only 3.0, regular lat/lon)",
            OpenFails(dir, Good2(gridTemplate: 40)).Message);
        Assert.EndsWith("message 1 (byte 0): product definition template 4.15 is not supported (supported: 4.0, 4.1, 4.8, 4.11)",
            OpenFails(dir, Good2(template: 15)).Message);
        byte[] gaussian1 = [.. Good1(), .. Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, Small, gridType: 4)];
        Assert.EndsWith($"message 2 (byte {Good1().Length}): GRIB1 grid type 4 (Gaussian) is not supported (only 0, regular lat/lon)",
            OpenFails(dir, gaussian1).Message);
        Assert.EndsWith("message 1 (byte 0): GRIB1 time range indicator 118 is not supported (supported: 0-5, 10)",
            OpenFails(dir, Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, Small, timeRange: 118)).Message);
        Assert.EndsWith("message 1 (byte 0): GRIB1 forecast time unit month is not supported",
            OpenFails(dir, Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, Small, unit: 3)).Message);
    }

    [Fact]
    public void Unsupported_grib1_packing_fails_only_when_values_are_read()
    {
        using var dir = new TempDir();
        string path = dir.File("complex.grib");
        File.WriteAllBytes(path, Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, Small, bdsFlags: 0x40));
        using var file = GribFile.Open(path);
        Assert.Equal("grid_second_order", file.Messages[0].PackingType);
        var e = Assert.Throws<EnsembleException>(() => file.Messages[0].Values());
        Assert.Equal($"{path}: message 1 (byte 0): GRIB1 complex / second-order packing is not supported (only simple packing)", e.Message);
    }

    [Fact]
    public void Corrupt_section_length_is_reported()
    {
        using var dir = new TempDir();
        byte[] bytes = Good2();
        bytes[16 + 3] = 200; // section 1 claims 200 octets
        Assert.Contains("message 1 (byte 0): section 1 at byte 16 declares 200 octets, beyond the message end", OpenFails(dir, bytes).Message);
    }
}
