package org.retinagrade.training;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.retinagrade.imaging.augment.SampleRandom;

/**
 * Chooses the sample order of each epoch from (seed, epoch) alone, so a resumed run draws
 * the same order. {@code SHUFFLE} is a permutation of all samples; {@code BALANCED} draws
 * with replacement, each sample with weight 1 / (samples of its class), so every class is
 * drawn equally often in expectation. Immutable and thread-safe.
 */
public record EpochSampler(Kind kind, int[] labels, int classes, int drawsPerEpoch, long seed) {

    public enum Kind { SHUFFLE, BALANCED }

    public EpochSampler {
        labels = labels.clone();
        if (drawsPerEpoch < 1) {
            throw new IllegalArgumentException("invalid draws per epoch " + drawsPerEpoch + ": expected 1 or more");
        }
    }

    public static EpochSampler of(Kind kind, List<Sample> samples, int classes, int drawsPerEpoch, long seed) {
        return new EpochSampler(kind, samples.stream().mapToInt(Sample::label).toArray(), classes, drawsPerEpoch, seed);
    }

    /** Per-sample weights of the balanced sampler: 1 / count of the sample's class. */
    public double[] weights() {
        int[] counts = new int[classes];
        for (int label : labels) {
            counts[label]++;
        }
        double[] weights = new double[labels.length];
        for (int i = 0; i < labels.length; i++) {
            weights[i] = 1.0 / counts[labels[i]];
        }
        return weights;
    }

    /** Returns the sample indices of an epoch, in order. */
    public int[] indices(int epoch) {
        SplittableRandom random = SampleRandom.forSample(seed, epoch, -1);
        if (kind == Kind.SHUFFLE) {
            int[] order = new int[labels.length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int swap = order[i];
                order[i] = order[j];
                order[j] = swap;
            }
            return drawsPerEpoch >= order.length ? order : Arrays.copyOf(order, drawsPerEpoch);
        }
        double[] cumulative = weights();
        for (int i = 1; i < cumulative.length; i++) {
            cumulative[i] += cumulative[i - 1];
        }
        double total = cumulative[cumulative.length - 1];
        int[] drawn = new int[drawsPerEpoch];
        for (int d = 0; d < drawsPerEpoch; d++) {
            double u = random.nextDouble() * total;
            int index = Arrays.binarySearch(cumulative, u);
            drawn[d] = index >= 0 ? Math.min(index + 1, cumulative.length - 1) : -index - 1;
        }
        return drawn;
    }
}
