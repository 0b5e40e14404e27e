package org.retinagrade.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EfficientNetV2Test {

    private static long count(EfficientNetV2Config config, int classes) {
        try (NDManager manager = NDManager.newBaseManager()) {
            EfficientNetV2 net = new EfficientNetV2(config, classes);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            return net.parameterCount();
        }
    }

    @Test
    void parameterCountsEqualTorchvision() {
        // torchvision 0.14.1: sum(p.numel() for p in efficientnet_v2_*().parameters())
        assertEquals(21_458_488L, count(EfficientNetV2Config.s(), 1000), "efficientnet_v2_s");
        assertEquals(54_139_356L, count(EfficientNetV2Config.m(), 1000), "efficientnet_v2_m");
        assertEquals(118_515_272L, count(EfficientNetV2Config.l(), 1000), "efficientnet_v2_l");
        assertEquals(20_183_893L, count(EfficientNetV2Config.s(), 5), "efficientnet_v2_s(num_classes=5)");
        assertEquals(187_007L, count(EfficientNetV2Config.small(), 5), "small variant, as the fixture script prints");
    }

    @Test
    void logitsMatchTorchvisionFixture() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> fixture = new HashMap<>();
            try (InputStream in = getClass().getResourceAsStream("/model/small-parity.npz")) {
                for (NDArray array : NDList.decode(manager, in)) {
                    fixture.put(array.getName(), array);
                }
            }
            NDArray input = fixture.get("__input__");
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            net.initialize(manager, DataType.FLOAT32, input.getShape());

            Path weights = Files.createTempFile(Path.of("target"), "small-parity", ".npz");
            try (InputStream in = getClass().getResourceAsStream("/model/small-parity.npz")) {
                Files.copy(in, weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            WeightImport.Result result = WeightImport.load(net, weights, manager);
            Files.delete(weights);
            assertEquals(net.torchNames().size(), result.loaded());
            assertFalse(result.classifierReplaced());
            assertEquals(java.util.List.of("__input__", "__logits__"), result.ignored().stream().sorted().toList());

            NDArray logits = net.forward(new ParameterStore(manager, false), new NDList(input), false).singletonOrThrow();
            float[] expected = fixture.get("__logits__").toFloatArray();
            float[] actual = logits.toFloatArray();
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4, "logit " + i);
            }

            float[] folded;
            try (EfficientNetV2.Folded scope = net.foldBatchNorm()) {
                folded = net.forward(new ParameterStore(manager, false), new NDList(input), false).singletonOrThrow().toFloatArray();
            }
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], folded[i], 1e-4, "logit " + i + " with BatchNorm folded");
            }
        }
    }

    /** Folding gives the unfolded logits also with running statistics far from 0 and 1. */
    @Test
    void foldedBatchNormKeepsLogits() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(7);
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            Shape shape = new Shape(2, 3, 64, 64);
            net.initialize(manager, DataType.FLOAT32, shape);
            for (ai.djl.util.Pair<String, ai.djl.nn.Parameter> pair : net.getParameters()) {
                NDArray array = pair.getValue().getArray();
                if (pair.getKey().endsWith("runningMean")) {
                    array.set(manager.randomUniform(-0.5f, 0.5f, array.getShape()).toFloatArray());
                } else if (pair.getKey().endsWith("runningVar")) {
                    array.set(manager.randomUniform(0.5f, 2f, array.getShape()).toFloatArray());
                } else if (pair.getKey().endsWith("gamma")) {
                    array.set(manager.randomUniform(0.5f, 1.5f, array.getShape()).toFloatArray());
                }
            }
            NDArray input = manager.randomNormal(shape);
            float[] plain = net.forward(new ParameterStore(manager, false), new NDList(input), false).singletonOrThrow().toFloatArray();
            float[] folded;
            try (EfficientNetV2.Folded scope = net.foldBatchNorm()) {
                folded = net.forward(new ParameterStore(manager, false), new NDList(input), false).singletonOrThrow().toFloatArray();
            }
            float[] after = net.forward(new ParameterStore(manager, false), new NDList(input), false).singletonOrThrow().toFloatArray();
            for (int i = 0; i < plain.length; i++) {
                assertEquals(plain[i], folded[i], 1e-4 * Math.max(1, Math.abs(plain[i])), "logit " + i);
                assertEquals(plain[i], after[i], 0, "logit " + i + " after the folded scope closed");
            }
        }
    }

    @Test
    void classifierIsReplacedForOtherClassCount() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 3);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            Path weights = Files.createTempFile(Path.of("target"), "small-parity", ".npz");
            try (InputStream in = getClass().getResourceAsStream("/model/small-parity.npz")) {
                Files.copy(in, weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            WeightImport.Result result = WeightImport.load(net, weights, manager);
            Files.delete(weights);
            assertTrue(result.classifierReplaced());
            assertEquals(net.torchNames().size() - 2, result.loaded());
        }
    }

    @Test
    void weightsOfOtherVariantAreRejected() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.s(), 5);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            Path weights = Files.createTempFile(Path.of("target"), "small-parity", ".npz");
            try (InputStream in = getClass().getResourceAsStream("/model/small-parity.npz")) {
                Files.copy(in, weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            java.io.IOException error = assertThrows(java.io.IOException.class, () -> WeightImport.load(net, weights, manager));
            Files.delete(weights);
            assertTrue(error.getMessage().contains("features."), error.getMessage());
        }
    }

    @Test
    void unknownVariantIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> EfficientNetV2Config.named("xl"));
        assertEquals("invalid model variant 'xl': expected s, m, l or small", error.getMessage());
    }

    @Test
    void modelWrapsNetwork() {
        try (Model model = Model.newInstance("probe")) {
            model.setBlock(new EfficientNetV2(EfficientNetV2Config.small(), 5));
            assertEquals("probe", model.getName());
        }
    }
}
