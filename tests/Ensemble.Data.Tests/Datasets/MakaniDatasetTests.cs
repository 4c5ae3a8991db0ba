using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Data.Hdf5;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.Datasets;

public class MakaniDatasetTests
{
    const int C = 3, H = 4, W = 8;
    static readonly string[] Names = ["z", "u", "v"];

    static float Value(int year, int t, int c, int k) => year * 1000 + t * 10 + c + k * 1e-3f;

    static void WriteYear(string dir, int year, int times)
    {
        var data = new float[times * C * H * W];
        for (int t = 0; t < times; t++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < H * W; k++)
                    data[(t * C + c) * H * W + k] = Value(year, t, c, k);
        MakaniYearFile.Write(Path.Combine(dir, $"{year}.h5"), year, 6, data, Names,
            Enumerable.Range(0, H).Select(i => 90.0 - 60.0 * i).ToArray(), Enumerable.Range(0, W).Select(j => 45.0 * j).ToArray());
    }

    static string Layout(TempDir tmp, bool contiguous)
    {
        string train = tmp.File("train");
        Directory.CreateDirectory(train);
        // 2001 has 1460 six-hourly times; writing all of them joins onto 2002, writing 3 leaves a gap.
        WriteYear(train, 2001, contiguous ? 1460 : 3);
        WriteYear(train, 2002, 4);
        new MakaniMetadata("test", 6, Names, Enumerable.Range(0, H).Select(i => 90.0 - 60.0 * i).ToArray(),
            Enumerable.Range(0, W).Select(j => 45.0 * j).ToArray()).Write(tmp.File("data.json"));
        return train;
    }

    [Fact]
    public void Reads_year_files_as_one_time_axis_with_exact_values()
    {
        using var tmp = new TempDir();
        using var d = new MakaniDataset(Layout(tmp, contiguous: false));
        Assert.Equal(Names, d.Channels);
        Assert.Equal(7, d.Count);
        Assert.Equal([(0, 3), (3, 4)], d.Segments);
        Assert.Equal(new DateTime(2001, 1, 1, 12, 0, 0, DateTimeKind.Utc), d.TimeOf(2));
        Assert.Equal(new DateTime(2002, 1, 1, 6, 0, 0, DateTimeKind.Utc), d.TimeOf(4));
        using var x = d.Get(4);
        Assert.Equal(new long[] { C, H, W }, x.shape);
        var v = x.data<float>().ToArray();
        Assert.Equal(Value(2002, 1, 0, 0), v[0]);
        Assert.Equal(Value(2002, 1, 2, 5), v[2 * H * W + 5]);
        Assert.Equal([0, 1, 3, 4, 5], d.SequenceStarts(1));
    }

    [Fact]
    public void Consecutive_years_form_one_segment()
    {
        using var tmp = new TempDir();
        using var d = new MakaniDataset(Layout(tmp, contiguous: true));
        Assert.Equal([(0, 1464)], d.Segments);
        Assert.Contains(1459, d.SequenceStarts(1));
    }

    [Fact]
    public void Channel_selection_reorders_and_unknown_channels_are_named()
    {
        using var tmp = new TempDir();
        string train = Layout(tmp, contiguous: false);
        using var d = new MakaniDataset(train, ["v", "z"]);
        using var x = d.Get(0);
        Assert.Equal(Value(2001, 0, 2, 0), x[0, 0, 0].item<float>());
        Assert.Equal(Value(2001, 0, 0, 0), x[1, 0, 0].item<float>());
        var e = Assert.Throws<EnsembleException>(() => new MakaniDataset(train, ["t2m"]));
        Assert.Contains("no channel 't2m'", e.Message);
    }

    [Fact]
    public void Missing_metadata_or_files_are_user_errors()
    {
        using var tmp = new TempDir();
        Assert.Contains("no such folder", Assert.Throws<EnsembleException>(() => new MakaniDataset(tmp.File("nope"))).Message);
        Directory.CreateDirectory(tmp.File("empty"));
        Assert.Contains("data.json", Assert.Throws<EnsembleException>(() => new MakaniDataset(tmp.File("empty"))).Message);
    }
}
