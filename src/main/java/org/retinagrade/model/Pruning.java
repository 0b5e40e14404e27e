package org.retinagrade.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Global L1 magnitude pruning of convolution weights, as PyTorch's
 * {@code prune.global_unstructured(..., L1Unstructured, amount)}: the {@code amount} share of
 * all convolution weights (squeeze-and-excitation convolutions included) with the smallest
 * absolute values, ranked together across layers, is set to zero. BatchNorm parameters,
 * biases and the classifier are left alone.
 */
public final class Pruning {

    private Pruning() {
    }

    /** Weights set to zero, convolution weights in total, and the magnitude at or below which weights were zeroed. */
    public record Result(long zeroed, long total, float threshold) {
        public double sparsity() {
            return total == 0 ? 0 : (double) zeroed / total;
        }
    }

    public static Result prune(EfficientNetV2 network, double amount) {
        if (!(amount >= 0 && amount < 1)) {
            throw new IllegalArgumentException("invalid pruning amount " + amount + ": expected 0 to below 1");
        }
        List<NDArray> weights = new ArrayList<>();
        for (Map.Entry<String, Parameter> entry : network.torchNames().entrySet()) {
            NDArray array = entry.getValue().getArray();
            if (entry.getKey().startsWith("features.") && entry.getKey().endsWith(".weight") && array.getShape().dimension() == 4) {
                weights.add(array);
            }
        }
        long total = weights.stream().mapToLong(w -> w.getShape().size()).sum();
        long toZero = Math.round(amount * total);
        if (toZero == 0) {
            return new Result(0, total, 0f);
        }
        float[] magnitudes = new float[(int) total];
        int offset = 0;
        for (NDArray w : weights) {
            float[] values = w.toFloatArray();
            for (float v : values) {
                magnitudes[offset++] = Math.abs(v);
            }
        }
        Arrays.sort(magnitudes);
        float threshold = magnitudes[(int) toZero - 1];

        // Weights equal to the threshold are zeroed in index order until exactly toZero are zero.
        long strictlyBelow = 0;
        for (float m : magnitudes) {
            if (m < threshold) {
                strictlyBelow++;
            } else {
                break;
            }
        }
        long tiesToZero = toZero - strictlyBelow;
        long zeroed = 0;
        for (NDArray w : weights) {
            float[] values = w.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                float magnitude = Math.abs(values[i]);
                if (magnitude < threshold || (magnitude == threshold && tiesToZero-- > 0)) {
                    values[i] = 0f;
                    zeroed++;
                }
            }
            try (NDScope scope = new NDScope()) {
                w.set(values);
            }
        }
        return new Result(zeroed, total, threshold);
    }
}
