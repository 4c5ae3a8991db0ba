using System.CommandLine;
using Ensemble.Core;

namespace Ensemble.Cli;

/// <summary>Builds the command tree and maps outcomes to exit codes (0 ok, 1 bug, 2 user error).</summary>
public static class EnsembleCli
{
    public const int Ok = 0, Bug = 1, UserError = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("ensemble: huge ML weather ensembles (SFNO + bred vectors), scored against physics baselines.");
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {result.Errors[0].Message}");
            return UserError;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (EnsembleException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return UserError;
        }
    }
}
