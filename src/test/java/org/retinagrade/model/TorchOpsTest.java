package org.retinagrade.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class TorchOpsTest {

    private static final Shape SHAPE = new Shape(2, 3, 4, 5);

    @Test
    void siluMatchesSigmoidProduct() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(0f, 3f, SHAPE, DataType.FLOAT32);
            float[] expected = x.mul(x.getNDArrayInternal().sigmoid()).toFloatArray();

            NDArray y = TorchOps.silu(x, true);

            assertArrayEquals(expected, y.toFloatArray(), 1e-6f);
            assertEquals(SHAPE, y.getShape());
        }
    }

    @Test
    void siluGradientMatchesFormula() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(0f, 3f, SHAPE, DataType.FLOAT32);
            x.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(TorchOps.silu(x, true).sum());
            }
            // d/dx x * s(x) = s(x) * (1 + x * (1 - s(x)))
            NDArray sigmoid = x.getNDArrayInternal().sigmoid();
            float[] expected = sigmoid.mul(x.mul(sigmoid.neg().add(1)).add(1)).toFloatArray();

            assertArrayEquals(expected, x.getGradient().toFloatArray(), 1e-5f);
        }
    }

    @Test
    void inferenceSiluOverwritesInput() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(SHAPE);
            float[] expected = x.mul(x.getNDArrayInternal().sigmoid()).toFloatArray();

            NDArray y = TorchOps.silu(x, false);

            assertArrayEquals(expected, y.toFloatArray(), 1e-6f);
            assertArrayEquals(expected, x.toFloatArray(), 1e-6f);
        }
    }

    @Test
    void namedArrayUsesDjlOperations() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(SHAPE);
            x.setName("stem.input");
            float[] expected = x.mul(x.getNDArrayInternal().sigmoid()).toFloatArray();

            assertArrayEquals(expected, TorchOps.silu(x, true).toFloatArray(), 1e-6f);
            assertArrayEquals(x.toFloatArray(), TorchOps.channelsLast(x).toFloatArray());
        }
    }

    @Test
    void channelsLastKeepsShapeAndValues() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(SHAPE);

            NDArray y = TorchOps.channelsLast(x);

            assertEquals(SHAPE, y.getShape());
            assertArrayEquals(x.toFloatArray(), y.toFloatArray());
            assertArrayEquals(x.get("1, 2").toFloatArray(), y.get("1, 2").toFloatArray());
        }
    }
}
