package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Mat;

/**
 * Contrast and gamma adjustment, applied with probability {@code p}: a contrast factor
 * drawn from [minContrast, maxContrast] (torchvision's adjust_contrast: blend with the mean
 * grey) and then a gamma drawn from [minGamma, maxGamma] (value^gamma).
 */
public record RandomGammaContrast(double minContrast, double maxContrast, double minGamma, double maxGamma, double p)
        implements Augmentation {

    public RandomGammaContrast {
        if (!(0 <= minContrast && minContrast <= maxContrast)) {
            throw new IllegalArgumentException("invalid contrast range (" + minContrast + ", " + maxContrast
                    + "): expected 0 <= min <= max");
        }
        if (!(0 < minGamma && minGamma <= maxGamma)) {
            throw new IllegalArgumentException("invalid gamma range (" + minGamma + ", " + maxGamma + "): expected 0 < min <= max");
        }
        Probability.check(p);
    }

    @Override
    public String name() {
        return "contrast-gamma";
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        float contrast = (float) (minContrast == maxContrast ? minContrast : random.nextDouble(minContrast, maxContrast));
        float gamma = (float) (minGamma == maxGamma ? minGamma : random.nextDouble(minGamma, maxGamma));
        float[] pixels = new float[(int) image.total() * 3];
        image.get(0, 0, pixels);
        ColorOps.adjustContrast(pixels, contrast);
        ColorOps.adjustGamma(pixels, gamma, 1f);
        image.put(0, 0, pixels);
        return image;
    }
}
