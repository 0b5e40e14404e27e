package org.retinagrade.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * Focal loss (Lin et al., 2017) for multi-class logits, with optional per-class alpha and
 * label smoothing, in the numerically stable log-softmax form:
 *
 * <pre>
 *   log p = log_softmax(logits)                       over the class axis
 *   q     = (1 - smoothing) * onehot(label) + smoothing / C
 *   loss  = mean over samples of  - sum_c q_c * alpha_c * (1 - p_c)^gamma * log p_c
 * </pre>
 *
 * With gamma 0, no alpha and no smoothing it is cross-entropy; with gamma 0 and smoothing it
 * is PyTorch's {@code CrossEntropyLoss(label_smoothing=...)}. Predictions: logits of shape
 * (N, C); labels: class indices of shape (N), any numeric type.
 */
public class FocalLoss extends Loss {

    private final float gamma;
    private final float[] alpha;
    private final float smoothing;

    /**
     * @param gamma focusing parameter, 0 or more (2 is common)
     * @param alpha per-class weights, or null for 1 for every class
     * @param smoothing label smoothing in [0, 1)
     */
    public FocalLoss(float gamma, float[] alpha, float smoothing) {
        super("FocalLoss");
        if (!(gamma >= 0)) {
            throw new IllegalArgumentException("invalid focal gamma " + gamma + ": expected 0 or more");
        }
        if (!(smoothing >= 0 && smoothing < 1)) {
            throw new IllegalArgumentException("invalid label smoothing " + smoothing + ": expected 0 to below 1");
        }
        if (alpha != null) {
            for (float a : alpha) {
                if (!(a >= 0)) {
                    throw new IllegalArgumentException("invalid focal alpha " + a + ": expected 0 or more per class");
                }
            }
        }
        this.gamma = gamma;
        this.alpha = alpha == null ? null : alpha.clone();
        this.smoothing = smoothing;
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray logits = predictions.singletonOrThrow();
        int classes = (int) logits.getShape().get(1);
        if (alpha != null && alpha.length != classes) {
            throw new IllegalArgumentException("focal alpha has " + alpha.length + " values for " + classes + " classes");
        }
        NDArray logProbabilities = logits.logSoftmax(1);
        NDArray target = labels.singletonOrThrow().toType(ai.djl.ndarray.types.DataType.INT64, false).oneHot(classes)
                .toType(logits.getDataType(), false);
        if (smoothing > 0) {
            target = target.mul(1 - smoothing).add(smoothing / classes);
        }
        NDArray weighted = target;
        if (alpha != null) {
            weighted = weighted.mul(logits.getManager().create(alpha).reshape(1, classes));
        }
        NDArray perClass = weighted.mul(logProbabilities);
        if (gamma > 0) {
            NDArray modulating = logProbabilities.exp().neg().add(1).clip(0, 1).pow(gamma);
            perClass = perClass.mul(modulating);
        }
        return perClass.sum(new int[] {1}).neg().mean();
    }
}
