using Ensemble.Data.EnsembleOutput;
using static TorchSharp.torch;

namespace Ensemble.Data.Tests.EnsembleOutput;

/// <summary>A small ensemble layout and reproducible fields for store tests.</summary>
internal static class EnsembleTestData
{
    public static readonly DateTime T0 = new(2023, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    public static EnsembleLayout Layout(int members = 4, int nlat = 5, int nlon = 8, bool memberInfo = true) => new(
        ["z500", "t850", "u10m"],
        new Dictionary<string, string> { ["z500"] = "m2 s-2", ["t850"] = "K", ["u10m"] = "m s-1" },
        [T0, T0.AddHours(12)],
        [0, 6, 12],
        members,
        Enumerable.Range(0, nlat).Select(i => 90.0 - i * 180.0 / (nlat - 1)).ToArray(),
        Enumerable.Range(0, nlon).Select(j => j * 360.0 / nlon).ToArray(),
        memberInfo
            ? Enumerable.Range(0, members).Select(m => new EnsembleMemberInfo(m / 2 % 2, $"sfno-ckpt{m / 2 % 2}", "bred_vector", m / 2, m % 2 == 0 ? 1 : -1, 9_007_199_254_740_993L + m)).ToArray()
            : null,
        new Dictionary<string, string> { ["title"] = "store test", ["institution"] = "here" });

    /// <summary>Field value of (member, time, lead, variable, point): distinct, exactly representable in float32.</summary>
    public static float Value(int m, int t, int l, int v, int i) => 1000f * v + 100f * m + 10f * t + l + i / 64f;

    /// <summary>Fields [members.Count, V, nlat, nlon] for one (time, lead).</summary>
    public static Tensor Fields(EnsembleLayout layout, IReadOnlyList<int> members, int t, int l)
    {
        int n = layout.Nlat * layout.Nlon, nv = layout.Variables.Count;
        var data = new float[members.Count * nv * n];
        for (int b = 0; b < members.Count; b++)
            for (int v = 0; v < nv; v++)
                for (int i = 0; i < n; i++)
                    data[(b * nv + v) * n + i] = Value(members[b], t, l, v, i);
        return tensor(data, [members.Count, nv, layout.Nlat, layout.Nlon]);
    }

    /// <summary>Writes every (member, time, lead), members in batches of <paramref name="batch"/>, optionally skipping one field.</summary>
    public static void WriteAll(IEnsembleWriter w, IReadOnlyList<int> members, int batch = 2, (int M, int T, int L)? skip = null)
    {
        var l = w.Layout;
        for (int t = 0; t < l.Times.Count; t++)
            for (int s = 0; s < l.LeadTimeHours.Count; s++)
                for (int k = 0; k < members.Count; k += batch)
                {
                    var ms = members.Skip(k).Take(batch).Where(m => skip is not { } x || (x.M, x.T, x.L) != (m, t, s)).ToArray();
                    if (ms.Length == 0) continue;
                    using var f = Fields(l, ms, t, s);
                    w.Write(ms, t, s, f);
                }
    }

    /// <summary>Relative path → bytes of every file under a folder.</summary>
    public static SortedDictionary<string, byte[]> Snapshot(string dir) =>
        new(Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes), StringComparer.Ordinal);
}
