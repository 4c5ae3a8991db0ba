using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Core.Config;
using Ensemble.Data.Datasets;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Inference.Config;
using Ensemble.Inference.Planning;
using Ensemble.Models.Sfno;

namespace Ensemble.Inference.Running;

/// <summary>
/// What run.json records: the resolved config, its hash and the plan facts the merge needs without reopening
/// models or data. Every rank writes the same content (atomic rename), and a rerun must find the same hash.
/// </summary>
public sealed record RunManifest
{
    public required JsonNode Config { get; init; }
    public required string ConfigHash { get; init; }
    public required IReadOnlyList<DateTime> InitTimes { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    public required int Pairs { get; init; }
    public required bool Control { get; init; }
    public required int PairsPerItem { get; init; }
    public required int Items { get; init; }
    public required int TotalMembers { get; init; }
    public required IReadOnlyList<string> Channels { get; init; }
    public required IReadOnlyList<string> StatisticsVariables { get; init; }
    public required IReadOnlyList<double> LeadHours { get; init; }
    public required double[] Lat { get; init; }
    public required double[] Lon { get; init; }
    public required int BatchSize { get; init; }
    public required string Format { get; init; }
    public required string Perturbation { get; init; }

    public MemberPlan Plan() => new(InitTimes, CheckpointSources.Of(RunConfig()).Count, Pairs, Control, PairsPerItem);

    public static RunManifest Read(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: not found (is this an ensemble run directory?)");
        try { return JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(path), YamlConfig.Options) ?? throw new EnsembleException($"{path}: empty"); }
        catch (JsonException e) { throw new EnsembleException($"{path}: invalid run manifest ({e.Message.Split('.')[0]})"); }
    }

    public EnsembleRunConfig RunConfig() => YamlConfig.Bind<EnsembleRunConfig>(Config.DeepClone(), "run.json config");
}

/// <summary>A validated campaign: config checked against the model packages and the data, the plan, the datasets.</summary>
internal sealed class Campaign : IDisposable
{
    public required EnsembleRunConfig Config { get; init; }
    public required MemberPlan Plan { get; init; }
    public required SfnoConfig Model { get; init; }
    public required MakaniDataset Initial { get; init; }
    public required MakaniDataset? Truth { get; init; }
    public required Dictionary<DateTime, int> InitialIndex { get; init; }
    public required Dictionary<DateTime, int> TruthIndex { get; init; }
    public required IReadOnlyList<string> Channels { get; init; }
    public required IReadOnlyList<string> StatisticsVariables { get; init; }
    public required IReadOnlyList<double> LeadHours { get; init; }
    public required TimeSpan Step { get; init; }
    public required int BatchSize { get; init; }
    public required EnsembleLayout FullLayout { get; init; }
    public required OutputSelection Selection { get; init; }
    public required string Format { get; init; }

