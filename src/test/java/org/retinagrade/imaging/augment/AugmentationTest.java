package org.retinagrade.imaging.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.retinagrade.imaging.OpenCv;
import org.retinagrade.imaging.FundusPhantom;

class AugmentationTest {

    private static Mat photo;

    @BeforeAll
    static void loadImage() {
        OpenCv.load();
        java.awt.image.BufferedImage image = new FundusPhantom(96).render(3, true, 5);
        photo = new Mat(96, 96, CvType.CV_8UC3);
        byte[] pixels = new byte[96 * 96 * 3];
        for (int y = 0; y < 96; y++) {
            for (int x = 0; x < 96; x++) {
                int rgb = image.getRGB(x + 12, y);
                int i = (y * 96 + x) * 3;
                pixels[i] = (byte) (rgb >> 16);
                pixels[i + 1] = (byte) (rgb >> 8);
                pixels[i + 2] = (byte) rgb;
            }
        }
        photo.put(0, 0, pixels);
    }

    private static Mat floatCopy() {
        Mat result = new Mat();
        photo.convertTo(result, CvType.CV_32FC3, 1.0 / 255.0);
        return result;
    }

    private static float[] values(Mat image) {
        float[] v = new float[(int) image.total() * 3];
        image.get(0, 0, v);
        return v;
    }

    @Test
    void flipTwiceIsIdentity() {
        for (boolean horizontal : new boolean[] {true, false}) {
            Mat image = floatCopy();
            float[] before = values(image);
            RandomFlip flip = new RandomFlip(horizontal, 1.0);
            Mat once = flip.apply(image, new SplittableRandom(1));
            assertFalse(Arrays.equals(before, values(once)), "a single flip changed nothing");
            Mat twice = flip.apply(once, new SplittableRandom(2));
            assertArrayEquals(before, values(twice), "horizontal=" + horizontal);
        }
    }

    @Test
    void horizontalFlipMirrorsColumns() {
        Mat image = floatCopy();
        float[] before = values(image);
        float[] after = values(new RandomFlip(true, 1.0).apply(image, new SplittableRandom(1)));
        int width = 96;
        for (int c = 0; c < 3; c++) {
            assertEquals(before[(5 * width + 0) * 3 + c], after[(5 * width + width - 1) * 3 + c], 0.0);
        }
    }

    @Test
    void elasticWithZeroAlphaIsIdentity() {
        Mat image = floatCopy();
        float[] before = values(image);
        Mat result = new ElasticDeformation(0, 4, 1.0).apply(image, new SplittableRandom(3));
        assertArrayEquals(before, values(result));
    }

    @Test
    void elasticWithAlphaMovesPixelsInsideFieldOnly() {
        Mat image = floatCopy();
        float[] before = values(image);
        float[] after = values(new ElasticDeformation(12, 4, 1.0).apply(image, new SplittableRandom(3)));
        assertFalse(Arrays.equals(before, after), "alpha 12 changed nothing");
        for (int c = 0; c < 3; c++) {
            assertEquals(before[c], after[c], 0.0, "corner pixel outside the field moved");
        }
    }

    @Test
    void jitterWithUnitFactorsIsIdentity() {
        Mat image = floatCopy();
        float[] before = values(image);
        Mat result = new ColorJitter(0, 0, 0, 0, 1.0).apply(image, new SplittableRandom(4));
        float[] after = values(result);
        for (int i = 0; i < before.length; i++) {
            assertEquals(before[i], after[i], 1e-6, "value " + i);
        }
    }

    @Test
    void cropBoxesStayInsideImage() {
        RandomResizedCrop crop = RandomResizedCrop.standard(224);
        RandomResizedCrop wide = new RandomResizedCrop(224, 0.05, 1.0, 0.2, 5.0);
        SplittableRandom random = new SplittableRandom(5);
        int[][] sizes = {{224, 224}, {256, 256}, {300, 200}, {100, 400}, {8, 8}};
        for (int draw = 0; draw < 2000; draw++) {
            for (int[] size : sizes) {
                for (RandomResizedCrop c : List.of(crop, wide)) {
                    int[] box = c.cropBox(random, size[0], size[1]);
                    assertTrue(box[0] >= 0, Arrays.toString(box));
                    assertTrue(box[1] >= 0, Arrays.toString(box));
                    assertTrue(box[2] > 0, Arrays.toString(box));
                    assertTrue(box[3] > 0, Arrays.toString(box));
                    assertTrue(box[0] + box[2] <= size[0], Arrays.toString(box) + " in " + Arrays.toString(size));
                    assertTrue(box[1] + box[3] <= size[1], Arrays.toString(box) + " in " + Arrays.toString(size));
                }
            }
        }
    }

