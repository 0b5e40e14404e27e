package org.retinagrade.training;

import java.nio.file.Path;
import java.util.List;
import org.retinagrade.imaging.PreprocessConfig;
import org.retinagrade.imaging.augment.AugmentationPipeline;

/**
 * Settings of one training run. Epochs count from 1; an {@link Unfreeze} step applies at
 * the start of its epoch.
 *
 * @param variant EfficientNetV2 variant: s, m, l or small
 * @param drawsPerEpoch samples drawn per epoch; 0 means the training set size
 * @param featureLearningRate peak learning rate of the feature blocks
 * @param classifierLearningRate peak learning rate of the classifier
 * @param weightDecay decoupled weight decay, not applied to BatchNorm and bias parameters
 * @param warmupEpochs epochs of linear warm-up before cosine decay
 * @param finalLearningRateFactor learning rate at the last step, as a fraction of the peak
 * @param clipNorm maximum global gradient norm; 0 disables clipping
 * @param focalGamma focal loss gamma; 0 gives cross-entropy
 * @param focalAlpha per-class focal weights, or null
 * @param freezeFeatures train only the classifier until an {@link Unfreeze} step unfreezes feature blocks
 * @param earlyStoppingPatience epochs without a better validation quadratic kappa before stopping; 0 never stops early
 * @param threads libtorch intra-op threads, fixed for reproducibility
 * @param pretrained torchvision state dict (safetensors or npz), or null for random initialisation
 * @param accumulationSteps batches whose gradients are summed before each optimiser step (1 = none),
 *     for an effective batch of batchSize x accumulationSteps on small memory
 * @param distillation teacher and its settings, or null to train without one
 * @param progressive progressive learning stages, or null for one stage at the final settings
 */
