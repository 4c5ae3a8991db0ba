using Ensemble.Core;
using Ensemble.Data.Grib;
using Ensemble.Scoring.Extremes;
using Ensemble.Scoring.Pipeline;
using Ensemble.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ensemble.Scoring.Tests.Pipeline;

public class RealDataScoringTests(ITestOutputHelper output)
{
    const string Fc = "data/verification/ifs_fc_20160925_00z_step0_120/t_pl.grib";
    const string An = "data/verification/ifs_an_20160925_20161001_12h/t_pl.grib";
    const string Storm = "data/ensemble/ecmwf_ens_storm_20131025_10fg3_z850.grib";

    /// <summary>
    /// data-formats.md §10.2: IFS HRES t850 at +120 h minus the analysis valid 2016-09-30 00 UTC over the
    /// 12×7 (84-point) box, RMSE from ecCodes-decoded values: 1.8981 K unweighted, 1.7129 K cos-lat weighted;
    /// t500: 2.0304 K / 1.8488 K; step 0 at 850 hPa: 0.00049 K (packing noise).
    /// </summary>
    [SkippableTheory]
    [InlineData(ScoreWeighting.None, "t850", 120, 1.8981)]
    [InlineData(ScoreWeighting.CosLat, "t850", 120, 1.7129)]
    [InlineData(ScoreWeighting.None, "t500", 120, 2.0304)]
    [InlineData(ScoreWeighting.CosLat, "t500", 120, 1.8488)]
    [InlineData(ScoreWeighting.None, "t850", 0, 0.00049)]
    public void Deterministic_ifs_rmse_matches_eccodes_check_values(ScoreWeighting weighting, string variable, double lead, double expected)
    {
        using var fc = ForecastReader.FromGrib([Shared.Require(Fc)], "ifs-hres");
        using var an = TruthReader.FromGrib([Shared.Require(An)]);
        Assert.True(fc.IsDeterministic);
        Assert.Equal(84, fc.Grid.Nlat * fc.Grid.Nlon);
        Assert.Equal(13, an.Variables["t850"].Times.Length);
        var rows = ScorePipeline.Score(fc, an, ["rmse"], weighting);
        var agg = rows.Single(r => r.Variable == variable && r.LeadTimeHours == lead && r.IsAggregate);
        Assert.Equal("rmse", agg.Metric);
        Assert.Equal(1, agg.Members);
        Assert.Equal(ScorePipeline.Name(weighting), agg.Weighting);
        output.WriteLine($"{variable} +{lead} h {weighting}: rmse {agg.Value:R} (ecCodes check value {expected})");
        Assert.True(Math.Abs(agg.Value - expected) <= (lead == 0 ? 5e-5 : 1e-3), $"rmse {agg.Value} vs {expected}");
        var perInit = rows.Single(r => r.Variable == variable && r.LeadTimeHours == lead && !r.IsAggregate);
        Assert.Equal("2016-09-25T00:00:00", perInit.InitTime);
        Assert.Equal(agg.Value, perInit.Value, 12);   // one initial time: the aggregate is that time's score
    }

