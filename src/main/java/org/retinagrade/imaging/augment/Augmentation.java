package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;
import org.opencv.core.Mat;

/**
 * A random image transform on 32-bit float RGB images in [0, 1] (OpenCV {@code CV_32FC3}).
 * Implementations draw all their random parameters from the generator first and then apply
 * them; they hold only their settings, so every instance is immutable and thread-safe.
 */
public interface Augmentation {

    /** Name shown in previews and protocols, such as {@code "horizontal-flip"}. */
    String name();

    /**
     * Returns the transformed image. The result may be the input itself, changed in place, or a
     * new Mat; when it is new, the input is left unchanged and the caller still owns it.
     */
    Mat apply(Mat image, SplittableRandom random);
}
