package org.retinagrade.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class FocalLossTest {

    private static final float[][] LOGITS = {{2.0f, 0.5f, -1.0f}, {0.1f, 0.2f, 0.3f}};
    private static final float[] LABELS = {0, 2};

    /** Hand computation in double precision of the formula in FocalLoss's documentation. */
    private static double expected(float gamma, float[] alpha, float smoothing) {
        double total = 0;
        for (int n = 0; n < LOGITS.length; n++) {
            double max = Math.max(LOGITS[n][0], Math.max(LOGITS[n][1], LOGITS[n][2]));
            double sum = 0;
            for (float v : LOGITS[n]) {
                sum += Math.exp(v - max);
            }
            double loss = 0;
            for (int c = 0; c < 3; c++) {
                double logP = LOGITS[n][c] - max - Math.log(sum);
                double q = (c == LABELS[n] ? 1 - smoothing : 0) + smoothing / 3;
                double a = alpha == null ? 1 : alpha[c];
                loss -= q * a * Math.pow(1 - Math.exp(logP), gamma) * logP;
            }
            total += loss;
        }
        return total / LOGITS.length;
    }

    private static float evaluate(NDManager manager, FocalLoss loss) {
        NDArray logits = manager.create(LOGITS);
        NDArray labels = manager.create(LABELS);
        return loss.evaluate(new NDList(labels), new NDList(logits)).getFloat();
    }

    @Test
    void matchesHandComputedValues() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertEquals(expected(0, null, 0), evaluate(manager, new FocalLoss(0, null, 0)), 1e-6, "cross-entropy");
            assertEquals(expected(2, null, 0), evaluate(manager, new FocalLoss(2, null, 0)), 1e-6, "gamma 2");
            float[] alpha = {0.25f, 1.0f, 2.0f};
            assertEquals(expected(2, alpha, 0), evaluate(manager, new FocalLoss(2, alpha, 0)), 1e-6, "gamma 2 with alpha");
            assertEquals(expected(1.5f, null, 0.1f), evaluate(manager, new FocalLoss(1.5f, null, 0.1f)), 1e-6, "smoothing");
        }
    }

    @Test
    void gammaZeroIsCrossEntropy() {
        // -log softmax at the true class, averaged: independent of the focal code path.
        double first = -(2.0 - Math.log(Math.exp(2.0) + Math.exp(0.5) + Math.exp(-1.0)));
        double second = -(0.3 - Math.log(Math.exp(0.1) + Math.exp(0.2) + Math.exp(0.3)));
        try (NDManager manager = NDManager.newBaseManager()) {
            assertEquals((first + second) / 2, evaluate(manager, new FocalLoss(0, null, 0)), 1e-6);
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        try (NDManager manager = NDManager.newBaseManager()) {
            FocalLoss loss = new FocalLoss(2, new float[] {0.5f, 1f, 1.5f}, 0.05f);
            NDArray logits = manager.create(LOGITS).toType(DataType.FLOAT64, false);
            logits.setRequiresGradient(true);
            NDArray labels = manager.create(LABELS);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(loss.evaluate(new NDList(labels), new NDList(logits)));
            }
            double[] gradient = logits.getGradient().toDoubleArray();
            double h = 1e-6;
            double[] base = logits.toDoubleArray();
            for (int i = 0; i < base.length; i++) {
                double[] plus = base.clone();
                double[] minus = base.clone();
                plus[i] += h;
                minus[i] -= h;
                double up = loss.evaluate(new NDList(labels), new NDList(manager.create(plus, logits.getShape()))).getDouble();
                double down = loss.evaluate(new NDList(labels), new NDList(manager.create(minus, logits.getShape()))).getDouble();
                assertEquals((up - down) / (2 * h), gradient[i], 1e-6, "d loss / d logit " + i);
            }
        }
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new FocalLoss(-1, null, 0));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new FocalLoss(2, null, 1.0f));
        assertEquals("invalid label smoothing 1.0: expected 0 to below 1", error.getMessage());
    }
}
