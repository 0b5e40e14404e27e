package org.retinagrade.imaging;

import org.opencv.core.Core;

/**
 * Loads OpenCV's native library (bundled in {@code org.openpnp:opencv}) once per process.
 * OpenCV's own parallel loops are switched off: RetinaGrade runs image preparation on its
 * own bounded thread pool so that it never competes with libtorch for cores.
 */
public final class OpenCv {

    private static boolean loaded;

    private OpenCv() {
    }

    public static synchronized void load() {
        if (!loaded) {
            nu.pattern.OpenCV.loadLocally();
            Core.setNumThreads(1);
            loaded = true;
        }
    }
}
