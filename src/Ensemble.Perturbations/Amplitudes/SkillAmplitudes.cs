using Ensemble.Core;
using Ensemble.Scoring.Tables;

namespace Ensemble.Perturbations;

/// <summary>
/// Per-channel perturbation amplitudes A[c] = factor · RMSE(c, lead) (docs hens-ensembles §2; HENS: 0.35 × the
/// 48-hour RMSE) from a score table written by <c>ensemble score</c>: the aggregated rows (empty init_time) with
/// metric <c>rmse</c> at the lead time, one per channel (variable).
/// </summary>
public static class SkillAmplitudes
{
    /// <summary>Reads a score table: Parquet (<c>.parquet</c>) or CSV (<c>.csv</c>).</summary>
    public static ScoreTable Read(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: skill table not found");
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".parquet" => ScoreTable.ReadParquet(path),
            ".csv" => ScoreTable.ReadCsv(path),
            _ => throw new EnsembleException($"{path}: skill table must be a .parquet or .csv score table"),
        };
    }

    /// <summary>
    /// factor · RMSE at <paramref name="leadHours"/> for every channel. Rows are filtered by model and weighting when
    /// given; more than one model or weighting left, or a channel without a row, is an error naming the table.
    /// </summary>
    public static double[] FromTable(ScoreTable table, IReadOnlyList<string> channels, double leadHours, double factor,
        string? model, string? weighting, string source)
    {
        var rows = table.Rows.Where(r => r.IsAggregate && r.Metric == "rmse" && Math.Abs(r.LeadTimeHours - leadHours) < 1e-9)
            .Where(r => model is null || r.Model == model)
            .Where(r => weighting is null || r.Weighting == weighting)
            .ToList();
        if (rows.Count == 0)
            throw new EnsembleException($"{source}: no aggregated rmse rows at lead {leadHours} h" +
                (model is null ? "" : $" for model '{model}'") + (weighting is null ? "" : $" with weighting '{weighting}'") +
                $" (models: {string.Join(", ", table.Rows.Select(r => r.Model).Distinct())})");
        var models = rows.Select(r => r.Model).Distinct().ToList();
        if (models.Count > 1)
            throw new EnsembleException($"{source}: the table holds several models ({string.Join(", ", models)}); set skill_model");
        var weightings = rows.Select(r => r.Weighting).Distinct().ToList();
        if (weightings.Count > 1)
            throw new EnsembleException($"{source}: the table holds several weightings ({string.Join(", ", weightings)}); set skill_weighting");
        var a = new double[channels.Count];
        for (int c = 0; c < channels.Count; c++)
        {
            var match = rows.Where(r => r.Variable == channels[c]).ToList();
            if (match.Count == 0)
                throw new EnsembleException($"{source}: no rmse at lead {leadHours} h for channel '{channels[c]}' (give it under amplitudes)");
            if (match.Count > 1)
                throw new EnsembleException($"{source}: {match.Count} aggregated rmse rows at lead {leadHours} h for channel '{channels[c]}'");
            double v = match[0].Value;
            if (!double.IsFinite(v) || v < 0) throw new EnsembleException($"{source}: rmse of channel '{channels[c]}' at lead {leadHours} h is {v}");
            a[c] = factor * v;
        }
        return a;
    }

    /// <summary>
    /// The amplitude of every channel from the config: the skill table (if any), overridden by the explicit
    /// <c>amplitudes</c>; without a skill table, channels not listed get 0 (unperturbed).
    /// </summary>
    public static double[] Resolve(PerturbationConfig config, IReadOnlyList<string> channels, string? baseDirectory = null, string source = "perturbation config")
    {
        double[] a;
        if (config.SkillTable is { } t)
        {
            string path = baseDirectory is null || Path.IsPathRooted(t) ? t : Path.Combine(baseDirectory, t);
            var explicitNames = config.Amplitudes?.Keys.ToHashSet() ?? [];
            // Channels given explicitly need no table row.
            var needed = channels.Where(c => !explicitNames.Contains(c)).ToList();
            var fromTable = FromTable(Read(path), needed, config.SkillLeadHours, config.AmplitudeFactor, config.SkillModel, config.SkillWeighting, path);
            a = new double[channels.Count];
            for (int i = 0, k = 0; i < channels.Count; i++)
                if (!explicitNames.Contains(channels[i])) a[i] = fromTable[k++];
        }
        else a = new double[channels.Count];
        foreach (var (name, value) in config.Amplitudes ?? [])
            a[PerturbationConfig.IndexOf(channels, name, $"amplitudes.{name}", source)] = value;
        return a;
    }
}
