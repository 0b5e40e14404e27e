package org.retinagrade.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Full EfficientNetV2-S parity with torchvision 0.14.1: opt-in, because it needs Debian's
 * python3-torchvision and writes an 80 MB fixture. Run with
 * {@code ./mvnw test -Dtest=FullParityTest -Dretinagrade.fullParity=true}.
 */
@EnabledIfSystemProperty(named = "retinagrade.fullParity", matches = "true")
class FullParityTest {

    @Test
    void efficientNetV2SMatchesTorchvision() throws Exception {
        Path fixture = Path.of("target", "v2s-parity.npz").toAbsolutePath();
        if (!Files.exists(fixture)) {
            Process process = new ProcessBuilder("/usr/bin/python3", "src/test/resources/model/torchvision_parity_fixture.py",
                    "s", fixture.toString()).inheritIO().start();
            process.waitFor(10, TimeUnit.MINUTES);
            assertEquals(0, process.exitValue(), "fixture script failed");
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> arrays = new HashMap<>();
            try (InputStream in = Files.newInputStream(fixture)) {
                for (NDArray array : NDList.decode(manager, in)) {
                    arrays.put(array.getName(), array);
                }
            }
            NDArray input = arrays.get("__input__");
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.s(), 5);
            net.initialize(manager, DataType.FLOAT32, input.getShape());
            WeightImport.Result result = WeightImport.load(net, fixture, manager);
            assertEquals(net.torchNames().size(), result.loaded());
            float[] expected = arrays.get("__logits__").toFloatArray();
            float[] actual = net.forward(new ParameterStore(manager, false), new NDList(input), false).singletonOrThrow()
                    .toFloatArray();
            double worst = 0;
            for (int i = 0; i < expected.length; i++) {
                worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            }
            System.out.println("EfficientNetV2-S parity: largest logit difference " + worst);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4, "logit " + i);
            }
        }
    }
}
