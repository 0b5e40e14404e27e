package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Core;
import org.opencv.core.Mat;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/** Gaussian blur with sigma drawn from [minSigma, maxSigma] pixels (kernel 2 * ceil(3 sigma) + 1), with probability {@code p}. */
public record GaussianBlur(double minSigma, double maxSigma, double p) implements Augmentation {

    public GaussianBlur {
        if (!(0 < minSigma && minSigma <= maxSigma)) {
            throw new IllegalArgumentException("invalid blur sigma range (" + minSigma + ", " + maxSigma + "): expected 0 < min <= max");
        }
        Probability.check(p);
    }

    @Override
    public String name() {
        return "gaussian-blur";
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        double sigma = minSigma == maxSigma ? minSigma : random.nextDouble(minSigma, maxSigma);
        int kernel = 2 * (int) Math.ceil(3 * sigma) + 1;
        Imgproc.GaussianBlur(image, image, new Size(kernel, kernel), sigma, sigma, Core.BORDER_REFLECT_101);
        return image;
    }
}
