using System.CommandLine;
using Ensemble.Cli.Commands;
using Ensemble.Core;

namespace Ensemble.Cli;

/// <summary>Builds the command tree and maps outcomes to exit codes (0 ok, 1 bug, 2 user error).</summary>
public static class EnsembleCli
{
    public const int Ok = 0, Bug = 1, UserError = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var global = new GlobalOptions();
        var root = new RootCommand("ensemble: huge ML weather ensembles (SFNO + bred vectors), scored against physics baselines.");
        global.AddTo(root);

        Serilog.Core.Logger? logger = null;
        // Handlers run through here so that logging is configured once and errors map to exit codes.
        Func<ParseResult, Func<CommandContext, int>, int> wrap = (parse, handler) =>
        {
            logger = CliLogging.Create(parse.GetValue(global.Verbosity), parse.GetValue(global.LogFile), stderr);
            global.ApplyThreads(parse);
            return handler(new CommandContext(parse, stdout, stderr, logger));
        };
        foreach (var command in Commands(wrap))
            root.Subcommands.Add(command);

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {OneLine(result.Errors[0].Message)} (see 'ensemble --help')");
            return UserError;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (EnsembleException e)
        {
            logger?.Debug(e, "User error");
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            return UserError;
        }
        catch (Exception e)
        {
            logger?.Fatal(e, "Unexpected failure");
            stderr.WriteLine($"internal error (please report): {e}");
            return Bug;
        }
        finally
        {
            logger?.Dispose();
        }
    }

    static IEnumerable<Command> Commands(Func<ParseResult, Func<CommandContext, int>, int> wrap) =>
    [
        DoctorCommand.Create(wrap),
        SpectrumCommand.Create(wrap),
        ForecastCommand.Create(wrap),
        TrainCommand.Create(wrap),
        InspectCommand.Create(wrap),
        ScoreCommand.Create(wrap),
        ClimateCommand.Create(wrap),
        ReportCommand.Create(wrap),
        RegressCommand.Create(wrap),
        WorldCommand.Create(wrap),
        CampaignCommand.Create(wrap),
        ConfigCommand.Create(wrap),
        RunCommand.Create(wrap),
        MergeCommand.Create(wrap),
        ConvertCommand.Create(wrap),
    ];

    static string OneLine(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"\s*\r?\n\s*", " ").Trim();
}
