using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ensemble.Core;
using Ensemble.Data.Datasets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ensemble.Models.Training;

/// <summary>One finished epoch, as reported to progress observers and kept in the run history.</summary>
public sealed record EpochRecord(int Epoch, int Stage, int RolloutSteps, double LearningRate, double TrainLoss, double ValidationLoss, bool Best);

public sealed record TrainingProgress(int Epoch, int TotalEpochs, int Step, int StepsPerEpoch, double Loss, EpochRecord? Finished);

public sealed record TrainingResult(string BestModelPath, double BestValidationLoss, int BestEpoch, IReadOnlyList<EpochRecord> History, bool Resumed);

/// <summary>
/// Trains a field-to-field model (normalised [B, C, lat, lon] → next state) on an <see cref="IFieldDataset"/>:
/// latitude-weighted MSE, AdamW, warm-up + cosine schedule per stage, gradient clipping, one-step then
/// multi-step autoregressive stages, validation each epoch, best-checkpoint selection and resume after a crash.
/// Deterministic on CPU for a given seed: initialisation is seeded from (seed, "init"), the sample order of
/// epoch e from (seed, e), and a resumed run reloads weights and optimizer state of the last finished epoch,
/// so it ends with the same weights as an uninterrupted run.
/// </summary>
public sealed class Trainer
{
    const string StateFile = "train-state.json";
    public const string BestModelFile = "best-model.dat";

    readonly TrainingConfig _config;
    readonly Func<nn.Module<Tensor, Tensor>> _factory;
    readonly IFieldDataset _train, _validation;
    readonly ChannelNormalization _norm;
    readonly LatitudeWeightedMse _loss;
    readonly long _seed;
    readonly string _dir;
    readonly Device _device;
    readonly string _runKey;

    public Trainer(TrainingConfig config, Func<nn.Module<Tensor, Tensor>> modelFactory, IFieldDataset train, IFieldDataset validation,
        ChannelNormalization normalization, double[] latitudesDeg, long seed, string outputDir, Device? device = null, string modelDescription = "")
    {
        config.Validate();
        if (!train.Channels.SequenceEqual(validation.Channels))
            throw new EnsembleException("training and validation data have different channels");
        if (train.NLat != validation.NLat || train.NLon != validation.NLon)
            throw new EnsembleException($"training grid {train.NLat}x{train.NLon} differs from validation grid {validation.NLat}x{validation.NLon}");
        if (latitudesDeg.Length != train.NLat)
            throw new EnsembleException($"{latitudesDeg.Length} latitudes given for a grid with {train.NLat} rows");
        _config = config; _factory = modelFactory; _train = train; _validation = validation; _norm = normalization;
        _seed = seed; _dir = outputDir; _device = device ?? CPU;
        _loss = new LatitudeWeightedMse(latitudesDeg, _device);
        _runKey = RunKey(config, train, validation, seed, modelDescription);
    }

    public int TotalEpochs => _config.Stages.Sum(s => s.Epochs);

    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(_dir);
        torch.manual_seed(Seeds.Derive(_seed, Seeds.Of("init")));
        using var model = _factory();
        model.to(_device);
        var parameters = model.parameters().ToList();
        using var optimizer = torch.optim.AdamW(parameters, _config.Stages[0].LearningRate, _config.Beta1, _config.Beta2, 1e-8, _config.WeightDecay);

        var state = LoadState();
        bool resumed = state != null;
        if (state != null)
        {
            LoadModule(model, Path.Combine(_dir, state.ModelFile!));
            using (var r = new BinaryReader(File.OpenRead(Path.Combine(_dir, state.OptimizerFile!))))
                optimizer.load_state_dict(r);
        }
        state ??= new RunState { RunKey = _runKey };

