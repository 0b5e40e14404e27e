package org.retinagrade.imaging.augment;

/**
 * Colour adjustments with torchvision 0.14's definitions for float tensors
 * ({@code torchvision.transforms.functional_tensor}), on interleaved RGB float arrays in
 * [0, 1]. Grayscale is 0.2989 R + 0.587 G + 0.114 B; "blend(a, b, f)" is
 * clamp(f * a + (1 - f) * b, 0, 1). Arithmetic is in float, as torchvision's is.
 */
public final class ColorOps {

    private ColorOps() {
    }

    /** Blends with black: factor 0 gives black, 1 the original. */
    public static void adjustBrightness(float[] rgb, float factor) {
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = clamp(factor * rgb[i]);
        }
    }

    /** Blends with the mean grayscale value of the whole image: factor 0 gives uniform grey, 1 the original. */
    public static void adjustContrast(float[] rgb, float factor) {
        double sum = 0;
        for (int i = 0; i < rgb.length; i += 3) {
            sum += grayscale(rgb[i], rgb[i + 1], rgb[i + 2]);
        }
        float mean = (float) (sum / (rgb.length / 3));
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = clamp(factor * rgb[i] + (1 - factor) * mean);
        }
    }

    /** Blends with the pixel's own grayscale value: factor 0 gives grayscale, 1 the original. */
    public static void adjustSaturation(float[] rgb, float factor) {
        for (int i = 0; i < rgb.length; i += 3) {
            float gray = grayscale(rgb[i], rgb[i + 1], rgb[i + 2]);
            for (int c = 0; c < 3; c++) {
                rgb[i + c] = clamp(factor * rgb[i + c] + (1 - factor) * gray);
            }
        }
    }

    /** Rotates the hue by {@code factor} turns (in [-0.5, 0.5]) through HSV, as torchvision's adjust_hue. */
    public static void adjustHue(float[] rgb, float factor) {
        if (factor < -0.5f || factor > 0.5f) {
            throw new IllegalArgumentException("invalid hue factor " + factor + ": expected -0.5 to 0.5");
        }
        float[] hsv = new float[3];
        for (int i = 0; i < rgb.length; i += 3) {
            rgbToHsv(rgb[i], rgb[i + 1], rgb[i + 2], hsv);
            float h = floorMod(hsv[0] + factor, 1.0f);
            hsvToRgb(h, hsv[1], hsv[2], rgb, i);
        }
    }

    /** Gamma correction: gain * value^gamma, clamped, as torchvision's adjust_gamma for float images. */
    public static void adjustGamma(float[] rgb, float gamma, float gain) {
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = clamp((float) (gain * Math.pow(rgb[i], gamma)));
        }
    }

    static float grayscale(float r, float g, float b) {
        return 0.2989f * r + 0.587f * g + 0.114f * b;
    }

    /** torchvision's _rgb2hsv for one pixel. */
    static void rgbToHsv(float r, float g, float b, float[] hsv) {
        float maxc = Math.max(r, Math.max(g, b));
        float minc = Math.min(r, Math.min(g, b));
        boolean equal = maxc == minc;
        float cr = maxc - minc;
        float s = cr / (equal ? 1f : maxc);
        float divisor = equal ? 1f : cr;
        float rc = (maxc - r) / divisor;
        float gc = (maxc - g) / divisor;
        float bc = (maxc - b) / divisor;
        float hr = maxc == r ? bc - gc : 0f;
        float hg = maxc == g && maxc != r ? 2.0f + rc - bc : 0f;
        float hb = maxc != g && maxc != r ? 4.0f + gc - rc : 0f;
        float h = hr + hg + hb;
        h = fmod(h / 6.0f + 1.0f, 1.0f);
        hsv[0] = h;
        hsv[1] = s;
        hsv[2] = maxc;
    }

    /** torchvision's _hsv2rgb for one pixel, written to {@code out[offset..offset+2]}. */
    static void hsvToRgb(float h, float s, float v, float[] out, int offset) {
        float i = (float) Math.floor(h * 6.0f);
        float f = h * 6.0f - i;
        int sector = Math.floorMod((int) i, 6);
        float p = clamp(v * (1.0f - s));
        float q = clamp(v * (1.0f - s * f));
        float t = clamp(v * (1.0f - s * (1.0f - f)));
        float r;
        float g;
        float b;
        switch (sector) {
            case 0 -> { r = v; g = t; b = p; }
            case 1 -> { r = q; g = v; b = p; }
            case 2 -> { r = p; g = v; b = t; }
            case 3 -> { r = p; g = q; b = v; }
            case 4 -> { r = t; g = p; b = v; }
            default -> { r = v; g = p; b = q; }
        }
        out[offset] = r;
        out[offset + 1] = g;
        out[offset + 2] = b;
    }

    /** C fmod: the remainder with the sign of the dividend, as torch.fmod. */
    private static float fmod(float a, float b) {
        return a % b;
    }

    /** Python-style modulo with the sign of the divisor, as torch's % operator. */
    private static float floorMod(float a, float b) {
        float r = a % b;
        return r < 0 ? r + b : r;
    }

    static float clamp(float value) {
        return value < 0f ? 0f : (value > 1f ? 1f : value);
    }
}
