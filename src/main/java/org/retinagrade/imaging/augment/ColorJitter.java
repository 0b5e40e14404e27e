package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Mat;

/**
 * torchvision's ColorJitter, applied with probability {@code p}: brightness, contrast and
 * saturation factors drawn uniformly from [max(0, 1 - x), 1 + x], a hue shift from
 * [-hue, hue] turns, applied in a random order (see {@link ColorOps} for each definition).
 */
public record ColorJitter(double brightness, double contrast, double saturation, double hue, double p)
        implements Augmentation {

    public ColorJitter {
        for (double value : new double[] {brightness, contrast, saturation}) {
            if (!(value >= 0)) {
                throw new IllegalArgumentException("invalid jitter strength " + value + ": expected 0 or more");
            }
        }
        if (!(hue >= 0 && hue <= 0.5)) {
            throw new IllegalArgumentException("invalid hue jitter " + hue + ": expected 0 to 0.5");
        }
        Probability.check(p);
    }

    /** The common fine-tuning setting: 0.4, 0.4, 0.4, 0.1 with p = 0.8. */
    public static ColorJitter standard() {
        return new ColorJitter(0.4, 0.4, 0.4, 0.1, 0.8);
    }

    @Override
    public String name() {
        return "color-jitter";
    }

    /** The drawn order (0 brightness, 1 contrast, 2 saturation, 3 hue) and factors. */
    record Draw(int[] order, float brightnessFactor, float contrastFactor, float saturationFactor, float hueFactor) {
    }

    Draw draw(SplittableRandom random) {
        int[] order = {0, 1, 2, 3};
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return new Draw(order, factor(random, brightness), factor(random, contrast), factor(random, saturation),
                hue == 0 ? 0f : (float) random.nextDouble(-hue, hue));
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        Draw draw = draw(random);
        float[] pixels = new float[(int) image.total() * 3];
        image.get(0, 0, pixels);
        for (int operation : draw.order()) {
            switch (operation) {
                case 0 -> ColorOps.adjustBrightness(pixels, draw.brightnessFactor());
                case 1 -> ColorOps.adjustContrast(pixels, draw.contrastFactor());
                case 2 -> ColorOps.adjustSaturation(pixels, draw.saturationFactor());
                default -> ColorOps.adjustHue(pixels, draw.hueFactor());
            }
        }
        image.put(0, 0, pixels);
        return image;
    }

    private static float factor(SplittableRandom random, double strength) {
        if (strength == 0) {
            return 1f;
        }
        return (float) random.nextDouble(Math.max(0, 1 - strength), 1 + strength);
    }
}
