using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Spherical;

namespace Ensemble.Cli.Commands;

/// <summary>A Makani dataset root: train/ and valid/ (or test/) folders of YYYY.h5 plus data.json.</summary>
static class MakaniSource
{
    public static (IFieldDataset Train, IFieldDataset Validation, GridType Grid) OpenTraining(string root)
    {
        string train = Path.Combine(root, "train");
        string? valid = new[] { "valid", "validation", "test" }.Select(v => Path.Combine(root, v)).FirstOrDefault(Directory.Exists);
        if (!Directory.Exists(train) || valid == null)
            throw new EnsembleException($"{root}: expected train/ and valid/ folders of YYYY.h5 files (Makani layout)");
        var t = new MakaniDataset(train);
        var v = new MakaniDataset(valid);
        return (t, v, GridTypes.Parse(t.Metadata.GridType));
    }
}
