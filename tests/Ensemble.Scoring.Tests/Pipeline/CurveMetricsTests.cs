using Ensemble.Core;
using Ensemble.Scoring.Pipeline;
using Ensemble.Scoring.Spectra;
using Ensemble.Scoring.Tables;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests.Pipeline;

/// <summary>
/// rank, brier, twcrps, reliability, roc and spectra rows of the pipeline against plain loops on a small
/// global equiangular grid (continuous data: no rank ties, so the tie break never matters).
/// </summary>
public class CurveMetricsTests
{
    const int M = 6, T = 3, L = 2, Nlat = 9, Nlon = 16, TruthTimes = 8;
    static readonly DateTime T0 = new(2024, 3, 1);
    static readonly double[] Lat = Enumerable.Range(0, Nlat).Select(i => 90.0 - 180.0 * i / (Nlat - 1)).ToArray();
    static readonly double[] Lon = Enumerable.Range(0, Nlon).Select(j => 360.0 * j / Nlon).ToArray();
    static readonly double[] Leads = [24, 48];

    static double Noise(int a, int b, int c, int d)
    {
        double u = Math.Sin(12.9898 * (a + 1) + 78.233 * (b + 1) + 37.719 * (c + 1) + 4.581 * d) * 43758.5453;
        return u - Math.Floor(u) - 0.5;
    }

    static double Truth(int t, int i, int j) => 280 + 10 * Math.Sin(Lat[i] * Math.PI / 180) + 3 * Noise(t, i, j, 7);
    static double Member(int m, int ti, int li, int i, int j) => Truth(ti + li + 1, i, j) + (1 + li) * 2 * Noise(m, ti * 3 + li, i, j);

    internal static (ForecastSet, TruthSet) Build(Func<int, int, double>? truthOverride = null)
    {
        var grid = new ScoreGrid(Lat, Lon);
        var inits = Enumerable.Range(0, T).Select(t => T0.AddDays(t)).ToArray();
        var f = new double[M * T * L * Nlat * Nlon];
        int k = 0;
        for (int m = 0; m < M; m++) for (int t = 0; t < T; t++) for (int l = 0; l < L; l++)
                    for (int i = 0; i < Nlat; i++) for (int j = 0; j < Nlon; j++) f[k++] = Member(m, t, l, i, j);
        var y = new double[TruthTimes * Nlat * Nlon];
        k = 0;
        for (int t = 0; t < TruthTimes; t++) for (int i = 0; i < Nlat; i++) for (int j = 0; j < Nlon; j++)
                    y[k++] = truthOverride?.Invoke(i, j) ?? Truth(t, i, j);
        var fc = new ForecastSet("ml", "memory", false, grid,
            [new ForecastVariable("t850", inits, Leads, tensor(f, [M, T, L, Nlat, Nlon], ScalarType.Float64))]);
        var truth = new TruthSet("memory", grid,
            [new TruthVariable("t850", Enumerable.Range(0, TruthTimes).Select(t => T0.AddDays(t)).ToArray(), tensor(y, [TruthTimes, Nlat, Nlon], ScalarType.Float64))]);
        return (fc, truth);
    }