    public static Campaign Open(EnsembleRunConfig c)
    {
        if (c.Models.Count == 0) throw new EnsembleException("models: at least one model package directory is required");
        var configs = new List<SfnoConfig>();
        for (int i = 0; i < c.Models.Count; i++)
        {
            string dir = c.Models[i];
            if (!Directory.Exists(dir)) throw new EnsembleException($"models[{i}]: {dir}: model package directory not found");
            string cfg = Path.Combine(dir, "config.json");
            if (!File.Exists(cfg)) throw new EnsembleException($"models[{i}]: {cfg}: not found");
            configs.Add(SfnoConfig.Load(cfg));
        }
        var model = configs[0];
        var channels = model.InChannelNames;
        if (!channels.SequenceEqual(model.OutChannelNames))
            throw new EnsembleException($"models[0]: {c.Models[0]} maps {model.NInChannels} input to {model.NOutChannels} output channels; a rollout needs identical channels");
        for (int i = 1; i < configs.Count; i++)
        {
            var m = configs[i];
            if (!m.InChannelNames.SequenceEqual(channels) || !m.OutChannelNames.SequenceEqual(channels) || m.ImgShapeX != model.ImgShapeX || m.ImgShapeY != model.ImgShapeY || m.DHours * m.Dt != model.DHours * model.Dt)
                throw new EnsembleException($"models[{i}]: {c.Models[i]} differs from models[0] in channels, grid or time step; checkpoints of one campaign must match");
        }
        if (c.Steps < 1) throw new EnsembleException($"steps: must be ≥ 1, not {c.Steps}");
        var (pairs, control) = Members(c.Members);
        if (c.PairsPerItem < 1) throw new EnsembleException($"pairs_per_item: must be ≥ 1, not {c.PairsPerItem}");
        string format = c.Output.Format.ToLowerInvariant();
        if (format is not ("zarr" or "netcdf" or "none")) throw new EnsembleException($"output.format: '{c.Output.Format}' (expected zarr, netcdf or none)");
        if (string.IsNullOrWhiteSpace(c.Output.Path)) throw new EnsembleException("output.path: the run directory is required");
        if (c.Statistics.CrpsBlockMb < 1) throw new EnsembleException($"statistics.crps_block_mb: must be ≥ 1, not {c.Statistics.CrpsBlockMb}");
        if (!(c.Statistics.BlowupSigmas > 0)) throw new EnsembleException($"statistics.blowup_sigmas: must be > 0, not {c.Statistics.BlowupSigmas}");
        void CheckChannels(string key, IEnumerable<string>? names)
        {
            var unknown = (names ?? []).Where(n => !channels.Contains(n)).ToList();
            if (unknown.Count > 0) throw new EnsembleException($"{key}: unknown channel(s) {string.Join(", ", unknown)} (model channels: {string.Join(", ", channels)})");
        }
        CheckChannels("output.variables", c.Output.Variables);
        CheckChannels("statistics.variables", c.Statistics.Variables);
        var statVars = c.Statistics.Variables ?? c.Output.Variables ?? channels;
        CheckChannels("statistics.thresholds", c.Statistics.Thresholds?.Keys);
        foreach (var k in c.Statistics.Thresholds?.Keys ?? [])
            if (!statVars.Contains(k)) throw new EnsembleException($"statistics.thresholds: '{k}' is not a statistics variable ({string.Join(", ", statVars)})");
        if (c.Output.Crop is { } crop && crop.Count != 4) throw new EnsembleException($"output.crop: expected [lat_min, lat_max, lon_min, lon_max], got {crop.Count} values");
        if (c.Output.Stride < 1) throw new EnsembleException($"output.stride: must be ≥ 1, not {c.Output.Stride}");

        if (string.IsNullOrWhiteSpace(c.InitialConditions.Path)) throw new EnsembleException("initial_conditions.path: the Makani data folder is required");
        if (!Directory.Exists(c.InitialConditions.Path)) throw new EnsembleException($"initial_conditions.path: {c.InitialConditions.Path}: no such folder");
        var initial = OpenDataset("initial_conditions.path", c.InitialConditions.Path, channels);
        MakaniDataset? truth = null;
        try
        {
            if (initial.NLat != model.ImgShapeX || initial.NLon != model.ImgShapeY)
                throw new EnsembleException($"initial_conditions.path: grid {initial.NLat}x{initial.NLon} does not match the model grid {model.ImgShapeX}x{model.ImgShapeY}");
            var step = TimeSpan.FromHours(model.DHours * model.Dt);
            var times = InitTimes(c.InitialConditions);
            var initialIndex = Index(initial);
            foreach (var t in times)
                if (!initialIndex.ContainsKey(t))
                    throw new EnsembleException($"initial_conditions: {t:yyyy-MM-ddTHH:mm} is not in {c.InitialConditions.Path} ({initial.TimeOf(0):yyyy-MM-ddTHH:mm} … {initial.TimeOf(initial.Count - 1):yyyy-MM-ddTHH:mm} every {initial.Step.TotalHours} h)");
            var truthIndex = new Dictionary<DateTime, int>();
            if (c.Statistics.Enabled)
            {
                string truthPath = c.Truth ?? c.InitialConditions.Path;
                if (!Directory.Exists(truthPath)) throw new EnsembleException($"truth: {truthPath}: no such folder");
                truth = OpenDataset("truth", truthPath, statVars);
                if (truth.NLat != initial.NLat || truth.NLon != initial.NLon)
                    throw new EnsembleException($"truth: grid {truth.NLat}x{truth.NLon} differs from the initial conditions' {initial.NLat}x{initial.NLon}");
                truthIndex = Index(truth);
                foreach (var t in times)
                    for (int s = 0; s <= c.Steps; s++)
                        if (!truthIndex.ContainsKey(t + s * step))
                            throw new EnsembleException($"truth: {truthPath} has no analysis at {t + s * step:yyyy-MM-ddTHH:mm} (init {t:yyyy-MM-ddTHH:mm} + {s * step.TotalHours} h); statistics need every lead (or set statistics.enabled=false)");
            }
            var leads = Enumerable.Range(0, c.Steps + 1).Select(s => s * step.TotalHours).ToList();
            foreach (var h in c.Output.LeadTimes ?? [])
                if (!leads.Any(x => Math.Abs(x - h) < 1e-9))
                    throw new EnsembleException($"output.lead_times: {h} h is not a lead of this run (0 … {leads[^1]} h every {step.TotalHours} h)");
            var plan = new MemberPlan(times, CheckpointSources.Of(c).Count, pairs, control, c.PairsPerItem);
            var modelNames = CheckpointSources.Of(c).Select(s => s.Name).ToList();
            var full = new EnsembleLayout(channels.ToList(), new Dictionary<string, string>(), times, leads, plan.TotalMembers,
                initial.Metadata.Lat, initial.Metadata.Lon, null,
                new Dictionary<string, string> { ["title"] = c.Name, ["campaign_seed"] = c.Seed.ToString(CultureInfo.InvariantCulture) });
            CropBox? box = c.Output.Crop is { } cb ? new CropBox(cb[0], cb[1], cb[2], cb[3]) : null;
            var selection = new OutputSelection(c.Output.Variables, c.Output.LeadTimes, box, c.Output.Stride);
            if (format != "none") selection.Apply(full);
            return new Campaign
            {
                Config = c, Plan = plan, Model = model, Initial = initial, Truth = truth, InitialIndex = initialIndex, TruthIndex = truthIndex,
                Channels = channels, StatisticsVariables = statVars, LeadHours = leads, Step = step,
                BatchSize = ResolveBatchSize(c, model, statVars.Count, plan), FullLayout = full, Selection = selection, Format = format,
            };
        }
        catch
        {
            initial.Dispose(); truth?.Dispose();
            throw;
        }
    }

