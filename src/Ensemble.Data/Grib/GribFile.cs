using Ensemble.Core;
using Microsoft.Win32.SafeHandles;

namespace Ensemble.Data.Grib;

/// <summary>
/// A GRIB file (edition 1 and/or 2, messages may be mixed and padded). Opening scans the file for 'GRIB' markers
/// and parses the header sections of every message; values are read from disk only when a message's
/// <see cref="GribMessage.Values"/> is called, so listing large files is cheap.
/// </summary>
public sealed class GribFile : IDisposable
{
    readonly SafeFileHandle _handle;
    readonly List<GribMessage> _messages = [];

    GribFile(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
        Length = RandomAccess.GetLength(handle);
    }

    public string Path { get; }
    public long Length { get; }
    public IReadOnlyList<GribMessage> Messages => _messages;

    /// <summary>Opens and indexes a GRIB file; problems with the file are <see cref="EnsembleException"/>s.</summary>
    public static GribFile Open(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"GRIB file '{path}' does not exist");
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EnsembleException($"cannot open GRIB file '{path}': {e.Message}", e);
        }
        var file = new GribFile(path, handle);
        try { file.Index(); }
        catch { file.Dispose(); throw; }
        return file;
    }

    public void Dispose() => _handle.Dispose();

    void Index()
    {
        long pos = 0;
        int number = 0;
        while (true)
        {
            long start = FindMarker(pos);
            if (start < 0) break;
            number++;
            if (start + 16 > Length)
                throw Error(number, start, $"truncated: only {Length - start} bytes after the 'GRIB' marker");
            byte[] head = ReadAt(start, 16);
            int edition = head[7];
            long length = edition switch
            {
                1 => GribBytes.U24(head, 4),
                2 => (long)GribBytes.U64(head, 8),
                _ => throw Error(number, start, $"GRIB edition {edition} is not supported (only 1 and 2)"),
            };
            if (length < (edition == 1 ? 28 : 16 + 4))
                throw Error(number, start, $"declared message length {length} is too small (corrupt header)");
            if (start + length > Length)
                throw Error(number, start, $"truncated: message declares {length} bytes but the file ends after {Length - start}");
            byte[] end = ReadAt(start + length - 4, 4);
            if (end[0] != '7' || end[1] != '7' || end[2] != '7' || end[3] != '7')
                throw Error(number, start, "end marker '7777' not found where the declared length puts it (corrupt or truncated message)");
            var context = new GribParseContext(this, number, start, length);
            if (edition == 1) _messages.Add(Grib1Parser.Parse(context, _messages.Count));
            else _messages.AddRange(Grib2Parser.Parse(context, _messages.Count));
            pos = start + length;
        }
        if (number == 0)
            throw new EnsembleException(Length == 0
                ? $"{Path}: not a GRIB file (the file is empty)"
                : $"{Path}: not a GRIB file (no 'GRIB' marker in {Length} bytes)");
    }

    /// <summary>Offset of the next 'GRIB' marker at or after <paramref name="from"/>, or −1. Skips padding between messages.</summary>
    long FindMarker(long from)
    {
        if (from + 4 > Length) return -1;
        Span<byte> head = stackalloc byte[4];
        // Messages usually follow each other directly: check the expected position before scanning padding.
        if (RandomAccess.Read(_handle, head, from) == 4 && head.SequenceEqual("GRIB"u8)) return from;
        int chunk = 4096;
        long pos = from;
        while (pos < Length)
        {
            var buffer = new byte[(int)Math.Min(chunk, Length - pos)];
            int n = RandomAccess.Read(_handle, buffer, pos);
            if (n <= 0) return -1;
            int at = buffer.AsSpan(0, n).IndexOf("GRIB"u8);
            if (at >= 0) return pos + at;
            if (pos + n >= Length) return -1;
            pos += Math.Max(1, n - 3); // keep a marker that straddles two chunks
            chunk = Math.Min(chunk * 4, 1 << 20);
        }
        return -1;
    }

    byte[] ReadAt(long offset, int count)
    {
        var buffer = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = RandomAccess.Read(_handle, buffer.AsSpan(done), offset + done);
            if (n <= 0) throw new EnsembleException($"{Path}: unexpected end of file at byte {offset + done}");
            done += n;
        }
        return buffer;
    }

    internal byte[] ReadBytes(long offset, int count, GribMessage message)
    {
        if (offset + count > message.Offset + message.TotalLength)
            throw Error(message, $"section at byte {offset} overruns the message ({count} bytes needed)");
        return ReadAt(offset, count);
    }

    internal byte[] ReadSection(GribParseContext m, long offset, int count)
    {
        if (offset < m.Start || offset + count > m.Start + m.Length - 4)
            throw Error(m.Number, m.Start, $"section at byte {offset} ({count} bytes) overruns the message end (corrupt section length)");
        return ReadAt(offset, count);
    }

    internal EnsembleException Error(int messageNumber, long offset, string what) =>
        new($"{Path}: message {messageNumber} (byte {offset}): {what}");

    internal EnsembleException Error(GribMessage m, string what) => Error(m.MessageNumber, m.Offset, what);
}

/// <summary>The message being parsed: its number (1-based), start offset and declared length.</summary>
internal sealed record GribParseContext(GribFile File, int Number, long Start, long Length)
{
    public byte[] Read(long offset, int count) => File.ReadSection(this, offset, count);
    public EnsembleException Error(string what) => File.Error(Number, Start, what);
}