    static double NumpyPercentile(double[] v, double q)
    {
        var s = v.Order().ToArray();
        double pos = (s.Length - 1) * q / 100;
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    static double FairCrps(double[] x, double y)
    {
        double skill = x.Average(v => Math.Abs(v - y)), pairs = 0;
        foreach (var a in x) foreach (var b in x) pairs += Math.Abs(a - b);
        return skill - pairs / (2.0 * x.Length * (x.Length - 1));
    }

    static double Value(List<ScoreRow> rows, int l, string metric, string init = "") =>
        rows.Single(r => r.LeadTimeHours == Leads[l] && r.Metric == metric && r.InitTime == init).Value;

    [Theory]
    [InlineData(95.0)]
    [InlineData(5.0)]
    public void Event_scores_rank_histogram_reliability_and_roc_match_plain_loops(double percentile)
    {
        var (fc, truth) = Build();
        using var _f = fc; using var _t = truth;
        var rows = ScorePipeline.Score(fc, truth, ["rank", "brier", "twcrps", "reliability", "roc"], ScoreWeighting.None,
            new ScoreOptions { EventPercentile = percentile, ReliabilityBins = 5, RocBins = 4 });
        string tag = percentile >= 50 ? "p95" : "p05";
        bool upper = percentile >= 50;
        var thr = new double[Nlat, Nlon];
        for (int i = 0; i < Nlat; i++)
            for (int j = 0; j < Nlon; j++)
                thr[i, j] = NumpyPercentile(Enumerable.Range(0, TruthTimes).Select(t => Truth(t, i, j)).ToArray(), percentile);
        double[] edges = [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1];
        for (int l = 0; l < L; l++)
        {
            var rank = new double[M + 1];
            var bs = new double[T]; var bsf = new double[T]; var tw = new double[T];
            var probs = new List<double>(); var events = new List<double>();
            for (int t = 0; t < T; t++)
            {
                for (int i = 0; i < Nlat; i++)
                    for (int j = 0; j < Nlon; j++)
                    {
                        double y = Truth(t + l + 1, i, j), th = thr[i, j];
                        var x = Enumerable.Range(0, M).Select(m => Member(m, t, l, i, j)).ToArray();
                        rank[x.Count(v => v < y)]++;
                        bool Ev(double v) => upper ? v > th : v < th;
                        double e = x.Count(Ev), o = Ev(y) ? 1 : 0, p = e / M;
                        bs[t] += (p - o) * (p - o) / (Nlat * Nlon);
                        bsf[t] += ((p - o) * (p - o) - e * (M - e) / ((double)M * M * (M - 1))) / (Nlat * Nlon);
                        tw[t] += (upper ? FairCrps(x.Select(v => Math.Max(v, th)).ToArray(), Math.Max(y, th))
                                        : FairCrps(x.Select(v => Math.Min(v, th)).ToArray(), Math.Min(y, th))) / (Nlat * Nlon);
                        probs.Add(p); events.Add(o);
                    }
                string init = ScoreRow.FormatInitTime(T0.AddDays(t));
                Assert.Equal(bs[t], Value(rows, l, $"brier@{tag}", init), 12);
                Assert.Equal(bsf[t], Value(rows, l, $"brier_fair@{tag}", init), 12);
                Assert.Equal(tw[t], Value(rows, l, $"twcrps@{tag}", init), 10);
            }
            Assert.Equal(bs.Average(), Value(rows, l, $"brier@{tag}"), 12);
            Assert.Equal(tw.Average(), Value(rows, l, $"twcrps@{tag}"), 10);
            for (int k = 0; k <= M; k++) Assert.Equal(rank[k] / (T * Nlat * Nlon), Value(rows, l, $"rank:{k}"), 14);
            Assert.DoesNotContain(rows, r => r.LeadTimeHours == Leads[l] && r.Metric == $"rank:{M + 1}");

            for (int b = 0; b < 5; b++)
            {
                var inBin = Enumerable.Range(0, probs.Count).Where(n => probs[n] >= edges[b] && (probs[n] < edges[b + 1] || (b == 4 && probs[n] <= 1))).ToList();
                Assert.Equal(inBin.Count, Value(rows, l, $"reliability_count@{tag}:{b}"));
                if (inBin.Count > 0) Assert.Equal(inBin.Average(n => events[n]), Value(rows, l, $"reliability@{tag}:{b}"), 14);
                else Assert.True(double.IsNaN(Value(rows, l, $"reliability@{tag}:{b}")));
            }
            // ROC: thresholds 1, 0.75, 0.5, 0.25, 0 between the (0,0) and (1,1) end points.
            double[] th4 = [1, 0.75, 0.5, 0.25, 0];
            int n1 = events.Count(o => o > 0.5), n0 = events.Count - n1;
            for (int k = 0; k < th4.Length; k++)
            {
                int hits = Enumerable.Range(0, probs.Count).Count(n => probs[n] >= th4[k] && events[n] > 0.5);
                int fa = Enumerable.Range(0, probs.Count).Count(n => probs[n] >= th4[k] && events[n] < 0.5);
                Assert.Equal((double)hits / n1, Value(rows, l, $"roc_hr@{tag}:{k + 1}"), 14);
                Assert.Equal((double)fa / n0, Value(rows, l, $"roc_far@{tag}:{k + 1}"), 14);
            }
            double auc = Value(rows, l, $"roc_auc@{tag}");
            Assert.InRange(auc, 0.5, 1.0);   // the members carry information about the truth
        }
        Assert.All(rows.Where(r => MetricName.Parse(r.Metric).Index is not null), r => Assert.Equal("", r.InitTime));
    }

    [Fact]
    public void Spectra_rows_give_the_exact_spectrum_of_a_degree_one_truth_and_members_above_mean()
    {
        // y = sin(lat) = cos(colatitude) = √(4π/3) Y_1^0: E(1) = ∫ y² dΩ = 4π/3, every other degree 0.
        var (fc, truth) = Build((i, j) => Math.Sin(Lat[i] * Math.PI / 180));
        using var _f = fc; using var _t = truth;
        var rows = ScorePipeline.Score(fc, truth, ["spectra"], ScoreWeighting.CosLat);
        int lmax = (Nlat + 1) / 2;
        for (int l = 0; l < L; l++)
        {
            for (int d = 0; d < lmax; d++)
            {
                double truthE = Value(rows, l, $"spectrum_truth:{d}");
                Assert.Equal(d == 1 ? 4 * Math.PI / 3 : 0, truthE, 10);
                Assert.True(Value(rows, l, $"spectrum_members:{d}") >= Value(rows, l, $"spectrum_mean:{d}") - 1e-9);
            }
            Assert.DoesNotContain(rows, r => r.Metric == $"spectrum_truth:{lmax}");
        }
        // Spread grows with lead: the ensemble mean loses more power at the longer lead.
        double Loss(int l) => Enumerable.Range(0, lmax).Sum(d => Value(rows, l, $"spectrum_members:{d}") - Value(rows, l, $"spectrum_mean:{d}"));
        Assert.True(Loss(1) > Loss(0));
    }

    [Theory]
    [InlineData(30.0, 60.0)]
    [InlineData(20.0, 70.0)]
    public void Spectra_rows_include_band_mean_zonal_spectra_of_members_mean_and_truth(double minLat, double maxLat)
    {
        var (fc, truth) = Build();
        using var _f = fc; using var _t = truth;
        var options = new ScoreOptions { ZonalSpectrumBand = new LatitudeBand(minLat, maxLat) };
        var table = ScorePipeline.ScoreTable(fc, truth, ["spectra"], ScoreWeighting.None, options);
        var rows = table.Rows.ToList();
        Assert.Contains($"{minLat:0}°–{maxLat:0}° N/S", table.Metadata["zonal_spectrum"]);
        // Expected values from WB2's per-latitude spectrum directly: band rows picked by hand, plain means.
        var band = Enumerable.Range(0, Nlat).Where(i => Math.Abs(Lat[i]) >= minLat && Math.Abs(Lat[i]) <= maxLat).ToArray();
        Assert.Equal(minLat == 30 ? 2 : 6, band.Length);   // ±45°; or ±22.5°, ±45°, ±67.5°
        var bandLat = band.Select(i => Lat[i]).ToArray();
        var data = fc.Variables["t850"].Data;
        int nk = Nlon / 2 + 1;
        double[] BandMean(Tensor field)   // field [lat, lon]
        {
            using var rowsIdx = tensor(band.Select(i => (long)i).ToArray());
            using var sel = field.index_select(0, rowsIdx);
            using var spec = ZonalEnergySpectrum.Compute(sel, bandLat);
            var v = spec.data<double>().ToArray();
            return Enumerable.Range(0, nk).Select(k => Enumerable.Range(0, band.Length).Average(b => v[b * nk + k])).ToArray();
        }
        for (int l = 0; l < L; l++)
        {
            var members = new double[nk]; var ofMean = new double[nk]; var ofTruth = new double[nk];
            for (int t = 0; t < T; t++)
            {
                for (int m = 0; m < M; m++)
                {
                    using var xm = data[m, t, l];
                    var sm = BandMean(xm);
                    for (int k = 0; k < nk; k++) members[k] += sm[k] / (M * T);
                }
                using var mean = data[.., t, l].mean([0L]);
                var se = BandMean(mean);
                using var y = truth.Variables["t850"].Data[t + l + 1];
                var st = BandMean(y);
                for (int k = 0; k < nk; k++) { ofMean[k] += se[k] / T; ofTruth[k] += st[k] / T; }
            }
            for (int k = 0; k < nk; k++)
            {
                Assert.True(Math.Abs(Value(rows, l, $"zonal_spectrum_members:{k}") / members[k] - 1) < 1e-12, $"members k={k}");
                Assert.True(Math.Abs(Value(rows, l, $"zonal_spectrum_mean:{k}") / ofMean[k] - 1) < 1e-12, $"mean k={k}");
                Assert.True(Math.Abs(Value(rows, l, $"zonal_spectrum_truth:{k}") / ofTruth[k] - 1) < 1e-12, $"truth k={k}");
            }
            Assert.DoesNotContain(rows, r => r.Metric == $"zonal_spectrum_members:{nk}");
        }
        Assert.All(rows.Where(r => r.Metric.StartsWith("zonal_spectrum", StringComparison.Ordinal)), r => Assert.Equal("", r.InitTime));
    }

    [Fact]
    public void Spectra_on_a_regional_grid_is_a_user_error()
    {
        var grid = new ScoreGrid([50, 49, 48, 47], [0, 1, 2, 3, 4]);
        using var fc = new ForecastSet("m", "box.nc", false, grid,
            [new ForecastVariable("z500", [T0], [0], zeros(new long[] { 3, 1, 1, 4, 5 }, dtype: ScalarType.Float64))]);
        var e = Assert.Throws<EnsembleException>(() => ScorePipeline.Score(fc, null, ["spectra"], ScoreWeighting.None));
        Assert.Contains("global grid", e.Message);
    }

    [Theory]
    [InlineData("brier@p95", "brier", "p95", null)]
    [InlineData("roc_hr@p99.9:12", "roc_hr", "p99.9", 12)]
    [InlineData("rank:0", "rank", null, 0)]
    [InlineData("crps", "crps", null, null)]
    public void Metric_names_parse(string text, string b, string? tag, int? index)
    {
        var n = MetricName.Parse(text);
        Assert.Equal((b, tag, index), (n.Base, n.Tag, n.Index));
        Assert.Equal(text, n.ToString());
        Assert.Equal("p05", MetricName.PercentileTag(5));
        Assert.Equal("p99.9", MetricName.PercentileTag(99.9));
    }
}
