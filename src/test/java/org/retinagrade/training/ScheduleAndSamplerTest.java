package org.retinagrade.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ScheduleAndSamplerTest {

    @Test
    void warmupThenCosine() {
        LearningRateSchedule schedule = new LearningRateSchedule(10, 110, 0.01);
        assertEquals(0.1, schedule.factor(1), 1e-12);
        assertEquals(1.0, schedule.factor(10), 1e-12);
        assertEquals(0.01 + 0.99 * 0.5, schedule.factor(60), 1e-12, "half-way through the decay");
        assertEquals(0.01, schedule.factor(110), 1e-12);
    }

    @Test
    void balancedSamplerDrawsClassesEvenly() {
        int[] labels = new int[100];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i < 80 ? 0 : (i < 95 ? 1 : 2);
        }
        EpochSampler sampler = new EpochSampler(EpochSampler.Kind.BALANCED, labels, 3, 30_000, 7);
        int[] counts = new int[3];
        for (int index : sampler.indices(1)) {
            counts[labels[index]]++;
        }
        for (int c = 0; c < 3; c++) {
            assertEquals(10_000, counts[c], 400, "draws of class " + c + ": " + Arrays.toString(counts));
        }
        assertEquals(1.0 / 80, sampler.weights()[0], 1e-15);
        assertEquals(1.0 / 5, sampler.weights()[99], 1e-15);
    }

    @Test
    void orderDependsOnlyOnSeedAndEpoch() {
        int[] labels = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
        EpochSampler first = new EpochSampler(EpochSampler.Kind.SHUFFLE, labels, 5, 10, 3);
        EpochSampler second = new EpochSampler(EpochSampler.Kind.SHUFFLE, labels, 5, 10, 3);
        assertArrayEquals(first.indices(2), second.indices(2));
        assertFalse(Arrays.equals(first.indices(2), first.indices(3)));
        int[] sorted = first.indices(2).clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted, "a shuffle is a permutation");
    }

    @Test
    void kappaMatchesWorkedExample() {
        // scikit-learn 1.2.1: cohen_kappa_score([0,1,2,3,4,4,2,1], [0,2,2,3,3,4,1,1], weights="quadratic")
        int[] truth = {0, 1, 2, 3, 4, 4, 2, 1};
        int[] predicted = {0, 2, 2, 3, 3, 4, 1, 1};
        assertEquals(0.8888888888888888, org.retinagrade.evaluation.Kappa.quadratic(truth, predicted, 5), 1e-12);
        assertTrue(Double.isNaN(org.retinagrade.evaluation.Kappa.quadratic(new int[] {2, 2}, new int[] {2, 2}, 5)));
    }
}
