package org.retinagrade.evaluation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.nio.FloatBuffer;
import java.util.List;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.retinagrade.imaging.ImageTensor;
import org.retinagrade.model.EfficientNetV2;

/**
 * Eval-mode inference with test-time augmentation: every image is transformed by each
 * {@link TtaTransform} on its own, the model's outputs are combined per image by the mean
 * of the softmax probabilities (default) or by the softmax of the mean logits, and the
 * per-transform probabilities are kept. Not thread-safe.
 */
public final class TtaPredictor {

    /** Rule that combines the transforms' outputs. */
    public enum Combine { MEAN_PROBABILITIES, MEAN_LOGITS }

    /** Combined probabilities per image, and per transform (transform, image, grade). */
    public record Predictions(float[][] probabilities, float[][][] perTransform, List<TtaTransform> transforms) {
    }

    private final Block network;
    private final NDManager manager;
    private final int resolution;
    private final int batchSize;

    public TtaPredictor(Block network, NDManager manager, int resolution, int batchSize) {
        this.network = network;
        this.manager = manager;
        this.resolution = resolution;
        this.batchSize = batchSize;
    }

    /** Predicts prepared 8-bit RGB images given as packed bytes (resolution x resolution x 3). */
    public Predictions predict(List<byte[]> images, List<TtaTransform> transforms, Combine combine) {
        if (transforms.isEmpty()) {
            throw new IllegalArgumentException("no TTA transforms given: use at least identity");
        }
        int n = images.size();
        float[][][] logits = new float[transforms.size()][][];
        for (int t = 0; t < transforms.size(); t++) {
            logits[t] = logits(images, transforms.get(t));
        }
        int classes = n == 0 ? 0 : logits[0][0].length;
        float[][][] perTransform = new float[transforms.size()][n][];
        float[][] combined = new float[n][classes];
        for (int i = 0; i < n; i++) {
            double[] meanLogits = new double[classes];
            for (int t = 0; t < transforms.size(); t++) {
                perTransform[t][i] = softmax(logits[t][i]);
                for (int c = 0; c < classes; c++) {
                    combined[i][c] += perTransform[t][i][c] / transforms.size();
                    meanLogits[c] += logits[t][i][c] / (double) transforms.size();
                }
            }
            if (combine == Combine.MEAN_LOGITS) {
                float[] mean = new float[classes];
                for (int c = 0; c < classes; c++) {
                    mean[c] = (float) meanLogits[c];
                }
                combined[i] = softmax(mean);
            }
        }
        return new Predictions(combined, perTransform, List.copyOf(transforms));
    }

    /** Logits of every image under one transform, in input order. */
    public float[][] logits(List<byte[]> images, TtaTransform transform) {
        float[][] result = new float[images.size()][];
        ParameterStore store = new ParameterStore(manager, false);
        // BatchNorm folded into the convolutions gives the same logits (within float rounding) in fewer passes.
        try (EfficientNetV2.Folded folded = network instanceof EfficientNetV2 model ? model.foldBatchNorm() : () -> { }) {
            predictBatches(images, transform, store, result);
        }
        return result;
    }

    private void predictBatches(List<byte[]> images, TtaTransform transform, ParameterStore store, float[][] result) {
        int plane = 3 * resolution * resolution;
        for (int start = 0; start < images.size(); start += batchSize) {
            int count = Math.min(batchSize, images.size() - start);
            float[] data = new float[count * plane];
            for (int b = 0; b < count; b++) {
                Mat rgb = new Mat(resolution, resolution, CvType.CV_8UC3);
                rgb.put(0, 0, images.get(start + b));
                Mat transformed = transform.apply(rgb);
                Mat floats = ImageTensor.toFloat(transformed);
                System.arraycopy(ImageTensor.normalizedChw(floats), 0, data, b * plane, plane);
                floats.release();
                transformed.release();
                rgb.release();
            }
            try (NDScope scope = new NDScope()) {
                NDArray x = manager.create(FloatBuffer.wrap(data), new Shape(count, 3, resolution, resolution));
                float[] flat = network.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
                int classes = flat.length / count;
                for (int b = 0; b < count; b++) {
                    result[start + b] = java.util.Arrays.copyOfRange(flat, b * classes, (b + 1) * classes);
                }
            }
        }
    }

    static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] e = new double[logits.length];
        for (int c = 0; c < logits.length; c++) {
            e[c] = Math.exp(logits[c] - max);
            sum += e[c];
        }
        float[] p = new float[logits.length];
        for (int c = 0; c < logits.length; c++) {
            p[c] = (float) (e[c] / sum);
        }
        return p;
    }
}
