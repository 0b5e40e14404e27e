package org.retinagrade.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import java.util.Collection;

/**
 * Clipping by global norm, as PyTorch's {@code clip_grad_norm_}: when the L2 norm of all
 * gradients together exceeds {@code maxNorm}, every gradient is scaled by
 * maxNorm / (norm + 1e-6). DJL's own {@code optClipGrad} clamps values from above only.
 */
public final class GradientClipping {

    private GradientClipping() {
    }

    /** Clips in place and returns the global norm before clipping. */
    public static double clipByGlobalNorm(Collection<Parameter> parameters, double maxNorm) {
        try (NDScope scope = new NDScope()) {
            double squared = 0;
            for (Parameter parameter : parameters) {
                NDArray weight = parameter.getArray();
                if (parameter.requiresGradient() && weight.hasGradient()) {
                    squared += weight.getGradient().square().sum().getFloat();
                }
            }
            double norm = Math.sqrt(squared);
            if (maxNorm > 0 && norm > maxNorm) {
                float scale = (float) (maxNorm / (norm + 1e-6));
                for (Parameter parameter : parameters) {
                    NDArray weight = parameter.getArray();
                    if (parameter.requiresGradient() && weight.hasGradient()) {
                        weight.getGradient().muli(scale);
                    }
                }
            }
            return norm;
        }
    }
}
