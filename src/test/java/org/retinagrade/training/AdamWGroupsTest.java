package org.retinagrade.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
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

    /** step(block) updates trainable parameters as update() with a copied gradient does, and skips frozen ones. */
    @Test
    void blockStepMatchesUpdateWithCopiedGradients() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ai.djl.nn.core.Linear stepped = ai.djl.nn.core.Linear.builder().setUnits(3).build();
            ai.djl.nn.core.Linear reference = ai.djl.nn.core.Linear.builder().setUnits(3).build();
            stepped.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new ai.djl.ndarray.types.Shape(2, 4));
            reference.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new ai.djl.ndarray.types.Shape(2, 4));
            for (String name : List.of("weight", "bias")) {
                reference.getParameters().get(name).getArray().set(stepped.getParameters().get(name).getArray().toFloatArray());
            }
            stepped.getParameters().get("bias").freeze(true);
            reference.getParameters().get("bias").freeze(true);
            float[] frozenBias = stepped.getParameters().get("bias").getArray().toFloatArray();

            Map<String, AdamWGroups.ParameterGroup> groups = new java.util.HashMap<>();
            for (ai.djl.nn.core.Linear block : List.of(stepped, reference)) {
                block.getParameters().forEach(pair -> groups.put(pair.getValue().getId(),
                        new AdamWGroups.ParameterGroup(pair.getKey(), 0.01, true)));
            }
            AdamWGroups optimizer = new AdamWGroups(groups, step -> 1.0, 0.1f, 0.9f, 0.999f, 1e-8f);
            NDArray input = manager.create(new float[] {1f, -1f, 0.5f, 2f, 0f, 3f, -2f, 1f}, new ai.djl.ndarray.types.Shape(2, 4));
            for (int step = 1; step <= 2; step++) {
                optimizer.setStep(step);
                for (ai.djl.nn.core.Linear block : List.of(stepped, reference)) {
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray out = block.forward(new ai.djl.training.ParameterStore(manager, false), new NDList(input), true)
                                .singletonOrThrow();
                        collector.backward(out.square().sum());
                    }
                }
                optimizer.step(stepped);
                ai.djl.nn.Parameter weight = reference.getParameters().get("weight");
                optimizer.update(weight.getId(), weight.getArray(), weight.getArray().getGradient().duplicate());
            }
            assertArrayEquals(reference.getParameters().get("weight").getArray().toFloatArray(),
                    stepped.getParameters().get("weight").getArray().toFloatArray());
            assertArrayEquals(frozenBias, stepped.getParameters().get("bias").getArray().toFloatArray());
        }
    }
}
