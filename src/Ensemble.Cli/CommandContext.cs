using System.CommandLine;
using Serilog;

namespace Ensemble.Cli;

/// <summary>What a command handler gets: its parse result, writers and a logger configured from the global options.</summary>
public sealed class CommandContext(ParseResult parse, TextWriter stdout, TextWriter stderr, ILogger log)
{
    public ParseResult Parse { get; } = parse;
    public TextWriter Out { get; } = stdout;
    public TextWriter Err { get; } = stderr;
    public ILogger Log { get; } = log;

    public T Get<T>(Option<T> option) => Parse.GetValue(option)!;
}
