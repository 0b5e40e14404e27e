package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Mat;

/** Adds independent Gaussian noise of standard deviation {@code std} (in [0, 1] units) to every value, clamped, with probability {@code p}. */
public record GaussianNoise(double std, double p) implements Augmentation {

    public GaussianNoise {
        if (!(std >= 0 && std <= 1)) {
            throw new IllegalArgumentException("invalid noise std " + std + ": expected 0 to 1");
        }
        Probability.check(p);
    }

    @Override
    public String name() {
        return "gaussian-noise";
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        float[] pixels = new float[(int) image.total() * 3];
        image.get(0, 0, pixels);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = ColorOps.clamp((float) (pixels[i] + std * random.nextGaussian()));
        }
        image.put(0, 0, pixels);
        return image;
    }
}