    /// <summary>Several GRIB files at once: variables named t500/t850/msl/u10m; msl RMSE against plain loops over the decoded fields.</summary>
    [SkippableFact]
    public void Several_grib_files_give_named_variables_and_msl_rmse_matches_loops()
    {
        string dirFc = Shared.Require("data/verification/ifs_fc_20160925_00z_step0_120");
        string dirAn = Shared.Require("data/verification/ifs_an_20160925_20161001_12h");
        string[] files = ["t_pl.grib", "msl_sfc.grib", "10u_sfc.grib"];
        using var fc = ForecastReader.FromGrib(files.Select(f => Path.Combine(dirFc, f)).ToArray());
        using var an = TruthReader.FromGrib(files.Select(f => Path.Combine(dirAn, f)).ToArray());
        Assert.Equal(["msl", "t500", "t850", "u10m"], fc.Variables.Keys.Order(StringComparer.Ordinal));
        var rows = ScorePipeline.Score(fc, an, ["rmse"], ScoreWeighting.None);
        Assert.Equal(4 * 2 * 2, rows.Count);   // 4 variables × 2 leads × (1 init + aggregate)

        double[] f120, a120;
        using (var f = GribFile.Open(Path.Combine(dirFc, "msl_sfc.grib")))
            f120 = f.Messages.Single(m => m.Step == TimeSpan.FromHours(120)).Values();
        using (var a = GribFile.Open(Path.Combine(dirAn, "msl_sfc.grib")))
            a120 = a.Messages.Single(m => m.ValidTime == new DateTime(2016, 9, 30)).Values();
        double expected = Math.Sqrt(f120.Zip(a120, (x, y) => (x - y) * (x - y)).Average());
        var r = rows.Single(r => r.Variable == "msl" && r.LeadTimeHours == 120 && r.IsAggregate);
        output.WriteLine($"msl +120 h rmse {r.Value:R} Pa (loops {expected:R})");
        Assert.True(Math.Abs(r.Value - expected) <= 1e-9 * expected, $"{r.Value} vs {expected}");
        Assert.InRange(expected, 10, 2000);
    }

    [SkippableFact]
    public void Deterministic_forecast_refuses_ensemble_metrics()
    {
        using var fc = ForecastReader.FromGrib([Shared.Require(Fc)]);
        using var an = TruthReader.FromGrib([Shared.Require(An)]);
        var e = Assert.Throws<EnsembleException>(() => ScorePipeline.Score(fc, an, ["crps"], ScoreWeighting.None));
        Assert.Contains("only rmse", e.Message);
    }

    [SkippableFact]
    public void Grid_mismatch_says_how_the_grids_differ()
    {
        using var fc = ForecastReader.FromGrib([Shared.Require(Storm)]);
        using var an = TruthReader.FromGrib([Shared.Require(An)]);
        var e = Assert.Throws<EnsembleException>(() => ScorePipeline.Score(fc, an, ["crps"], ScoreWeighting.None));
        Assert.Contains("grids differ", e.Message);
        Assert.Contains("48×31", e.Message);
        Assert.Contains("12×7", e.Message);
    }

