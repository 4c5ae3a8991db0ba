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

    public GlobalOptions() => Verbosity.AcceptOnlyFromAmong(CliLogging.VerbosityNames);

    public void AddTo(Command root)
    {
        root.Options.Add(Verbosity);
        root.Options.Add(LogFile);
    }
}