public record TrainingConfig(
        String variant,
        int classes,
        PreprocessConfig preprocess,
        AugmentationPipeline augmentation,
        int epochs,
        int batchSize,
        int drawsPerEpoch,
        EpochSampler.Kind sampler,
        double featureLearningRate,
        double classifierLearningRate,
        double weightDecay,
        double warmupEpochs,
        double finalLearningRateFactor,
        double clipNorm,
        float focalGamma,
        float[] focalAlpha,
        float labelSmoothing,
        boolean freezeFeatures,
        List<Unfreeze> unfreeze,
        int earlyStoppingPatience,
        long seed,
        int threads,
        Path pretrained,
        int accumulationSteps,
        Distillation distillation,
        Progressive progressive) {

    /**
     * From the start of {@code epoch}, the last {@code stages} stages (with the final 1x1
     * convolution) train; -1 unfreezes every feature block.
     */
    public record Unfreeze(int epoch, int stages) {
    }

    public TrainingConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("invalid epochs " + epochs + ": expected 1 or more");
        }
        if (batchSize < 2) {
            throw new IllegalArgumentException("invalid batch size " + batchSize + ": expected 2 or more (BatchNorm needs two samples)");
        }
        if (accumulationSteps < 1) {
            throw new IllegalArgumentException("invalid gradient accumulation " + accumulationSteps + ": expected 1 or more batches");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("invalid thread count " + threads + ": expected 1 or more");
        }
        if (!(featureLearningRate > 0 && classifierLearningRate > 0)) {
            throw new IllegalArgumentException("invalid learning rates " + featureLearningRate + ", " + classifierLearningRate
                    + ": expected positive values");
        }
        unfreeze = List.copyOf(unfreeze);
    }

    /** Settings without gradient accumulation. */
    public TrainingConfig(String variant, int classes, PreprocessConfig preprocess, AugmentationPipeline augmentation,
            int epochs, int batchSize, int drawsPerEpoch, EpochSampler.Kind sampler, double featureLearningRate,
            double classifierLearningRate, double weightDecay, double warmupEpochs, double finalLearningRateFactor,
            double clipNorm, float focalGamma, float[] focalAlpha, float labelSmoothing, boolean freezeFeatures,
            List<Unfreeze> unfreeze, int earlyStoppingPatience, long seed, int threads, Path pretrained) {
        this(variant, classes, preprocess, augmentation, epochs, batchSize, drawsPerEpoch, sampler, featureLearningRate,
                classifierLearningRate, weightDecay, warmupEpochs, finalLearningRateFactor, clipNorm, focalGamma, focalAlpha,
                labelSmoothing, freezeFeatures, unfreeze, earlyStoppingPatience, seed, threads, pretrained, 1, null, null);
    }

    /**
     * Progressive learning (Tan and Le, EfficientNetV2, 2021): the epochs are split into
     * {@code stages} equal stages; image size, dropout and augmentation magnitude rise
     * linearly together from the start values in the first stage to the final resolution,
     * the variant's dropout and magnitude 1 in the last. Sizes are rounded to multiples of 8.
     */
    public record Progressive(int stages, int startResolution, float startDropout, double startMagnitude) {

        public Progressive {
            if (stages < 2) {
                throw new IllegalArgumentException("invalid progressive stages " + stages + ": expected 2 or more");
            }
            if (startResolution < 32) {
                throw new IllegalArgumentException("invalid progressive start resolution " + startResolution + ": expected 32 or more");
            }
            if (!(startDropout >= 0 && startDropout < 1) || !(startMagnitude >= 0 && startMagnitude <= 1)) {
                throw new IllegalArgumentException("invalid progressive start dropout " + startDropout + " or magnitude "
                        + startMagnitude + ": expected dropout 0 to below 1 and magnitude 0 to 1");
            }
        }

        /** Stage of an epoch (from 1) among {@code epochs}, from 0. */
        public int stageOf(int epoch, int epochs) {
            return Math.min(stages - 1, (epoch - 1) * stages / Math.max(1, epochs));
        }

        /** Returns the resolution of a stage, rising to {@code finalResolution}. */
        public int resolution(int stage, int finalResolution) {
            double value = startResolution + (finalResolution - startResolution) * (double) stage / (stages - 1);
            return Math.max(32, (int) Math.round(value / 8) * 8);
        }

        public float dropout(int stage, float finalDropout) {
            return (float) (startDropout + (finalDropout - startDropout) * (double) stage / (stages - 1));
        }

        public double magnitude(int stage) {
            return startMagnitude + (1 - startMagnitude) * (double) stage / (stages - 1);
        }
    }

    /** Returns a copy that sums the gradients of {@code steps} batches before each optimiser step. */
    public TrainingConfig withAccumulation(int steps) {
        return new TrainingConfig(variant, classes, preprocess, augmentation, epochs, batchSize, drawsPerEpoch, sampler,
                featureLearningRate, classifierLearningRate, weightDecay, warmupEpochs, finalLearningRateFactor, clipNorm,
                focalGamma, focalAlpha, labelSmoothing, freezeFeatures, unfreeze, earlyStoppingPatience, seed, threads,
                pretrained, steps, distillation, progressive);
    }

    /** Returns a copy that distils from a teacher. */
    public TrainingConfig withDistillation(Distillation teacher) {
        return new TrainingConfig(variant, classes, preprocess, augmentation, epochs, batchSize, drawsPerEpoch, sampler,
                featureLearningRate, classifierLearningRate, weightDecay, warmupEpochs, finalLearningRateFactor, clipNorm,
                focalGamma, focalAlpha, labelSmoothing, freezeFeatures, unfreeze, earlyStoppingPatience, seed, threads,
                pretrained, accumulationSteps, teacher, progressive);
    }

    /** Returns a copy that trains in progressive stages. */
    public TrainingConfig withProgressive(Progressive stages) {
        return new TrainingConfig(variant, classes, preprocess, augmentation, epochs, batchSize, drawsPerEpoch, sampler,
                featureLearningRate, classifierLearningRate, weightDecay, warmupEpochs, finalLearningRateFactor, clipNorm,
                focalGamma, focalAlpha, labelSmoothing, freezeFeatures, unfreeze, earlyStoppingPatience, seed, threads,
                pretrained, accumulationSteps, distillation, stages);
    }

    /** Common fine-tuning defaults for a quick run of the given variant and resolution. */
    public static TrainingConfig defaults(String variant, int resolution, int epochs) {
        return new TrainingConfig(variant, 5, PreprocessConfig.plain(resolution),
                AugmentationPipeline.standardTraining(resolution), epochs, 8, 0, EpochSampler.Kind.SHUFFLE,
                3e-4, 1e-3, 0.05, Math.min(1, epochs), 0.01, 1.0, 2.0f, null, 0.0f, false,
                List.of(), 0, 42, 2, null);
    }

    /** Returns a copy with other epochs and seed. */
    public TrainingConfig withEpochsAndSeed(int newEpochs, long newSeed) {
        return new TrainingConfig(variant, classes, preprocess, augmentation, newEpochs, batchSize, drawsPerEpoch, sampler,
                featureLearningRate, classifierLearningRate, weightDecay, warmupEpochs, finalLearningRateFactor, clipNorm,
                focalGamma, focalAlpha, labelSmoothing, freezeFeatures, unfreeze, earlyStoppingPatience, newSeed, threads,
                pretrained, accumulationSteps, distillation, progressive);
    }
}
