using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// The exact restart data of a world run: at every output time the float64 spectral state (Φ̂, ζ̂, δ̂) and the
/// stirring S in force, as one complex [4, lmax, mmax] tensor. Because the world restarts its Adams–Bashforth history at
/// every output time (<see cref="WorldSimulator"/>), this is all a solver needs to continue the truth from there.
/// Stored per year as <c>DIR/restart/YYYY.npy</c>, float64 [T, 4, lmax, mmax, 2] (real, imaginary), index i at
/// 1 January 00 UTC + i·output_hours, next to <c>DIR/restart/world.yaml</c> (the configuration that produced them).
/// </summary>
public static partial class WorldRestartFile
{
    public const string Folder = "restart";
    public const string ConfigName = "world.yaml";

    public static string YearPath(string dir, int year) => Path.Combine(dir, Folder, $"{year:D4}.npy");
    public static string ConfigPath(string dir) => Path.Combine(dir, Folder, ConfigName);

    /// <summary>Writes one year of restart rows (each [4, lmax, mmax] complex) atomically.</summary>
    public static void WriteYear(string dir, int year, IReadOnlyList<double[]> rows, int lmax, int mmax)
    {
        Directory.CreateDirectory(Path.Combine(dir, Folder));
        int per = 4 * lmax * mmax * 2;
        string header = string.Format(CultureInfo.InvariantCulture,
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({0}, 4, {1}, {2}, 2), }}", rows.Count, lmax, mmax);
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        AtomicFile.Write(YearPath(dir, year), s =>
        {
            s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
            s.Write(BitConverter.GetBytes((ushort)header.Length));
            s.Write(Encoding.ASCII.GetBytes(header));
            var buf = new byte[per * 8];
            foreach (var r in rows)
            {
                if (r.Length != per) throw new InvalidOperationException($"restart row has {r.Length} values, expected {per}");
                Buffer.BlockCopy(r, 0, buf, 0, buf.Length);
                s.Write(buf);
            }
        });
    }

    /// <summary>One [4, lmax, mmax] complex128 row of a state and its stirring (zeros when there is none yet).</summary>
    public static double[] Row(Tensor uspec, Tensor? stirring)
    {
        using var scope = torch.NewDisposeScope();
        var s = stirring ?? torch.zeros_like(uspec.select(-3, 0));
        var all = torch.cat([uspec, s.unsqueeze(0)], 0).to(ScalarType.ComplexFloat64).cpu();
        return torch.view_as_real(all.contiguous()).contiguous().data<double>().ToArray();
    }

    /// <summary>
    /// Reads the restart row of <paramref name="time"/> from the truth folder <paramref name="dir"/>: complex128
    /// [4, lmax, mmax] = (Φ̂, ζ̂, δ̂, S). <see cref="EnsembleException"/> if the file or the time is missing.
    /// </summary>
    public static Tensor Read(string dir, DateTime time, double outputHours, int lmax, int mmax)
    {
        string path = YearPath(dir, time.Year);
        if (!File.Exists(path)) throw new EnsembleException($"{path}: no restart file for {time:yyyy-MM-ddTHH:mm}Z (was the truth written by 'ensemble world simulate'?)");
        var jan1 = new DateTime(time.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        double idx = (time - jan1).TotalHours / outputHours;
        long i = (long)Math.Round(idx);
        if (Math.Abs(idx - i) > 1e-9) throw new EnsembleException($"{path}: {time:yyyy-MM-ddTHH:mm}Z is not an output time (every {outputHours} h)");
        using var fs = File.OpenRead(path);
        var head = new byte[10];
        fs.ReadExactly(head);
        if (head[0] != 0x93 || head[1] != (byte)'N' || head[6] != 1) throw new EnsembleException($"{path}: not a version-1 .npy restart file");
        int hlen = BitConverter.ToUInt16(head, 8);
        var hb = new byte[hlen];
        fs.ReadExactly(hb);
        var m = ShapeRegex().Match(Encoding.ASCII.GetString(hb));
        if (!m.Success || !Encoding.ASCII.GetString(hb).Contains("'<f8'"))
            throw new EnsembleException($"{path}: restart header is not float64 [T, 4, lmax, mmax, 2]");
        long t = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        int l = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), mm = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        if (l != lmax || mm != mmax) throw new EnsembleException($"{path}: restart truncation {l}×{mm}, the world config has lmax {lmax}, mmax {mmax}");
        if (i < 0 || i >= t) throw new EnsembleException($"{path}: {time:yyyy-MM-ddTHH:mm}Z is outside the {t} restart states of {time.Year}");
        long per = 4L * lmax * mmax * 2 * 8;
        if (fs.Length != 10 + hlen + t * per) throw new EnsembleException($"{path}: truncated restart file ({fs.Length} bytes, expected {10 + hlen + t * per})");
        fs.Seek(10 + hlen + i * per, SeekOrigin.Begin);
        var bytes = new byte[per];
        fs.ReadExactly(bytes);
        var values = new double[per / 8];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        using var real = torch.tensor(values, [4, lmax, mmax, 2]);
        return torch.view_as_complex(real).clone();
    }

    [GeneratedRegex(@"'shape':\s*\((\d+),\s*4,\s*(\d+),\s*(\d+),\s*2\)")]
    private static partial Regex ShapeRegex();
}
