package org.retinagrade.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.optimizer.Optimizer;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongToDoubleFunction;

/**
 * AdamW (Loshchilov and Hutter, 2019) with per-parameter learning rate groups and weight
 * decay only where asked (common practice: none on BatchNorm and biases), on libtorch's
 * fused kernel. For step t, group learning rate lr = base * schedule(t):
 *
 * <pre>
 *   w = w * (1 - lr * decay)
 *   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
 *   w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * The step counter is set by the training loop ({@link #setStep}) so that all parameters
 * of one step use the same t, and a resumed run continues from its saved state. Not
 * thread-safe: one training loop owns an instance.
 */
public class AdamWGroups extends Optimizer {

    /**
     * Base learning rate and whether weight decay applies, per parameter id; {@code name} is
     * the parameter's stable name in checkpoints (DJL's ids change from process to process).
     */
    public record ParameterGroup(String name, double baseLearningRate, boolean decay) {
    }

    private final Map<String, ParameterGroup> groups;
    private final LongToDoubleFunction schedule;
    private final float weightDecay;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final Map<String, NDArray> firstMoments = new HashMap<>();
    private final Map<String, NDArray> secondMoments = new HashMap<>();
    private final Map<String, Long> stepsTaken = new HashMap<>();
    private long step = 1;

    /**
     * @param groups group of every trainable parameter id; parameters not listed are not updated
     * @param schedule multiplier of the base learning rate for step t (from 1)
     */
    public AdamWGroups(Map<String, ParameterGroup> groups, LongToDoubleFunction schedule, float weightDecay,
            float beta1, float beta2, float epsilon) {
        super(new Builder());
        this.groups = Map.copyOf(groups);
        this.schedule = schedule;
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    /** Sets the 1-based step whose update comes next. */
    public void setStep(long step) {
        this.step = step;
    }

    /** Returns the learning rate that the base rate {@code base} has at the current step. */
    public double learningRate(double base) {
        return base * schedule.applyAsDouble(step);
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        ParameterGroup group = groups.get(parameterId);
        if (group == null) {
            // libtorch adds each backward pass to .grad; an update that skips a parameter still clears it.
            try (NDArray accumulated = weight.getGradient()) {
                accumulated.subi(accumulated);
            }
            return;
        }
        double lr = learningRate(group.baseLearningRate());
        long t = stepsTaken.merge(parameterId, 1L, Long::sum);
        NDArray m = firstMoments.computeIfAbsent(parameterId, k -> detached(weight.zerosLike()));
        NDArray v = secondMoments.computeIfAbsent(parameterId, k -> detached(weight.zerosLike()));
        double correction1 = 1 - Math.pow(beta1, t);
        double correction2 = 1 - Math.pow(beta2, t);
        float biasCorrected = (float) (lr * Math.sqrt(correction2) / correction1);
        float decay = group.decay() ? weightDecay : 0f;
        // libtorch's fused AdamW kernel (through DJL) updates weight, m and v in place and clears
        // the weight's accumulated gradient. It adds epsilon to sqrt(v) before the bias
        // correction of v, where PyTorch adds it after: the step differs by a factor of at most
        // 1 + eps / sqrt(v), negligible for eps = 1e-8.
        weight.getNDArrayInternal().adamUpdate(new NDList(weight, grad, m, v), new NDList(weight), (float) lr,
                biasCorrected, decay, 1f, -1f, beta1, beta2, epsilon, true, true);
    }

    /**
     * Updates every trainable parameter of the block from its gradient. It does what
     * {@code Trainer.step()} does on one device, without the copy of each gradient that DJL's
     * parameter server makes first (needed there only to share a gradient across devices).
     */
    public void step(ai.djl.nn.Block block) {
        for (ai.djl.nn.Parameter parameter : block.getParameters().values()) {
            if (!parameter.requiresGradient()) {
                continue;
            }
            NDArray weight = parameter.getArray();
            try (NDArray gradient = weight.getGradient()) {
                update(parameter.getId(), weight, gradient);
            }
        }
    }

    private static NDArray detached(NDArray array) {
        NDScope.unregister(array);
        return array;
    }

    /** Returns the optimiser state (moments and per-parameter step counts) for a checkpoint. */
    public NDList state(NDManager manager) {
        NDList state = new NDList();
        for (Map.Entry<String, NDArray> entry : firstMoments.entrySet()) {
            String name = groups.get(entry.getKey()).name();
            NDArray m = entry.getValue().duplicate();
            m.setName("m:" + name);
            state.add(m);
            NDArray v = secondMoments.get(entry.getKey()).duplicate();
            v.setName("v:" + name);
            state.add(v);
            NDArray count = manager.create(new long[] {stepsTaken.get(entry.getKey())});
            count.setName("t:" + name);
            state.add(count);
        }
        return state;
    }

    /** Restores state saved by {@link #state}, matching parameters by their stable names. */
    public void restore(NDList state) {
        Map<String, String> idsByName = new HashMap<>();
        groups.forEach((id, group) -> idsByName.put(group.name(), id));
        firstMoments.clear();
        secondMoments.clear();
        stepsTaken.clear();
        for (NDArray array : state) {
            String name = array.getName();
            String id = idsByName.get(name.substring(2));
            if (id == null) {
                throw new IllegalArgumentException("optimizer state names parameter '" + name.substring(2)
                        + "', which this model does not have");
            }
            if (name.startsWith("m:")) {
                firstMoments.put(id, detached(array));
            } else if (name.startsWith("v:")) {
                secondMoments.put(id, detached(array));
            } else if (name.startsWith("t:")) {
                stepsTaken.put(id, array.toLongArray()[0]);
            }
        }
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
