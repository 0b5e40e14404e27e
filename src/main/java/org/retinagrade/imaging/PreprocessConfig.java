package org.retinagrade.imaging;

import java.util.Locale;

/**
 * How a fundus photograph is prepared before augmentation.
 *
 * @param resolution side of the square output in pixels
 * @param benGraham subtract the local average colour (Gaussian of sigma resolution/30), as in
 *     Ben Graham's Kaggle 2015 winning solution: 4 * image - 4 * blurred + 128, then the
 *     outer 10 % of the field set to grey 128
 * @param clahe contrast-limited adaptive histogram equalisation on the CIELAB lightness channel
 * @param claheClipLimit CLAHE clip limit (OpenCV's definition; 2.0 is common)
 * @param claheTiles CLAHE tiles per side
 */
public record PreprocessConfig(int resolution, boolean benGraham, boolean clahe, double claheClipLimit, int claheTiles) {

    public PreprocessConfig {
        if (resolution < 32 || resolution > 2048) {
            throw new IllegalArgumentException("invalid resolution " + resolution + ": expected 32 to 2048 pixels");
        }
        if (claheClipLimit <= 0) {
            throw new IllegalArgumentException("invalid CLAHE clip limit " + claheClipLimit + ": expected a positive number");
        }
        if (claheTiles < 1 || claheTiles > 64) {
            throw new IllegalArgumentException("invalid CLAHE tile count " + claheTiles + ": expected 1 to 64");
        }
    }

    /** Crop and resize only, at the given resolution. */
    public static PreprocessConfig plain(int resolution) {
        return new PreprocessConfig(resolution, false, false, 2.0, 8);
    }

    /** Returns a short string that names these settings, for cache folders. */
    public String key() {
        StringBuilder key = new StringBuilder("r" + resolution);
        if (benGraham) {
            key.append("-bg");
        }
        if (clahe) {
            key.append(String.format(Locale.ROOT, "-clahe%.2fx%d", claheClipLimit, claheTiles));
        }
        return key.toString();
    }
}
