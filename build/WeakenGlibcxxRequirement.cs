#nullable enable
// Compiled by MSBuild's RoslynCodeTaskFactory (see Directory.Build.targets), linked into
// tests/Ensemble.Build.Tests, and linked into Ensemble.Core with ELF_PATCHER_ONLY (for `ensemble doctor`).
// Keep it self-contained: BCL + Microsoft.Build.Utilities only.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
#if !ELF_PATCHER_ONLY
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
#endif

namespace Ensemble.Build
{
#if !ELF_PATCHER_ONLY
    /// <summary>
    /// TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 only for the unused symbol
    /// std::ios_base_library_init. On hosts whose libstdc++ stops earlier (Debian 12: 3.4.30) the
    /// loader refuses the library. Marking that one version requirement weak (VER_FLG_WEAK in
    /// .gnu.version_r) lets it load; the symbol itself is never relocated.
    /// </summary>
    public sealed class WeakenGlibcxxRequirement : Microsoft.Build.Utilities.Task
    {
        /// <summary>Copies of libLibTorchSharp.so in build/publish outputs.</summary>
        [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The version whose requirement is weakened.</summary>
        public string Version { get; set; } = "GLIBCXX_3.4.32";

        /// <summary>Patch even when the host libstdc++ defines the version (tests).</summary>
        public bool Force { get; set; }

        /// <summary>Explicit host libstdc++ path; found on the standard paths when empty.</summary>
        public string HostLibStdCxx { get; set; } = "";

        [Output] public string Outcome { get; set; } = "";

        public override bool Execute()
        {
            try
            {
                if (!Force)
                {
                    string? host = string.IsNullOrEmpty(HostLibStdCxx) ? ElfVersionPatcher.FindHostLibStdCxx() : HostLibStdCxx;
                    if (host == null)
                    {
                        // Not Linux/glibc (or libstdc++ not found): the .so is either unused or the loader will say so.
                        Outcome = "no-host-libstdc++";
                        Log.LogMessage(MessageImportance.Low, "WeakenGlibcxxRequirement: no host libstdc++.so.6 found; nothing to do.");
                        return true;
                    }
                    if (ElfVersionPatcher.DefinesVersion(host, Version))
                    {
                        Outcome = "host-has-version";
                        Log.LogMessage(MessageImportance.Low, $"WeakenGlibcxxRequirement: {host} defines {Version}; nothing to do.");
                        return true;
                    }
                }
                var results = new List<string>();
                foreach (var item in Files)
                {
                    string path = item.ItemSpec;
                    if (!File.Exists(path)) continue;
                    var r = ElfVersionPatcher.WeakenInPlace(path, Version);
                    results.Add(r.ToString());
                    Log.LogMessage(MessageImportance.Normal, $"WeakenGlibcxxRequirement: {path}: {r}");
                }
                Outcome = string.Join(";", results);
                return true;
            }
            catch (Exception e)
            {
                Log.LogError($"WeakenGlibcxxRequirement: {e.Message}");
                return false;
            }
        }
    }

#endif

    public enum PatchResult { Patched, AlreadyWeak, NoSuchRequirement }

    /// <summary>Minimal ELF64 little-endian reader/patcher for version sections.</summary>
    public static class ElfVersionPatcher
    {
        public const ushort VerFlgWeak = 0x2;
        const uint ShtGnuVerneed = 0x6ffffffe;
        const uint ShtGnuVerdef = 0x6ffffffd;

        static readonly string[] LibDirs =
        {
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
        };

        /// <summary>The libstdc++.so.6 the dynamic loader would pick on the usual paths, or null.</summary>
        public static string? FindHostLibStdCxx()
        {
            var dirs = new List<string>();
            string? ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld)) dirs.AddRange(ld!.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            dirs.AddRange(LibDirs);
            foreach (var d in dirs)
            {
                string p = Path.Combine(d, "libstdc++.so.6");
                if (File.Exists(p)) return p;
            }
            return null;
        }

        /// <summary>True when the library's .gnu.version_d defines <paramref name="version"/>.</summary>
        public static bool DefinesVersion(string path, string version)
        {
            byte[] b = File.ReadAllBytes(path);
            var elf = new Elf(b, path);
            foreach (var sh in elf.Sections)
            {
                if (sh.Type != ShtGnuVerdef) continue;
                var strtab = elf.Sections[(int)sh.Link];
                long off = sh.Offset;
                for (int i = 0; i < (int)sh.Info; i++)
                {
                    ushort cnt = elf.U16(off + 6);
                    uint aux = elf.U32(off + 12);
                    uint next = elf.U32(off + 16);
                    long a = off + aux;
                    if (cnt > 0 && elf.Str(strtab, elf.U32(a)) == version) return true;
                    if (next == 0) break;
                    off += next;
                }
            }
            return false;
        }

