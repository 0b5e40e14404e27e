package org.retinagrade.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWGroupsTest {

    /**
     * Two steps on a weight group (lr 0.01, weight decay 0.1) and a bias group (lr 0.02, no
     * decay), each after its own backward pass and without clearing gradients in between.
     * Expected values from PyTorch 1.13's torch.optim.AdamW with the same groups.
     */
    @Test
    void matchesPyTorchAdamWWithGroups() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {1f, -2f, 3f});
            NDArray b = manager.create(new float[] {0.5f, -0.5f});
            w.setRequiresGradient(true);
            b.setRequiresGradient(true);
            AdamWGroups optimizer = new AdamWGroups(Map.of(
                    "w", new AdamWGroups.ParameterGroup("w", 0.01, true),
                    "b", new AdamWGroups.ParameterGroup("b", 0.02, false)), step -> 1.0, 0.1f, 0.9f, 0.999f, 1e-8f);
            float[][] weightGrads = {{0.1f, 0.2f, -0.3f}, {-0.2f, 0.4f, 0.1f}};
            float[][] biasGrads = {{1.0f, -1.0f}, {0.5f, 0.25f}};
            for (int step = 0; step < 2; step++) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = w.mul(manager.create(weightGrads[step])).sum()
                            .add(b.mul(manager.create(biasGrads[step])).sum());
                    collector.backward(loss);
                }
                optimizer.setStep(step + 1);
                optimizer.update("w", w, w.getGradient().duplicate());
                optimizer.update("b", b, b.getGradient().duplicate());
            }
            float[] expectedW = {0.9916720986366272f, -2.015644073486328f, 3.007995128631592f};
            float[] expectedB = {0.46135640144348145f, -0.4706106185913086f};
            float[] actualW = w.toFloatArray();
            float[] actualB = b.toFloatArray();
            for (int i = 0; i < 3; i++) {
                assertEquals(expectedW[i], actualW[i], 1e-6, "weight " + i);
            }
            for (int i = 0; i < 2; i++) {
                assertEquals(expectedB[i], actualB[i], 1e-6, "bias " + i);
            }
        }
    }
}
