namespace Ensemble.Cli;

public static class Program
{
    public static int Main(string[] args) => EnsembleCli.Run(args, Console.Out, Console.Error);
}
