namespace Ensemble.Models.Packages;

/// <summary>
/// Cosine of the solar zenith angle exactly as makani's <c>third_party/climt/zenith_angle.py</c> evaluates it:
/// every quantity in float32 (reference §8.3), including the source's 6.2·10e−6 constant.
/// </summary>
public static class SolarZenith
{
    static readonly DateTime J2000 = new(2000, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    static float Deg2Rad(float d) => d * (MathF.PI / 180f);

    /// <summary>cos Z on an equiangular grid [nlat, nlon]: lat_i = 90 − 180 i/(nlat−1), lon_j = 360 j/nlon.</summary>
    public static float[] CosZenith(DateTime utc, int nlat, int nlon)
    {
        var lat = new float[nlat];
        var lon = new float[nlon];
        for (int i = 0; i < nlat; i++) lat[i] = (float)(90.0 - 180.0 * i / (nlat - 1));
        for (int j = 0; j < nlon; j++) lon[j] = (float)(360.0 * j / nlon);
        return CosZenith(utc, lat, lon);
    }

    public static float[] CosZenith(DateTime utc, float[] latDeg, float[] lonDeg)
    {
        if (utc.Kind == DateTimeKind.Local) utc = utc.ToUniversalTime();
        float d = (float)(utc - J2000).TotalDays;
        float j = d / 36525f;
        float gmstSec = 67310.54841f + j * (876600f * 3600f + 8640184.812866f + j * (0.093104f - j * 6.2f * 10e-6f));
        float gmst = Deg2Rad(gmstSec / 240f) % (2f * MathF.PI);
        if (gmst < 0) gmst += 2f * MathF.PI;
        float m = Deg2Rad(357.52910f + 35999.05030f * j - 0.0001559f * j * j - 0.00000048f * j * j * j);
        float l0 = Deg2Rad(280.46645f + 36000.76983f * j + 0.0003032f * j * j);
        float dl = Deg2Rad((1.914600f - 0.004817f * j - 0.000014f * j * j) * MathF.Sin(m)
                           + (0.019993f - 0.000101f * j) * MathF.Sin(2f * m) + 0.000290f * MathF.Sin(3f * m));
        float lambda = l0 + dl;
        float eps = Deg2Rad(23f + 26f / 60f + 21.406f / 3600f
                            - (46.836769f * j - 0.0001831f * j * j + 0.00200340f * j * j * j - 0.576e-6f * j * j * j * j - 4.34e-8f * j * j * j * j * j) / 3600f);
        float x = MathF.Cos(lambda), y = MathF.Cos(eps) * MathF.Sin(lambda), z = MathF.Sin(eps) * MathF.Sin(lambda);
        float r = MathF.Sqrt(1f - z * z);
        float delta = MathF.Atan2(z, r);
        float alpha = 2f * MathF.Atan2(y, x + r);
        var result = new float[latDeg.Length * lonDeg.Length];
        for (int i = 0; i < latDeg.Length; i++)
        {
            float phi = Deg2Rad(latDeg[i]);
            float sinPart = MathF.Sin(phi) * MathF.Sin(delta);
            float cosPart = MathF.Cos(phi) * MathF.Cos(delta);
            for (int k = 0; k < lonDeg.Length; k++)
            {
                float h = gmst + Deg2Rad(lonDeg[k]) - alpha;
                result[i * lonDeg.Length + k] = sinPart + cosPart * MathF.Cos(h);
            }
        }
        return result;
    }
}
