package org.retinagrade.imaging.augment;

import java.util.SplittableRandom;

/**
 * Derives the random generator of one sample from (run seed, epoch, sample index) with the
 * SplitMix64 finaliser, so that a sample's augmentation is the same in every run and on
 * every thread, whatever order the samples are prepared in.
 */
public final class SampleRandom {

    private SampleRandom() {
    }

    public static SplittableRandom forSample(long seed, long epoch, long index) {
        return new SplittableRandom(mix(mix(mix(seed) ^ epoch) ^ index));
    }

    static long mix(long value) {
        long z = value + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