    @Test
    void cropAreaFollowsScale() {
        RandomResizedCrop crop = RandomResizedCrop.standard(224);
        SplittableRandom random = new SplittableRandom(6);
        for (int draw = 0; draw < 500; draw++) {
            int[] box = crop.cropBox(random, 256, 256);
            double fraction = box[2] * box[3] / (256.0 * 256.0);
            assertTrue(fraction > 0.78, "area fraction " + fraction);
            assertTrue(fraction <= 1.0, "area fraction " + fraction);
        }
    }

    @Test
    void sameSeedGivesSameTensor() {
        AugmentationPipeline pipeline = fullPipeline();
        float[] first = pipeline.applyNormalized(photo, 42, 3, 17);
        float[] second = pipeline.applyNormalized(photo, 42, 3, 17);
        assertArrayEquals(first, second);
        assertEquals(3 * 96 * 96, first.length);
    }

    @Test
    void otherSeedEpochOrIndexGivesOtherTensor() {
        AugmentationPipeline pipeline = fullPipeline();
        float[] base = pipeline.applyNormalized(photo, 42, 3, 17);
        assertFalse(Arrays.equals(base, pipeline.applyNormalized(photo, 43, 3, 17)), "seed");
        assertFalse(Arrays.equals(base, pipeline.applyNormalized(photo, 42, 4, 17)), "epoch");
        assertFalse(Arrays.equals(base, pipeline.applyNormalized(photo, 42, 3, 18)), "index");
    }

    @Test
    void resultDoesNotDependOnThreadScheduling() throws Exception {
        AugmentationPipeline pipeline = fullPipeline();
        float[][] sequential = new float[8][];
        for (int i = 0; i < 8; i++) {
            sequential[i] = pipeline.applyNormalized(photo, 7, 1, i);
        }
        float[][] parallel = new float[8][];
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            int offset = t;
            threads[t] = new Thread(() -> {
                for (int i = 7 - offset; i >= 0; i -= threads.length) {
                    parallel[i] = pipeline.applyNormalized(photo, 7, 1, i);
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        for (int i = 0; i < 8; i++) {
            assertArrayEquals(sequential[i], parallel[i], "sample " + i);
        }
    }

    @Test
    void normalizationUsesImageNetStatistics() {
        Mat grey = new Mat(2, 2, CvType.CV_8UC3, new org.opencv.core.Scalar(255, 0, 128));
        float[] chw = new AugmentationPipeline(List.of()).applyNormalized(grey, 1, 0, 0);
        assertEquals((1f - 0.485f) / 0.229f, chw[0], 1e-6);
        assertEquals((0f - 0.456f) / 0.224f, chw[4], 1e-6);
        assertEquals((128f / 255f - 0.406f) / 0.225f, chw[8], 1e-6);
    }

    @Test
    void specBuildsStepsWithDefaults() {
        AugmentationPipeline pipeline = AugmentationPipeline.fromSpec(List.of(
                Map.of("type", "color-jitter", "brightness", 0.2),
                Map.of("type", "elastic", "alpha", 10, "sigma", 3),
                Map.of("type", "random-resized-crop", "scale", List.of(0.5, 1.0))), 224, "augmentation");
        assertEquals(new ColorJitter(0.2, 0.4, 0.4, 0.1, 0.8), pipeline.steps().get(0));
        assertEquals(new ElasticDeformation(10, 3, 0.5), pipeline.steps().get(1));
        assertEquals(new RandomResizedCrop(224, 0.5, 1.0, 0.75, 4.0 / 3.0), pipeline.steps().get(2));
    }

    @Test
    void specRejectsUnknownParameterAndBadValues() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> AugmentationPipeline.fromSpec(
                List.of(Map.of("type", "rotation", "angle", 90)), 224, "augmentation"));
        assertTrue(unknown.getMessage().startsWith("augmentation[0]: unknown parameter 'angle' for rotation"), unknown.getMessage());

        IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> AugmentationPipeline.fromSpec(
                List.of(Map.of("type", "mixup")), 224, "augmentation"));
        assertTrue(type.getMessage().contains("invalid augmentation type 'mixup'"), type.getMessage());

        IllegalArgumentException probability = assertThrows(IllegalArgumentException.class, () -> AugmentationPipeline.fromSpec(
                List.of(Map.of("type", "horizontal-flip"), Map.of("type", "vertical-flip", "p", 1.5)), 224, "augmentation"));
        assertEquals("augmentation[1] (vertical-flip): invalid probability 1.5: expected 0 to 1", probability.getMessage());
    }

    private static AugmentationPipeline fullPipeline() {
        return new AugmentationPipeline(List.of(RandomResizedCrop.standard(96), new RandomFlip(true, 0.5),
                new RandomFlip(false, 0.5), new RandomRotation(180), ColorJitter.standard(),
                new ElasticDeformation(8, 3, 1.0), new RandomGammaContrast(0.8, 1.2, 0.8, 1.25, 1.0),
                new GaussianBlur(0.1, 1.0, 1.0), new GaussianNoise(0.02, 1.0)));
    }
}