    static MakaniDataset OpenDataset(string key, string path, IReadOnlyList<string> channels)
    {
        try { return new MakaniDataset(path, channels); }
        catch (EnsembleException e) { throw new EnsembleException($"{key}: {e.Message}"); }
    }

    internal static (int Pairs, bool Control) Members(MembersConfig m)
    {
        if (m.Count is { } n)
        {
            if (m.Pairs is { } p && 2 * p + (m.Control ? 1 : 0) != n)
                throw new EnsembleException($"members: count {n} and pairs {p} disagree (count = 2 × pairs{(m.Control ? " + 1 control" : "")})");
            if (n < 1) throw new EnsembleException($"members.count: must be ≥ 1, not {n}");
            int perturbed = n - (m.Control ? 1 : 0);
            if (perturbed % 2 != 0)
                throw new EnsembleException($"members.count: {n} {(m.Control ? "with a control leaves an odd number" : "is odd")}; ± pairs need an even number of perturbed members{(m.Control ? "" : " (or set members.control=true)")}");
            return (perturbed / 2, m.Control);
        }
        int pairs = m.Pairs ?? 1;
        if (pairs < 0 || (pairs == 0 && !m.Control)) throw new EnsembleException($"members.pairs: must be ≥ 1 (or 0 with control), not {pairs}");
        return (pairs, m.Control);
    }

