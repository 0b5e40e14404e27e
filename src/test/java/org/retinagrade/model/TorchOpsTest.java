package org.retinagrade.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class TorchOpsTest {

    private static final Shape SHAPE = new Shape(2, 3, 4, 5);

    @Test
    void siluMatchesSigmoidProduct() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(0f, 3f, SHAPE, DataType.FLOAT32);
            float[] expected = x.mul(x.getNDArrayInternal().sigmoid()).toFloatArray();

            float[] input = x.toFloatArray();

            NDArray y = TorchOps.silu(x, true);

            assertArrayEquals(expected, y.toFloatArray(), 1e-6f);
            assertEquals(SHAPE, y.getShape());
            assertArrayEquals(input, x.toFloatArray(), "training SiLU changed its input");
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
            assertArrayEquals(expected, TorchOps.silu(x.duplicate(), false).toFloatArray(), 1e-6f);
            assertSame(x, TorchOps.channelsLast(x));
        }
    }

    @Test
    void channelsLastSkipsOtherRanks() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(new Shape(2, 3));

            assertSame(x, TorchOps.channelsLast(x));
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

    @Test
    void channelsLastReordersMemory() throws IOException {
        try (NDManager manager = NDManager.newBaseManager(); PtSymbolBlock probe = layoutProbe(manager)) {
            NDArray x = manager.randomNormal(SHAPE);

            assertFalse(isChannelsLast(probe, x), "a new array is in NCHW order");
            assertTrue(isChannelsLast(probe, TorchOps.channelsLast(x)));
        }
    }

    @Test
    void featureBlocksKeepChannelsLast() throws IOException {
        try (NDManager manager = NDManager.newBaseManager(); PtSymbolBlock probe = layoutProbe(manager)) {
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            net.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 64, 64));
            ParameterStore store = new ParameterStore(manager, false);
            for (boolean training : new boolean[] {true, false}) {
                NDList x = new NDList(TorchOps.channelsLast(manager.randomNormal(new Shape(2, 3, 64, 64))));
                for (Block feature : net.features()) {
                    x = feature.forward(store, x, training, null);
                    assertTrue(isChannelsLast(probe, x.singletonOrThrow()),
                            "output of " + feature.getClass().getSimpleName() + " in NCHW order, training " + training);
                }
            }
        }
    }

    /** Loads the test module that checks whether a 4-D array is in channels-last order. */
    private static PtSymbolBlock layoutProbe(NDManager manager) throws IOException {
        try (InputStream in = TorchOpsTest.class.getResourceAsStream("/model/layout_probe.pt")) {
            return JniUtils.loadModule((PtNDManager) manager, in, true, false);
        }
    }

    private static boolean isChannelsLast(PtSymbolBlock probe, NDArray x) {
        return IValueUtils.forward(probe, new NDList(x), true).singletonOrThrow().toBooleanArray()[0];
    }
}
