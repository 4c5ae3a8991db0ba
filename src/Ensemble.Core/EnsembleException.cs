namespace Ensemble.Core;

/// <summary>
/// An error the user can cause and fix (bad config, bad input file, wrong path). The CLI prints its
/// message as one line and exits with code 2; anything else is a bug and keeps its stack trace.
/// </summary>
public class EnsembleException : Exception
{
    public EnsembleException(string message) : base(message) { }
    public EnsembleException(string message, Exception inner) : base(message, inner) { }
}
