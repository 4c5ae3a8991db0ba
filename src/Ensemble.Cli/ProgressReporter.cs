using Spectre.Console;

namespace Ensemble.Cli;

/// <summary>
/// A Spectre.Console progress bar on an interactive stderr; nothing when stderr is redirected (CI, SLURM logs),
/// where the structured log events carry the progress instead. Never both on one line.
/// </summary>
public static class ProgressReporter
{
    public static bool Interactive(TextWriter stderr) =>
        ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") != "true";

    /// <summary>Runs <paramref name="work"/> with a callback (description, done, total) that drives one bar.</summary>
    public static T Run<T>(TextWriter stderr, string title, Func<Action<string, double, double>, T> work)
    {
        if (!Interactive(stderr))
            return work((_, _, _) => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr) });
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title);
                result = work((desc, done, total) =>
                {
                    task.Description = desc;
                    task.MaxValue = Math.Max(total, 1);
                    task.Value = done;
                });
                task.Value = task.MaxValue;
            });
        return result;
    }
}
