using System.Text.Json.Nodes;
using Ensemble.Scoring.Report;
using Ensemble.Scoring.Tables;

namespace Ensemble.Campaigns.Stages;

/// <summary>The campaign report: ScottPlot PNGs and one self-contained index.html from the score table and maps.</summary>
public sealed class ReportStage : CampaignStage
{
    public const string StageName = "report";
    public override string Name => StageName;
    public override IReadOnlyList<string> DependsOn => [ScoresStage.StageName];

    public override JsonNode Inputs(CampaignContext ctx) => new JsonObject { ["title"] = Title(ctx) };

    static string Title(CampaignContext ctx) => ctx.Config.Report.Title.Length > 0 ? ctx.Config.Report.Title : $"Campaign {ctx.Config.Name}";

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var table = ScoreTable.ReadParquet(ScoresStage.TablePath(ctx));
        string mapsDir = Path.Combine(ctx.StageDirectory(ScoresStage.StageName), ScoresStage.MapsFolder);
        var maps = Directory.Exists(mapsDir) ? ScoreMapFiles.ReadAll(mapsDir) : [];
        var result = ScoreReport.Write([table], directory, maps, Title(ctx));
        return new JsonObject { ["index"] = Path.GetFileName(result.IndexPath), ["plots"] = result.Plots.Count };
    }
}