        /// <summary>Returns the vna_flags of every requirement of <paramref name="version"/>.</summary>
        public static List<ushort> RequirementFlags(string path, string version)
        {
            var elf = new Elf(File.ReadAllBytes(path), path);
            var flags = new List<ushort>();
            foreach (long pos in elf.VernauxOffsets(version)) flags.Add(elf.U16(pos + 4));
            return flags;
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on the requirement of <paramref name="version"/>. Writes a temp copy and
        /// renames it over the file, so a hard link into the NuGet cache is broken, never modified.
        /// </summary>
        public static PatchResult WeakenInPlace(string path, string version)
        {
            byte[] b = File.ReadAllBytes(path);
            var elf = new Elf(b, path);
            var positions = elf.VernauxOffsets(version);
            if (positions.Count == 0) return PatchResult.NoSuchRequirement;
            bool changed = false;
            foreach (long pos in positions)
            {
                ushort f = elf.U16(pos + 4);
                if ((f & VerFlgWeak) != 0) continue;
                f |= VerFlgWeak;
                b[pos + 4] = (byte)(f & 0xff);
                b[pos + 5] = (byte)(f >> 8);
                changed = true;
            }
            if (!changed) return PatchResult.AlreadyWeak;
            string tmp = path + ".weak-tmp";
            File.WriteAllBytes(tmp, b);
            File.Delete(path);
            File.Move(tmp, path);
            return PatchResult.Patched;
        }

        sealed class Section
        {
            public uint Type; public long Offset; public long Size; public uint Link; public uint Info;
        }

        sealed class Elf
        {
            readonly byte[] _b;
            public readonly List<Section> Sections = new List<Section>();

            public Elf(byte[] b, string path)
            {
                _b = b;
                if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
                    throw new InvalidDataException($"{path} is not an ELF file");
                if (b[4] != 2 || b[5] != 1)
                    throw new InvalidDataException($"{path} is not a little-endian ELF64 file");
                long shoff = (long)U64(0x28);
                ushort shentsize = U16(0x3A), shnum = U16(0x3C);
                if (shoff <= 0 || shoff + (long)shentsize * shnum > b.Length)
                    throw new InvalidDataException($"{path} has a truncated section header table");
                for (int i = 0; i < shnum; i++)
                {
                    long o = shoff + (long)i * shentsize;
                    Sections.Add(new Section
                    {
                        Type = U32(o + 4), Offset = (long)U64(o + 24), Size = (long)U64(o + 32),
                        Link = U32(o + 40), Info = U32(o + 44),
                    });
                }
            }

            public ushort U16(long o) => (ushort)(_b[o] | _b[o + 1] << 8);
            public uint U32(long o) => (uint)(_b[o] | _b[o + 1] << 8 | _b[o + 2] << 16 | _b[o + 3] << 24);
            public ulong U64(long o) => U32(o) | (ulong)U32(o + 4) << 32;

            public string Str(Section strtab, uint index)
            {
                long s = strtab.Offset + index, e = s;
                while (e < _b.Length && _b[e] != 0) e++;
                return Encoding.ASCII.GetString(_b, (int)s, (int)(e - s));
            }

            /// <summary>File offsets of every Vernaux entry naming <paramref name="version"/>.</summary>
            public List<long> VernauxOffsets(string version)
            {
                var result = new List<long>();
                foreach (var sh in Sections)
                {
                    if (sh.Type != ShtGnuVerneed) continue;
                    var strtab = Sections[(int)sh.Link];
                    long off = sh.Offset;
                    for (int i = 0; i < (int)sh.Info; i++)
                    {
                        ushort cnt = U16(off + 2);
                        long a = off + U32(off + 8);
                        for (int j = 0; j < cnt; j++)
                        {
                            if (Str(strtab, U32(a + 8)) == version) result.Add(a);
                            uint anext = U32(a + 12);
                            if (anext == 0) break;
                            a += anext;
                        }
                        uint next = U32(off + 12);
                        if (next == 0) break;
                        off += next;
                    }
                }
                return result;
            }
        }
    }
}
