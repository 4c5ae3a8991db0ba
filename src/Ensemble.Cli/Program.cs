namespace Ensemble.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // Before any worker thread allocates (see NativeHeap: fewer page faults per forward).
        Ensemble.Core.NativeHeap.TuneForTensors();
        return EnsembleCli.Run(args, Console.Out, Console.Error);
    }
}
