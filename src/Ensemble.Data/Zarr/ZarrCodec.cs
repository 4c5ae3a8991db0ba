using System.IO.Compression;
using Ensemble.Core;
using ZstdSharp;

namespace Ensemble.Data.Zarr;

/// <summary>A numcodecs compressor: "zlib" or "zstd" with a level; null in metadata means none.</summary>
public sealed record ZarrCodec(string Id, int Level)
{
    public static ZarrCodec Zlib(int level = 1) => new("zlib", level);
    public static ZarrCodec Zstd(int level = 3) => new("zstd", level);

    public byte[] Encode(byte[] raw)
    {
        switch (Id)
        {
            case "zlib":
                using (var ms = new MemoryStream())
                {
                    var cl = Level <= 0 ? CompressionLevel.NoCompression : Level <= 3 ? CompressionLevel.Fastest : Level <= 6 ? CompressionLevel.Optimal : CompressionLevel.SmallestSize;
                    using (var z = new ZLibStream(ms, cl, leaveOpen: true)) z.Write(raw);
                    return ms.ToArray();
                }
            case "zstd":
                // One-shot compression writes the frame content size, which older numcodecs require.
                using (var c = new Compressor(Level)) return c.Wrap(raw).ToArray();
            default:
                throw new EnsembleException($"zarr compressor '{Id}' is not supported (zlib, zstd or none)");
        }
    }

    public byte[] Decode(byte[] stored, int expectedLength, string what)
    {
        try
        {
            byte[] raw;
            switch (Id)
            {
                case "zlib":
                case "gzip":
                    using (var input = new MemoryStream(stored))
                    using (Stream z = Id == "zlib" ? new ZLibStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress))
                    using (var ms = new MemoryStream(expectedLength))
                    {
                        z.CopyTo(ms);
                        raw = ms.ToArray();
                    }
                    break;
                case "zstd":
                    // Streaming decode also accepts frames without a content size.
                    using (var input = new MemoryStream(stored))
                    using (var z = new DecompressionStream(input))
                    using (var ms = new MemoryStream(expectedLength))
                    {
                        z.CopyTo(ms);
                        raw = ms.ToArray();
                    }
                    break;
                default:
                    throw new EnsembleException($"{what}: zarr compressor '{Id}' is not supported (zlib, gzip, zstd or none)");
            }
            if (raw.Length != expectedLength)
                throw new EnsembleException($"{what}: chunk decompresses to {raw.Length} bytes, expected {expectedLength}");
            return raw;
        }
        catch (Exception e) when (e is not EnsembleException)
        {
            throw new EnsembleException($"{what}: corrupt {Id} chunk: {e.Message}", e);
        }
    }
}
