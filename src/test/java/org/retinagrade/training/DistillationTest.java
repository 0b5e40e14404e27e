package org.retinagrade.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class DistillationTest {

    @Test
    void softTargetLossMatchesHandComputation() {
        float[][] student = {{1.0f, 0.0f, -1.0f}, {0.2f, 0.1f, 0.0f}};
        float[][] teacher = {{2.0f, 0.5f, -0.5f}, {-1.0f, 0.0f, 1.0f}};
        float temperature = 2f;
        double expected = 0;
        for (int n = 0; n < 2; n++) {
            double[] p = softmax(teacher[n], temperature);
            double[] q = softmax(student[n], temperature);
            for (int c = 0; c < 3; c++) {
                expected += p[c] * Math.log(p[c] / q[c]);
            }
        }
        expected = expected / 2 * temperature * temperature;
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray loss = Distillation.softTargetLoss(manager.create(student), manager.create(teacher), temperature);
            assertEquals(expected, loss.getFloat(), 1e-6);
            assertEquals(0.0, Distillation.softTargetLoss(manager.create(teacher), manager.create(teacher), temperature).getFloat(),
                    1e-7, "identical logits");
        }
    }

    @Test
    void combineWeighsBothTerms() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray student = manager.create(new float[][] {{1f, 0f}});
            NDArray teacher = manager.create(new float[][] {{0f, 1f}});
            NDArray own = manager.create(0.7f);
            Distillation onlyOwn = new Distillation(null, "small", 3f, 0f);
            assertEquals(0.7f, onlyOwn.combine(own, student, teacher).getFloat(), 1e-7);
            Distillation onlySoft = new Distillation(null, "small", 3f, 1f);
            assertEquals(Distillation.softTargetLoss(student, teacher, 3f).getFloat(),
                    onlySoft.combine(own, student, teacher).getFloat(), 1e-7);
        }
    }

    @Test
    void invalidSettingsAreRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new Distillation(null, "small", 0f, 0.5f));
        assertEquals("invalid distillation temperature 0.0: expected above 0", error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Distillation(null, "small", 2f, 1.5f));
    }

    private static double[] softmax(float[] logits, float temperature) {
        double sum = 0;
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            e[i] = Math.exp(logits[i] / temperature);
            sum += e[i];
        }
        for (int i = 0; i < e.length; i++) {
            e[i] /= sum;
        }
        return e;
    }
}
