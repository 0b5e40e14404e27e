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
            float h = remainderOne(hsv[0] + factor);
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
        // torchvision sums three masked terms of which at most one is non-zero; only that one is computed.
        float h;
        if (maxc == r) {
            h = (maxc - b) / divisor - (maxc - g) / divisor;
        } else if (maxc == g) {
            h = 2.0f + (maxc - r) / divisor - (maxc - b) / divisor;
        } else {
            h = 4.0f + (maxc - g) / divisor - (maxc - r) / divisor;
        }
        h = fmodOne(h / 6.0f + 1.0f);
        hsv[0] = h;
        hsv[1] = s;
        hsv[2] = maxc;
    }

    /** torchvision's _hsv2rgb for one pixel, written to {@code out[offset..offset+2]}. */
    static void hsvToRgb(float h, float s, float v, float[] out, int offset) {
        // h is in [0, 1), so the cast floors.
        float i = (int) (h * 6.0f);
        float f = h * 6.0f - i;
        int sector = (int) i % 6;
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

    /**
     * torch.fmod(a, 1) for a in [0, 2), the range h / 6 + 1 takes: subtracting 1 from a value
     * in [1, 2) is exact, so this equals the true remainder without the slow float %.
     */
    private static float fmodOne(float a) {
        return a >= 1.0f ? a - 1.0f : a;
    }

    /** torch.remainder(a, 1) (Python's %) for a in [-1, 2), the range h + factor takes. */
    private static float remainderOne(float a) {
        if (a < 0f) {
            return a + 1.0f;
        }
        return a >= 1.0f ? a - 1.0f : a;
    }

    static float clamp(float value) {
        return value < 0f ? 0f : (value > 1f ? 1f : value);
    }
}
