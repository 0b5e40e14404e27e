package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Core;
import org.opencv.core.Mat;

/** Mirrors the image left-right ({@code horizontal}) or top-bottom with probability {@code p}. */
public record RandomFlip(boolean horizontal, double p) implements Augmentation {

    public RandomFlip {
        Probability.check(p);
    }

    @Override
    public String name() {
        return horizontal ? "horizontal-flip" : "vertical-flip";
    }

    @Override
    public Mat apply(Mat image, SplittableRandom random) {
        if (random.nextDouble() >= p) {
            return image;
        }
        Core.flip(image, image, horizontal ? 1 : 0);
        return image;
    }
}
