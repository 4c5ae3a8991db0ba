using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Data.Tests.EnsembleOutput;

public class OutputSelectionTests
{
    // 1° grid: lat 90 → −90 (181), lon 0 → 359 (360); values encode (channel, lat index, lon index).
    static readonly EnsembleLayout Full = EnsembleTestData.Layout(nlat: 181, nlon: 360) with { LeadTimeHours = [0, 6, 12, 18, 24] };

    static Tensor Fields(int b)
    {
        var t = arange(b * 3 * 181 * 360, ScalarType.Float32).reshape(b, 3, 181, 360);
        return t;
    }

    [Fact]
    public void SelectsVariablesLeadsAndBoxInOrder()
    {
        var sel = new OutputSelection(["u10m", "z500"], [6, 24], new CropBox(30, 60, 10, 20));
        var l = sel.Apply(Full);
        Assert.Equal(["u10m", "z500"], l.Variables);
        Assert.Equal([6.0, 24.0], l.LeadTimeHours);
        Assert.Equal(Enumerable.Range(0, 31).Select(i => 60.0 - i), l.Lat);
        Assert.Equal(Enumerable.Range(10, 11).Select(i => (double)i), l.Lon);
        Assert.Equal("m s-1", l.Units["u10m"]);
        Assert.False(l.Units.ContainsKey("t850"));
        Assert.Equal(Full.MemberInfo, l.MemberInfo);
        using var f = Fields(2);
        using var s = sel.Select(f);
        Assert.Equal(new long[] { 2, 2, 31, 11 }, s.shape);
        // u10m is channel 2 of the full layout; lat 60 is row 30, lon 10 column 10.
        Assert.Equal(f[1, 2, 30, 10].item<float>(), s[1, 0, 0, 0].item<float>());
        Assert.Equal(f[0, 0, 60, 20].item<float>(), s[0, 1, 30, 10].item<float>());
        Assert.Equal(1, l.LeadIndex(24));
        Assert.Equal(-1, l.LeadIndex(12));
    }

    [Fact]
    public void WrappingBoxRunsEastwardAcrossTheSeamWithIncreasingLongitudes()
    {
        var sel = new OutputSelection(crop: new CropBox(-10, 10, -5, 5), stride: 1);
        var l = sel.Apply(Full);
        Assert.Equal(Enumerable.Range(-5, 11).Select(i => (double)i), l.Lon);
        using var f = Fields(1);
        using var s = sel.Select(f, Full);
        Assert.Equal(new long[] { 1, 3, 21, 11 }, s.shape);
        Assert.Equal(f[0, 1, 80, 355].item<float>(), s[0, 1, 0, 0].item<float>());
        Assert.Equal(f[0, 1, 80, 0].item<float>(), s[0, 1, 0, 5].item<float>());
        Assert.Equal(f[0, 1, 100, 5].item<float>(), s[0, 1, 20, 10].item<float>());
        // The same box written 355 → 5 selects the same points, labelled 355 … 365.
        var l2 = new OutputSelection(crop: new CropBox(-10, 10, 355, 5)).Apply(Full);
        Assert.Equal(Enumerable.Range(355, 11).Select(i => (double)i), l2.Lon);
    }

    [Fact]
    public void StrideTakesEveryKthPointOfTheCroppedGrid()
    {
        var sel = new OutputSelection(stride: 4);
        var l = sel.Apply(Full);
        Assert.Equal(46, l.Nlat);
        Assert.Equal(90, l.Nlon);
        Assert.Equal(-90.0, l.Lat[^1]);
        Assert.Equal(356.0, l.Lon[^1]);
        using var f = Fields(1);
        using var s = sel.Select(f);
        Assert.Equal(f[0, 2, 8, 12].item<float>(), s[0, 2, 2, 3].item<float>());
        using var all = OutputSelection.All.Select(f, Full);
        Assert.True(all.eq(f).all().item<bool>());
    }

    [Fact]
    public void RejectsUnknownVariablesLeadsEmptyBoxesAndWrongShapes()
    {
        Assert.Throws<EnsembleException>(() => new OutputSelection(["q700"]).Apply(Full));
        Assert.Throws<EnsembleException>(() => new OutputSelection(leadHours: [7]).Apply(Full));
        Assert.Throws<EnsembleException>(() => new OutputSelection(crop: new CropBox(10.2, 10.8, 0, 10)).Apply(Full));
        Assert.Throws<EnsembleException>(() => new OutputSelection(stride: 0));
        var sel = new OutputSelection();
        sel.Apply(Full);
        using var wrong = zeros(1, 2, 181, 360);
        Assert.Throws<EnsembleException>(() => sel.Select(wrong));
    }
}