    internal static IReadOnlyList<DateTime> InitTimes(InitialConditionsConfig ic)
    {
        var set = new SortedSet<DateTime>();
        foreach (var t in ic.Times ?? []) set.Add(Utc(t));
        if (ic.Start is not null || ic.End is not null)
        {
            if (ic.Start is null || ic.End is null) throw new EnsembleException("initial_conditions: start and end go together");
            if (ic.IntervalHours < 1) throw new EnsembleException($"initial_conditions.interval_hours: must be ≥ 1, not {ic.IntervalHours}");
            var (s, e) = (Utc(ic.Start.Value), Utc(ic.End.Value));
            if (e < s) throw new EnsembleException($"initial_conditions: end {e:yyyy-MM-ddTHH:mm} is before start {s:yyyy-MM-ddTHH:mm}");
            for (var t = s; t <= e; t = t.AddHours(ic.IntervalHours)) set.Add(t);
        }
        if (set.Count == 0) throw new EnsembleException("initial_conditions: give times and/or start, end (and interval_hours)");
        return set.ToList();
    }

    static DateTime Utc(DateTime t) => t.Kind == DateTimeKind.Utc ? t : t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);

    static Dictionary<DateTime, int> Index(IFieldDataset d)
    {
        var map = new Dictionary<DateTime, int>();
        for (int i = 0; i < d.Count; i++) map[Utc(d.TimeOf(i))] = i;
        return map;
    }

    /// <summary>An integer, or auto: members whose activations and buffered leads fit memory_budget_mb (a function of
    /// the config and the model only, so every rank and every rerun picks the same value).</summary>
    static int ResolveBatchSize(EnsembleRunConfig c, SfnoConfig m, int statVars, MemberPlan plan)
    {
        int maxUseful = Math.Max(1, 2 * c.PairsPerItem + (plan.Control ? 1 : 0));
        switch (c.BatchSize)
        {
            case null: return Math.Min(maxUseful, 8);
            case JsonValue v when v.TryGetValue(out long n):
                if (n < 1) throw new EnsembleException($"batch_size: must be ≥ 1 or auto, not {n}");
                return (int)n;
            case JsonValue v when v.TryGetValue(out string? s) && s == "auto":
                long points = (long)m.ImgShapeX * m.ImgShapeY;
                long widest = new[] { m.EmbedDim, m.MlpHidden, m.EncoderHidden, m.DecoderHidden }.Max();
                long perMember = 8 * widest * points * 4                          // live activations (float32)
                    + 4L * m.NInChannels * points * 8                              // state, input, output, check (float64)
                    + (long)(c.Steps + 1) * statVars * points * 8;                 // buffered leads for the statistics
                long fit = (long)c.MemoryBudgetMb * (1L << 20) / Math.Max(1, perMember);
                return (int)Math.Clamp(fit, 1, maxUseful);
            default:
                throw new EnsembleException($"batch_size: expected an integer or auto, not {c.BatchSize.ToJsonString()}");
        }
    }

    public RunManifest Manifest(string perturbationName)
    {
        var json = JsonNode.Parse(Config.ToJson())!;
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Config.ToJson()))).ToLowerInvariant();
        return new RunManifest
        {
            Config = json, ConfigHash = hash, InitTimes = Plan.InitTimes, Models = Config.Models, Pairs = Plan.Pairs, Control = Plan.Control,
            PairsPerItem = Plan.PairsPerItem, Items = Plan.Items.Count, TotalMembers = Plan.TotalMembers, Channels = Channels,
            StatisticsVariables = StatisticsVariables, LeadHours = LeadHours, Lat = Initial.Metadata.Lat, Lon = Initial.Metadata.Lon,
            BatchSize = BatchSize, Format = Format, Perturbation = perturbationName,
        };
    }

    public void Dispose()
    {
        Initial.Dispose();
        Truth?.Dispose();
    }
}
