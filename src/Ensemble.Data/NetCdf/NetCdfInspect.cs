using System.Text;

namespace Ensemble.Data.NetCdf;

/// <summary>An <c>ncdump -h</c>-like description of a netCDF file (header only, no data).</summary>
public static class NetCdfInspect
{
    public static string Describe(string path)
    {
        using var nc = NetCdfFile.Open(path);
        return Describe(nc);
    }

    public static string Describe(NetCdfFile nc)
    {
        var sb = new StringBuilder();
        sb.Append("netcdf ").Append(Path.GetFileNameWithoutExtension(nc.Path)).Append(" { // ").Append(nc.Format).AppendLine();
        sb.AppendLine("dimensions:");
        foreach (var d in nc.Dimensions)
            sb.Append('\t').Append(d.Name).Append(" = ")
              .Append(d.IsUnlimited ? $"UNLIMITED ; // ({d.Length} currently)" : $"{d.Length} ;").AppendLine();
        sb.AppendLine("variables:");
        foreach (var v in nc.Variables)
        {
            sb.Append('\t').Append(NcTypes.CdlName(v.Type)).Append(' ').Append(v.Name);
            if (v.Rank > 0) sb.Append('(').Append(string.Join(", ", v.Dimensions)).Append(')');
            sb.AppendLine(" ;");
            foreach (var a in v.Attributes)
                sb.Append("\t\t").Append(v.Name).Append(':').Append(a.Name).Append(" = ").Append(a.ValueText()).AppendLine(" ;");
        }
        if (nc.GlobalAttributes.Count > 0)
        {
            sb.AppendLine().AppendLine("// global attributes:");
            foreach (var a in nc.GlobalAttributes)
                sb.Append("\t\t:").Append(a.Name).Append(" = ").Append(a.ValueText()).AppendLine(" ;");
        }
        sb.AppendLine("}");
        return sb.ToString();
    }
}
