package org.retinagrade.training;

/**
 * Linear warm-up from 0 to 1 over {@code warmupSteps}, then cosine decay to
 * {@code finalFactor} at {@code totalSteps}; a multiplier of each group's base learning
 * rate. Steps count from 1. Immutable and thread-safe.
 */
public record LearningRateSchedule(long warmupSteps, long totalSteps, double finalFactor) {

    public LearningRateSchedule {
        if (warmupSteps < 0 || totalSteps < 1 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("invalid schedule: warm-up " + warmupSteps + " of " + totalSteps
                    + " steps; expected 0 <= warm-up <= total and total >= 1");
        }
        if (!(finalFactor >= 0 && finalFactor <= 1)) {
            throw new IllegalArgumentException("invalid final learning-rate factor " + finalFactor + ": expected 0 to 1");
        }
    }

    public double factor(long step) {
        if (step <= warmupSteps) {
            return (double) step / Math.max(1, warmupSteps);
        }
        long decaySteps = totalSteps - warmupSteps;
        double progress = decaySteps == 0 ? 1 : Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        return finalFactor + (1 - finalFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
