using System.Text.RegularExpressions;
using Ensemble.Scoring.Pipeline;
using Ensemble.Scoring.Report;
using Ensemble.Scoring.Tables;
using Ensemble.Scoring.Tests.Pipeline;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Scoring.Tests.Report;

public class SpectrumReportTests
{
    [Fact]
    public void Report_plots_zonal_spectra_next_to_degree_spectra_and_embeds_them()
    {
        var (fc, truth) = CurveMetricsTests.Build();
        using var _f = fc; using var _t = truth;
        var table = ScorePipeline.ScoreTable(fc, truth, ["spectra"], ScoreWeighting.CosLat);
        using var dir = new TempDir();
        var result = ScoreReport.Write([table], dir.Path);
        var names = result.Plots.Select(Path.GetFileNameWithoutExtension).ToList();
        // The zonal plot directly follows the degree plot of the same variable and model.
        int degree = names.IndexOf("spectra_t850_ml");
        Assert.True(degree >= 0, string.Join(", ", names));
        Assert.Equal("zonal_spectra_t850_ml", names.ElementAtOrDefault(degree + 1));
        var png = File.ReadAllBytes(dir.File("zonal_spectra_t850_ml.png"));
        Assert.True(png.Length > 5000, $"{png.Length} bytes");   // a blank 900×560 plot is ~3 kB
        string html = File.ReadAllText(result.IndexPath);
        Assert.Contains(Convert.ToBase64String(png), html);
        Assert.Matches(new Regex("<figcaption>t850, ml: zonal energy spectra S\\(k\\)[^<]*</figcaption>"), html);
        Assert.Contains("zonal_spectrum: ", html);   // the band note from the table metadata

        // Without zonal rows (an older table) the report simply has no zonal plot.
        var old = new ScoreTable(table.Rows.Where(r => !r.Metric.StartsWith("zonal_", StringComparison.Ordinal)));
        using var dir2 = new TempDir();
        var r2 = ScoreReport.Write([old], dir2.Path);
        Assert.DoesNotContain(r2.Plots, p => Path.GetFileName(p).StartsWith("zonal_", StringComparison.Ordinal));
        Assert.Contains(r2.Plots, p => Path.GetFileName(p) == "spectra_t850_ml.png");
    }
}
