using System.CommandLine;

namespace Ensemble.Cli;

/// <summary>Options every subcommand accepts.</summary>
public sealed class GlobalOptions
{
    public Option<string> Verbosity { get; } = new("--verbosity", "-v")
    {
        Description = "Console log level: quiet, minimal, normal, detailed or diagnostic",
        DefaultValueFactory = _ => "normal",
        Recursive = true,
    };

    public Option<string?> LogFile { get; } = new("--log-file")
    {
        Description = "Also write every log event as JSON lines to this file",
        Recursive = true,
    };

    public Option<int?> Threads { get; } = new("--threads")
    {
        Description = "Torch intra-op threads (default: ENSEMBLE_THREADS, else one per core). 1 is fastest for small grids and when several processes share the cores",
        Recursive = true,
    };

    public GlobalOptions() => Verbosity.AcceptOnlyFromAmong(CliLogging.VerbosityNames);

    /// <summary>Applies --threads (or ENSEMBLE_THREADS) to torch; returns the thread count in effect.</summary>
    public int ApplyThreads(ParseResult parse)
    {
        int? n = parse.GetValue(Threads);
        if (n is null && int.TryParse(Environment.GetEnvironmentVariable("ENSEMBLE_THREADS"), out int env)) n = env;
        if (n is { } k)
        {
            if (k < 1) throw new Ensemble.Core.EnsembleException($"--threads must be ≥ 1, got {k}");
            TorchSharp.torch.set_num_threads(k);
        }
        return TorchSharp.torch.get_num_threads();
    }

    public void AddTo(Command root)
    {
        root.Options.Add(Verbosity);
        root.Options.Add(LogFile);
        root.Options.Add(Threads);
    }
}
