package org.retinagrade.training;

import ai.djl.ndarray.NDArray;
import java.nio.file.Path;

/**
 * Knowledge distillation (Hinton et al., 2015) from a trained teacher:
 * loss = (1 - alpha) * student loss + alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)),
 * the KL divergence summed over classes and averaged over the batch. The T^2 factor keeps
 * the soft term's gradients on the scale of the hard term's.
 *
 * @param teacherWeights teacher parameters in DJL's format (a run's best.params)
 * @param teacherVariant EfficientNetV2 variant of the teacher
 * @param temperature softening temperature T, above 0
 * @param alpha weight of the distillation term, 0 to 1
 */
public record Distillation(Path teacherWeights, String teacherVariant, float temperature, float alpha) {

    public Distillation {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("invalid distillation temperature " + temperature + ": expected above 0");
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("invalid distillation alpha " + alpha + ": expected 0 to 1");
        }
    }

    /** Returns T^2 * mean over the batch of KL(softmax(teacher / T) || softmax(student / T)); logits are (N, C). */
    public static NDArray softTargetLoss(NDArray studentLogits, NDArray teacherLogits, float temperature) {
        NDArray teacherLog = teacherLogits.div(temperature).logSoftmax(1);
        NDArray studentLog = studentLogits.div(temperature).logSoftmax(1);
        NDArray kl = teacherLog.exp().mul(teacherLog.sub(studentLog)).sum(new int[] {1});
        return kl.mean().mul(temperature * temperature);
    }

    /** Mixes the student's own loss with the soft-target loss by {@link #alpha}. */
    public NDArray combine(NDArray studentLoss, NDArray studentLogits, NDArray teacherLogits) {
        NDArray soft = softTargetLoss(studentLogits, teacherLogits, temperature);
        return studentLoss.mul(1 - alpha).add(soft.mul(alpha));
    }
}
