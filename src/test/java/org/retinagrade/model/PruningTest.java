package org.retinagrade.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PruningTest {

    @Test
    void zeroesSmallestConvolutionWeightsGlobally() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            float[] classifierBefore = net.torchNames().get("classifier.1.weight").getArray().toFloatArray();
            float[] normBefore = net.torchNames().get("features.0.1.weight").getArray().toFloatArray();

            Pruning.Result result = Pruning.prune(net, 0.3);

            assertEquals(Math.round(0.3 * result.total()), result.zeroed());
            long zeros = 0;
            float smallestKept = Float.MAX_VALUE;
            for (Map.Entry<String, ai.djl.nn.Parameter> entry : net.torchNames().entrySet()) {
                var array = entry.getValue().getArray();
                if (entry.getKey().startsWith("features.") && entry.getKey().endsWith(".weight") && array.getShape().dimension() == 4) {
                    for (float v : array.toFloatArray()) {
                        if (v == 0f) {
                            zeros++;
                        } else {
                            smallestKept = Math.min(smallestKept, Math.abs(v));
                        }
                    }
                }
            }
            assertEquals(result.zeroed(), zeros, "zeros counted in the network");
            assertTrue(smallestKept >= result.threshold(), "a kept weight is below the threshold");
            assertArrayEquals(classifierBefore, net.torchNames().get("classifier.1.weight").getArray().toFloatArray());
            assertArrayEquals(normBefore, net.torchNames().get("features.0.1.weight").getArray().toFloatArray());
        }
    }

    @Test
    void invalidAmountIsRejected() {
        try (NDManager manager = NDManager.newBaseManager()) {
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Pruning.prune(net, 1.0));
            assertEquals("invalid pruning amount 1.0: expected 0 to below 1", error.getMessage());
        }
    }
}
