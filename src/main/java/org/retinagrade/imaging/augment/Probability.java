package org.retinagrade.imaging.augment;

final class Probability {

    private Probability() {
    }

    static void check(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("invalid probability " + p + ": expected 0 to 1");
        }
    }
}
