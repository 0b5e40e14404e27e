package org.retinagrade.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.imaging.ImageTensor;
import org.retinagrade.imaging.OpenCv;
import org.retinagrade.model.EfficientNetV2;
import org.retinagrade.model.EfficientNetV2Config;

class TtaPredictorTest {

    private static final int SIZE = 64;

    /** Four different phantom images, as packed 8-bit RGB. */
    private static List<byte[]> images() {
        OpenCv.load();
        List<byte[]> images = new ArrayList<>();
        for (int grade = 0; grade < 4; grade++) {
            java.awt.image.BufferedImage image = new FundusPhantom(SIZE).render(grade, grade % 2 == 0, 40 + grade);
            byte[] pixels = new byte[SIZE * SIZE * 3];
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    int rgb = image.getRGB(x + 8, y);
                    int i = (y * SIZE + x) * 3;
                    pixels[i] = (byte) (rgb >> 16);
                    pixels[i + 1] = (byte) (rgb >> 8);
                    pixels[i + 2] = (byte) rgb;
                }
            }
            images.add(pixels);
        }
        return images;
    }

    /** Plain eval-mode logits of one batch, built without the predictor. */
    private static float[][] plainLogits(EfficientNetV2 net, NDManager manager, List<byte[]> images, boolean flip) {
        int plane = 3 * SIZE * SIZE;
        float[] data = new float[images.size() * plane];
        for (int b = 0; b < images.size(); b++) {
            Mat rgb = new Mat(SIZE, SIZE, CvType.CV_8UC3);
            rgb.put(0, 0, images.get(b));
            if (flip) {
                Core.flip(rgb, rgb, 1);
            }
            Mat floats = ImageTensor.toFloat(rgb);
            System.arraycopy(ImageTensor.normalizedChw(floats), 0, data, b * plane, plane);
        }
        float[] flat = net.forward(new ParameterStore(manager, false),
                new NDList(manager.create(FloatBuffer.wrap(data), new Shape(images.size(), 3, SIZE, SIZE))), false)
                .singletonOrThrow().toFloatArray();
        float[][] logits = new float[images.size()][];
        for (int b = 0; b < images.size(); b++) {
            logits[b] = java.util.Arrays.copyOfRange(flat, b * 5, b * 5 + 5);
        }
        return logits;
    }

    @Test
    void identityEqualsPlainInference() {
        List<byte[]> images = images();
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            net.initialize(manager, DataType.FLOAT32, new Shape(4, 3, SIZE, SIZE));
            float[][] plain = plainLogits(net, manager, images, false);
            TtaPredictor predictor = new TtaPredictor(net, manager, SIZE, 4);
            TtaPredictor.Predictions predictions = predictor.predict(images, List.of(TtaTransform.IDENTITY),
                    TtaPredictor.Combine.MEAN_PROBABILITIES);
            for (int i = 0; i < images.size(); i++) {
                assertArrayEquals(TtaPredictor.softmax(plain[i]), predictions.probabilities()[i], 1e-6f, "image " + i);
            }
        }
    }

    @Test
    void horizontalFlipFlipsEachImageNotBatchOrder() {
        List<byte[]> images = images();
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(4);
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            net.initialize(manager, DataType.FLOAT32, new Shape(4, 3, SIZE, SIZE));
            float[][] flippedByHand = plainLogits(net, manager, images, true);
            TtaPredictor predictor = new TtaPredictor(net, manager, SIZE, 3);
            float[][] viaTta = predictor.logits(images, TtaTransform.HORIZONTAL_FLIP);
            for (int i = 0; i < images.size(); i++) {
                assertArrayEquals(flippedByHand[i], viaTta[i], 1e-4f, "image " + i);
            }
            assertFalse(java.util.Arrays.equals(viaTta[0], viaTta[3]), "images must give different outputs");
        }
    }

    @Test
    void combinedProbabilitiesAreMeansOverTransforms() {
        List<byte[]> images = images();
        try (NDManager manager = NDManager.newBaseManager()) {
            EfficientNetV2 net = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            net.initialize(manager, DataType.FLOAT32, new Shape(4, 3, SIZE, SIZE));
            List<TtaTransform> transforms = List.of(TtaTransform.IDENTITY, TtaTransform.VERTICAL_FLIP, TtaTransform.SCALE_110);
            TtaPredictor.Predictions p = new TtaPredictor(net, manager, SIZE, 4).predict(images, transforms,
                    TtaPredictor.Combine.MEAN_PROBABILITIES);
            for (int i = 0; i < images.size(); i++) {
                double sum = 0;
                for (int c = 0; c < 5; c++) {
                    double mean = (p.perTransform()[0][i][c] + p.perTransform()[1][i][c] + p.perTransform()[2][i][c]) / 3.0;
                    assertEquals(mean, p.probabilities()[i][c], 1e-6);
                    sum += p.probabilities()[i][c];
                }
                assertEquals(1.0, sum, 1e-5);
            }
        }
    }

    @Test
    void unknownTransformIsRejected() {
        IllegalArgumentException error = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TtaTransform.parse("shear"));
        assertEquals("invalid TTA transform 'shear': expected one of [identity, hflip, vflip, rot90, rot180, rot270,"
                + " scale-0.9, scale-1.1]", error.getMessage());
    }
}
