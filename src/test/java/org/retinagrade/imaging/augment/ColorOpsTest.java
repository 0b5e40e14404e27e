package org.retinagrade.imaging.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** Compares each colour adjustment with torchvision 0.14.1's output on fixed pixels (see torchvision_color_reference.py). */
class ColorOpsTest {

    private static final double TOLERANCE = 2e-6;

    @Test
    void matchesTorchvisionOnFixedPixels() throws Exception {
        JsonNode reference;
        try (InputStream in = getClass().getResourceAsStream("/imaging/torchvision-color-reference.json")) {
            reference = new ObjectMapper().readTree(in);
        }
        float[] input = toFloats(reference.get("input"));
        int checked = 0;
        for (JsonNode testCase : reference.get("cases")) {
            String op = testCase.get("op").asText();
            float factor = (float) testCase.get("factor").asDouble();
            float[] expected = toFloats(testCase.get("output"));
            float[] actual = input.clone();
            switch (op) {
                case "hue" -> ColorOps.adjustHue(actual, factor);
                case "saturation" -> ColorOps.adjustSaturation(actual, factor);
                case "brightness" -> ColorOps.adjustBrightness(actual, factor);
                case "contrast" -> ColorOps.adjustContrast(actual, factor);
                case "gamma" -> ColorOps.adjustGamma(actual, factor, 1f);
                default -> throw new IllegalStateException("unknown op " + op);
            }
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], TOLERANCE, op + " " + factor + " value " + i);
            }
            checked++;
        }
        assertEquals(25, checked, "reference cases read");
    }

    @Test
    void factorOneIsIdentity() {
        float[] pixels = {0.1f, 0.5f, 0.9f, 0.8f, 0.35f, 0.12f, 0.3f, 0.3f, 0.3f};
        float[] adjusted = pixels.clone();
        ColorOps.adjustBrightness(adjusted, 1f);
        ColorOps.adjustContrast(adjusted, 1f);
        ColorOps.adjustSaturation(adjusted, 1f);
        for (int i = 0; i < pixels.length; i++) {
            assertEquals(pixels[i], adjusted[i], 0.0, "value " + i);
        }
        ColorOps.adjustHue(adjusted, 0f);
        for (int i = 0; i < pixels.length; i++) {
            assertEquals(pixels[i], adjusted[i], 1e-6, "value " + i + " after hue 0");
        }
    }

    @Test
    void hueOutsideHalfTurnIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ColorOps.adjustHue(new float[] {0, 0, 0}, 0.7f));
        assertEquals("invalid hue factor 0.7: expected -0.5 to 0.5", error.getMessage());
    }

    private static float[] toFloats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) array.get(i).asDouble();
        }
        return values;
    }
}
