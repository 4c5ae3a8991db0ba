namespace Ensemble.Models.Training;

/// <summary>
/// One phase of training: makani trains one-step first, then fine-tunes on multi-step autoregressive
/// rollouts with a lower learning rate.
/// </summary>
public sealed record TrainingStage(int Epochs, int RolloutSteps, double LearningRate);

/// <summary>Hyperparameters of a training run (defaults follow the HENS recipe where it applies).</summary>
public sealed record TrainingConfig
{
    public IReadOnlyList<TrainingStage> Stages { get; init; } = [new(10, 1, 1e-3), new(2, 2, 1e-4)];
    public int BatchSize { get; init; } = 4;
    /// <summary>Optimizer steps per epoch; 0 = one pass over the training samples.</summary>
    public int StepsPerEpoch { get; init; }
    /// <summary>Linear warm-up steps at the start of each stage, then cosine decay to MinLearningRateFraction × lr.</summary>
    public int WarmupSteps { get; init; } = 10;
    public double MinLearningRateFraction { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double WeightDecay { get; init; } = 0.0;
    /// <summary>Global gradient-norm clip (HENS: 32).</summary>
    public double MaxGradNorm { get; init; } = 32.0;
    /// <summary>Validation samples per epoch (evenly spaced over the validation starts); 0 = all.</summary>
    public int ValidationSamples { get; init; }

    public void Validate()
    {
        if (Stages.Count == 0) throw new Core.EnsembleException("training: at least one stage is required");
        foreach (var s in Stages)
        {
            if (s.Epochs < 1) throw new Core.EnsembleException($"training: stage epochs must be ≥ 1 (got {s.Epochs})");
            if (s.RolloutSteps < 1) throw new Core.EnsembleException($"training: rollout_steps must be ≥ 1 (got {s.RolloutSteps})");
            if (!(s.LearningRate > 0)) throw new Core.EnsembleException($"training: learning rate must be > 0 (got {s.LearningRate})");
        }
        if (BatchSize < 1) throw new Core.EnsembleException($"training: batch_size must be ≥ 1 (got {BatchSize})");
        if (MaxGradNorm <= 0) throw new Core.EnsembleException($"training: max_grad_norm must be > 0 (got {MaxGradNorm})");
        if (WarmupSteps < 0) throw new Core.EnsembleException($"training: warmup_steps must be ≥ 0 (got {WarmupSteps})");
    }
}

/// <summary>Warm-up then cosine decay, evaluated from the step index so that a resumed run continues exactly.</summary>
public static class LearningRateSchedule
{
    public static double At(int step, int totalSteps, double peak, int warmup, double minFraction)
    {
        if (warmup > 0 && step < warmup) return peak * (step + 1) / warmup;
        int decaySteps = Math.Max(1, totalSteps - warmup);
        double progress = Math.Clamp((double)(step - warmup) / decaySteps, 0, 1);
        double min = peak * minFraction;
        return min + 0.5 * (peak - min) * (1 + Math.Cos(Math.PI * progress));
    }
}
