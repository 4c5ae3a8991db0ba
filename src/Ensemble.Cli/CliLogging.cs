using Serilog;
using Serilog.Events;
using Serilog.Core;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace Ensemble.Cli;

/// <summary>
/// Serilog setup shared by every command: human-readable events on stderr (stdout stays clean for data
/// and reports), optionally every event as JSON lines in --log-file.
/// </summary>
public static class CliLogging
{
    public static readonly string[] VerbosityNames = ["quiet", "minimal", "normal", "detailed", "diagnostic", "q", "m", "n", "d", "diag"];

    public static LogEventLevel LevelFor(string? verbosity) => (verbosity ?? "normal").ToLowerInvariant() switch
    {
        "quiet" or "q" => LogEventLevel.Error,
        "minimal" or "m" => LogEventLevel.Warning,
        "normal" or "n" => LogEventLevel.Information,
        "detailed" or "d" => LogEventLevel.Debug,
        "diagnostic" or "diag" => LogEventLevel.Verbose,
        _ => LogEventLevel.Information,
    };

    public static Serilog.Core.Logger Create(string? verbosity, string? logFile, TextWriter stderr, int? rank = null)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            .WriteTo.Sink(new TextWriterSink(stderr, new MessageTemplateTextFormatter(
                rank is null
                    ? "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}"
                    : "[{Timestamp:HH:mm:ss} {Level:u3} r{Rank}] {Message:lj}{NewLine}{Exception}",
                System.Globalization.CultureInfo.InvariantCulture)), LevelFor(verbosity));
        if (rank is not null) config = config.Enrich.WithProperty("Rank", rank.Value);
        if (!string.IsNullOrEmpty(logFile))
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(logFile));
            if (dir != null && !Directory.Exists(dir))
                throw new Core.EnsembleException($"--log-file {logFile}: directory '{dir}' does not exist");
            config = config.WriteTo.File(new CompactJsonFormatter(), logFile, restrictedToMinimumLevel: LogEventLevel.Debug);
        }
        return config.CreateLogger();
    }

    /// <summary>Writes formatted events to a TextWriter (the CLI's stderr, or a test's StringWriter).</summary>
    sealed class TextWriterSink(TextWriter writer, ITextFormatter formatter) : ILogEventSink
    {
        readonly object _gate = new();
        public void Emit(LogEvent logEvent)
        {
            lock (_gate)
            {
                formatter.Format(logEvent, writer);
                writer.Flush();
            }
        }
    }
}