        var epochs = _config.Stages.SelectMany((s, si) => Enumerable.Range(0, s.Epochs).Select(e => (Stage: si, StageEpoch: e))).ToList();
        for (int epoch = state.CompletedEpochs; epoch < epochs.Count; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var (stageIndex, stageEpoch) = epochs[epoch];
            var stage = _config.Stages[stageIndex];
            var starts = _train.SequenceStarts(stage.RolloutSteps);
            if (starts.Count == 0)
                throw new EnsembleException($"training data has no sequence of {stage.RolloutSteps + 1} consecutive times");
            int stepsPerEpoch = _config.StepsPerEpoch > 0 ? _config.StepsPerEpoch : (starts.Count + _config.BatchSize - 1) / _config.BatchSize;
            int stageSteps = stepsPerEpoch * stage.Epochs;
            var order = Shuffle(starts, Seeds.Random(_seed, epoch, Seeds.Of("order")));

            model.train();
            double lossSum = 0, lr = 0;
            for (int step = 0; step < stepsPerEpoch; step++)
            {
                using var scope = torch.NewDisposeScope();
                lr = LearningRateSchedule.At(stageEpoch * stepsPerEpoch + step, stageSteps, stage.LearningRate, _config.WarmupSteps, _config.MinLearningRateFraction);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                var batch = Enumerable.Range(0, _config.BatchSize).Select(b => order[(step * _config.BatchSize + b) % order.Count]).ToArray();
                optimizer.zero_grad();
                var loss = RolloutLoss(model, _train, batch, stage.RolloutSteps);
                loss.backward();
                torch.nn.utils.clip_grad_norm_(parameters, _config.MaxGradNorm);
                optimizer.step();
                double l = loss.item<float>();
                if (!double.IsFinite(l))
                    throw new EnsembleException($"training diverged at epoch {epoch + 1}, step {step + 1} (loss {l}); lower the learning rate");
                lossSum += l;
                progress?.Report(new TrainingProgress(epoch, epochs.Count, step, stepsPerEpoch, l, null));
            }

            double val = Validate(model);
            bool best = val < state.BestValidationLoss;
            var record = new EpochRecord(epoch + 1, stageIndex + 1, stage.RolloutSteps, lr, lossSum / stepsPerEpoch, val, best);
            if (best)
            {
                SaveModule(model, Path.Combine(_dir, BestModelFile));
                state.BestValidationLoss = val;
                state.BestEpoch = epoch + 1;
            }
            Checkpoint(model, optimizer, state, epoch + 1, record);
            progress?.Report(new TrainingProgress(epoch, epochs.Count, stepsPerEpoch, stepsPerEpoch, record.TrainLoss, record));
        }
        return new TrainingResult(Path.Combine(_dir, BestModelFile), state.BestValidationLoss, state.BestEpoch, state.History, resumed);
    }

    /// <summary>Mean one-step latitude-weighted MSE over the validation samples (normalised units).</summary>
    public double Validate(nn.Module<Tensor, Tensor> model)
    {
        var starts = _validation.SequenceStarts(1);
        if (starts.Count == 0) throw new EnsembleException("validation data has no pair of consecutive times");
        if (_config.ValidationSamples > 0 && starts.Count > _config.ValidationSamples)
            starts = Enumerable.Range(0, _config.ValidationSamples).Select(i => starts[(int)((long)i * starts.Count / _config.ValidationSamples)]).ToList();
        model.eval();
        double sum = 0;
        int n = 0;
        using (torch.no_grad())
        {
            foreach (var chunk in starts.Chunk(_config.BatchSize))
            {
                using var scope = torch.NewDisposeScope();
                sum += RolloutLoss(model, _validation, chunk, 1).item<float>() * chunk.Length;
                n += chunk.Length;
            }
        }
        return sum / n;
    }

    Tensor RolloutLoss(nn.Module<Tensor, Tensor> model, IFieldDataset data, int[] batch, int steps)
    {
        var x = Load(data, batch, 0);
        Tensor total = torch.zeros(1, device: _device);
        for (int k = 1; k <= steps; k++)
        {
            x = model.forward(x);
            total = total + _loss.Loss(x, Load(data, batch, k));
        }
        return total.div(steps).squeeze();
    }

    Tensor Load(IFieldDataset data, int[] batch, int offset) =>
        _norm.Normalize(torch.stack(batch.Select(i => data.Get(i + offset)).ToArray()).to(_device));

    static List<int> Shuffle(List<int> items, Random rng)
    {
        var a = items.ToList();
        for (int i = a.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }

    void Checkpoint(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, RunState state, int completed, EpochRecord record)
    {
        // Epoch-numbered files first, then the state file that points at them (the commit), then cleanup:
        // a crash at any moment leaves a state file whose files are complete.
        string modelFile = $"epoch{completed:D4}-model.dat", optimFile = $"epoch{completed:D4}-optimizer.dat";
        SaveModule(model, Path.Combine(_dir, modelFile));
        AtomicFile.Write(Path.Combine(_dir, optimFile), s => { using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true); optimizer.save_state_dict(w); });
        string? oldModel = state.ModelFile, oldOptim = state.OptimizerFile;
        state.CompletedEpochs = completed;
        state.ModelFile = modelFile;
        state.OptimizerFile = optimFile;
        state.History.Add(record);
        AtomicFile.WriteAllText(Path.Combine(_dir, StateFile), JsonSerializer.Serialize(state, JsonOptions));
        foreach (var f in new[] { oldModel, oldOptim })
            if (f != null && f != modelFile && f != optimFile) File.Delete(Path.Combine(_dir, f));
    }

    RunState? LoadState()
    {
        string path = Path.Combine(_dir, StateFile);
        if (!File.Exists(path)) return null;
        RunState? s;
        try { s = JsonSerializer.Deserialize<RunState>(File.ReadAllText(path), JsonOptions); }
        catch (JsonException e) { throw new EnsembleException($"{path}: unreadable training state ({e.Message})"); }
        if (s == null || s.ModelFile == null || s.OptimizerFile == null)
            throw new EnsembleException($"{path}: incomplete training state");
        if (s.RunKey != _runKey)
            throw new EnsembleException($"{_dir} holds a different training run (config, data or seed changed); choose another output folder");
        return s;
    }

    public static void SaveModule(nn.Module module, string path) =>
        AtomicFile.Write(path, s => { using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true); module.save(w); });

    public static void LoadModule(nn.Module module, string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: checkpoint not found");
        using var r = new BinaryReader(File.OpenRead(path));
        module.load(r);
    }

    static string RunKey(TrainingConfig c, IFieldDataset train, IFieldDataset val, long seed, string model)
    {
        string text = JsonSerializer.Serialize(new
        {
            c, seed, model,
            train = new { train.Channels, train.NLat, train.NLon, train.Count, start = train.TimeOf(0) },
            validation = new { val.Channels, val.NLat, val.NLon, val.Count, start = val.TimeOf(0) },
        });
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    sealed class RunState
    {
        public string RunKey { get; set; } = "";
        public int CompletedEpochs { get; set; }
        public string? ModelFile { get; set; }
        public string? OptimizerFile { get; set; }
        public double BestValidationLoss { get; set; } = double.PositiveInfinity;
        public int BestEpoch { get; set; }
        public List<EpochRecord> History { get; set; } = [];
    }
}