    /// <summary>
    /// ECMWF ENS (control + 50 perturbed) 3-h max gust at +72, +78, +84 h. Spread and EFI from the pipeline
    /// against a plain-loop recomputation over the decoded member values: sample variance (ddof 1), cos φ
    /// weighted mean, root; EFI with the §9.2 discrete formula against 101 numpy-linear percentiles of the
    /// 153 pooled member values (all three steps) per point.
    /// </summary>
    [SkippableFact]
    public void Ens_grib_spread_and_efi_match_an_independent_recomputation()
    {
        string path = Shared.Require(Storm);
        using var fc = ForecastReader.FromGrib([path], "ifs-ens");
        Assert.False(fc.IsDeterministic);
        var gust = fc.Variables["10fg3"];
        Assert.Equal(51, gust.Members);
        Assert.Equal([72.0, 78.0, 84.0], gust.LeadHours);
        Assert.Equal(new DateTime(2013, 10, 25, 0, 0, 0), gust.InitTimes.Single());
        Assert.Equal([78.0], fc.Variables["z850"].LeadHours);

        // Independent decode path: messages straight from the file, grouped here.
        var byStep = new Dictionary<double, SortedDictionary<int, double[]>>();
        double[] lat;
        using (var f = GribFile.Open(path))
        {
            lat = f.Messages[0].ToGrid().Latitudes;
            foreach (var m in f.Messages.Where(m => m.ShortName == "10fg3"))
            {
                double h = m.Step.TotalHours;
                if (!byStep.TryGetValue(h, out var d)) byStep[h] = d = new SortedDictionary<int, double[]>();
                d.Add(m.PerturbationNumber ?? 0, m.ToGrid().Values);
            }
        }
        int nlat = fc.Grid.Nlat, nlon = fc.Grid.Nlon, n = nlat * nlon;
        Assert.All(byStep.Values, d => Assert.Equal(Enumerable.Range(0, 51), d.Keys));

        // Climate: 101 percentiles of the pooled members, numpy "linear".
        var pooled = byStep.Values.SelectMany(d => d.Values).ToList();
        var clim = new double[101, n];
        for (int p = 0; p < n; p++)
        {
            var s = pooled.Select(v => v[p]).Order().ToArray();
            for (int k = 0; k <= 100; k++)
            {
                double pos = (s.Length - 1) * k / 100.0;
                int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
                clim[k, p] = s[lo] + (pos - lo) * (s[hi] - s[lo]);
            }
        }
        using var sample = TorchSharp.torch.cat([.. Enumerable.Range(0, 3).Select(l => gust.Data[.., 0, l])], 0);   // [153, lat, lon]
        using var climate = ModelClimate.FromSample(sample).Values;

        var rows = ScorePipeline.Score(fc, null, ["spread", "efi"], ScoreWeighting.CosLat,
            new ScoreOptions { Climates = new Dictionary<string, TorchSharp.torch.Tensor> { ["10fg3"] = climate, ["z850"] = climate } });
        foreach (var (step, members) in byStep)
        {
            double wsum = 0, varSum = 0, efiSum = 0;
            for (int p = 0; p < n; p++)
            {
                double w = Math.Cos(lat[p / nlon] * Math.PI / 180);
                var x = members.Values.Select(v => v[p]).ToArray();
                double mean = x.Average();
                double var = x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1);
                wsum += w; varSum += w * var; efiSum += w * EfiDiscrete(Enumerable.Range(0, 101).Select(k => clim[k, p]).ToArray(), x);
            }
            double spread = Math.Sqrt(varSum / wsum), efi = efiSum / wsum;
            var spreadRow = rows.Single(r => r.Variable == "10fg3" && r.LeadTimeHours == step && r.Metric == "spread" && r.IsAggregate);
            var efiRow = rows.Single(r => r.Variable == "10fg3" && r.LeadTimeHours == step && r.Metric == "efi" && r.IsAggregate);
            output.WriteLine($"10fg3 +{step} h: spread {spreadRow.Value:R} (loops {spread:R}), efi {efiRow.Value:R} (loops {efi:R})");
            Assert.True(Math.Abs(spreadRow.Value - spread) <= 1e-9 * spread, $"+{step} h spread {spreadRow.Value} vs {spread}");
            Assert.True(Math.Abs(efiRow.Value - efi) <= 1e-9, $"+{step} h efi {efiRow.Value} vs {efi}");
            Assert.Equal(51, spreadRow.Members);
            Assert.InRange(spread, 0.5, 20);   // gusts in m/s: a real spread, not zero or garbage
        }
    }

    /// <summary>verification-metrics.md §9.2 in plain loops (F_k = #{x ≤ q_k}/M, exact segment integrals).</summary>
    static double EfiDiscrete(double[] q, double[] x)
    {
        double sum = 0;
        for (int k = 0; k < 100; k++)
        {
            double p0 = k / 100.0, p1 = (k + 1) / 100.0;
            double f0 = x.Count(v => v <= q[k]) / (double)x.Length, f1 = x.Count(v => v <= q[k + 1]) / (double)x.Length;
            double a = Math.Acos(Math.Sqrt(p1)) - Math.Acos(Math.Sqrt(p0));
            double b = Math.Sqrt(p1 * (1 - p1)) - Math.Sqrt(p0 * (1 - p0));
            double slope = (f1 - f0) / (p1 - p0);
            sum += (2 * f0 - 1) * a + slope * ((1 - 2 * p0) * a + b) - b;
        }
        return 2 / Math.PI * sum;
    }
}
