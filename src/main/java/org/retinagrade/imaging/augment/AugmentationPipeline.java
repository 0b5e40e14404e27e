package org.retinagrade.imaging.augment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.opencv.core.Mat;
import org.retinagrade.imaging.ImageTensor;

/**
 * An ordered list of augmentations applied to a prepared 8-bit RGB image. Each sample's
 * draws come from {@link SampleRandom#forSample(long, long, long)}, and each augmentation
 * gets its own generator split from it in pipeline order, so adding a step does not change
 * the draws of the steps before it. Immutable and thread-safe.
 */
public final class AugmentationPipeline {

    private static final Map<String, Set<String>> PARAMETERS = Map.of(
            "random-resized-crop", Set.of("type", "scale", "ratio"),
            "horizontal-flip", Set.of("type", "p"),
            "vertical-flip", Set.of("type", "p"),
            "rotation", Set.of("type", "degrees"),
            "color-jitter", Set.of("type", "brightness", "contrast", "saturation", "hue", "p"),
            "elastic", Set.of("type", "alpha", "sigma", "p"),
            "contrast-gamma", Set.of("type", "contrast", "gamma", "p"),
            "gaussian-blur", Set.of("type", "sigma", "p"),
            "gaussian-noise", Set.of("type", "std", "p"));

    private final List<Augmentation> steps;

    public AugmentationPipeline(List<Augmentation> steps) {
        this.steps = List.copyOf(steps);
    }

    public List<Augmentation> steps() {
        return steps;
    }

    /**
     * Returns the default training pipeline of common fundus fine-tuning practice: random resized
     * crop (scale 0.8-1.0, ratio 3/4-4/3), horizontal and vertical flips (p 0.5), rotation
     * by any angle, and colour jitter (0.4, 0.4, 0.4, 0.1, p 0.8).
     */
    public static AugmentationPipeline standardTraining(int size) {
        return new AugmentationPipeline(List.of(RandomResizedCrop.standard(size), new RandomFlip(true, 0.5),
                new RandomFlip(false, 0.5), new RandomRotation(180), ColorJitter.standard()));
    }

    /** Returns every augmentation with its default settings and p = 1, in a fixed order, for previews. */
    public static List<Augmentation> catalogue(int size) {
        List<Augmentation> all = new ArrayList<>();
        for (String type : List.of("random-resized-crop", "horizontal-flip", "vertical-flip", "rotation", "color-jitter",
                "elastic", "contrast-gamma", "gaussian-blur", "gaussian-noise")) {
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("type", type);
            if (!type.equals("random-resized-crop") && !type.equals("rotation")) {
                spec.put("p", 1.0);
            }
            all.add(fromStep(spec, size, "catalogue"));
        }
        return all;
    }

    /**
     * Builds a pipeline from a list of steps such as {@code {type: color-jitter, brightness: 0.4}}.
     * Omitted parameters take their defaults; unknown types or parameters and invalid values
     * are rejected with the step's position in {@code where}.
     */
    public static AugmentationPipeline fromSpec(List<Map<String, Object>> spec, int size, String where) {
        List<Augmentation> steps = new ArrayList<>();
        for (int i = 0; i < spec.size(); i++) {
            steps.add(fromStep(spec.get(i), size, where + "[" + i + "]"));
        }
        return new AugmentationPipeline(steps);
    }

    static Augmentation fromStep(Map<String, Object> step, int size, String where) {
        Object typeValue = step.get("type");
        if (!(typeValue instanceof String type) || !PARAMETERS.containsKey(type)) {
            throw new IllegalArgumentException(where + ": invalid augmentation type '" + typeValue + "': expected one of "
                    + new java.util.TreeSet<>(PARAMETERS.keySet()));
        }
        for (String key : step.keySet()) {
            if (!PARAMETERS.get(type).contains(key)) {
                throw new IllegalArgumentException(where + ": unknown parameter '" + key + "' for " + type
                        + "; allowed: " + new java.util.TreeSet<>(PARAMETERS.get(type)));
            }
        }
        Parameters p = new Parameters(step, where);
        try {
            return switch (type) {
                case "random-resized-crop" -> {
                    double[] scale = p.range("scale", 0.8, 1.0);
                    double[] ratio = p.range("ratio", 3.0 / 4.0, 4.0 / 3.0);
                    yield new RandomResizedCrop(size, scale[0], scale[1], ratio[0], ratio[1]);
                }
                case "horizontal-flip" -> new RandomFlip(true, p.number("p", 0.5));
                case "vertical-flip" -> new RandomFlip(false, p.number("p", 0.5));
                case "rotation" -> new RandomRotation(p.number("degrees", 180));
                case "color-jitter" -> new ColorJitter(p.number("brightness", 0.4), p.number("contrast", 0.4),
                        p.number("saturation", 0.4), p.number("hue", 0.1), p.number("p", 0.8));
                case "elastic" -> new ElasticDeformation(p.number("alpha", size / 8.0), p.number("sigma", size / 32.0),
                        p.number("p", 0.5));
                case "contrast-gamma" -> {
                    double[] contrast = p.range("contrast", 0.8, 1.2);
                    double[] gamma = p.range("gamma", 0.8, 1.25);
                    yield new RandomGammaContrast(contrast[0], contrast[1], gamma[0], gamma[1], p.number("p", 0.5));
                }
                case "gaussian-blur" -> {
                    double[] sigma = p.range("sigma", 0.1, 2.0);
                    yield new GaussianBlur(sigma[0], sigma[1], p.number("p", 0.2));
                }
                default -> new GaussianNoise(p.number("std", 0.02), p.number("p", 0.2));
            };
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith(where)) {
                throw e;
            }
            throw new IllegalArgumentException(where + " (" + type + "): " + e.getMessage(), e);
        }
    }

    /**
     * Returns the pipeline for a progressive-learning stage: crops resized to {@code size},
     * and every strength (rotation angle, jitter factors, elastic alpha, contrast and gamma
     * ranges around 1, blur sigma, noise) multiplied by {@code magnitude} in [0, 1]. Flips
     * and probabilities stay as they are.
     */
    public AugmentationPipeline forStage(int size, double magnitude) {
        if (!(magnitude >= 0 && magnitude <= 1)) {
            throw new IllegalArgumentException("invalid augmentation magnitude " + magnitude + ": expected 0 to 1");
        }
        List<Augmentation> scaled = new ArrayList<>();
        for (Augmentation step : steps) {
            Augmentation stage = step;
            if (step instanceof RandomResizedCrop c) {
                stage = new RandomResizedCrop(size, c.minScale(), c.maxScale(), c.minRatio(), c.maxRatio());
            } else if (step instanceof RandomRotation r) {
                stage = new RandomRotation(r.maxDegrees() * magnitude);
            } else if (step instanceof ColorJitter j) {
                stage = new ColorJitter(j.brightness() * magnitude, j.contrast() * magnitude, j.saturation() * magnitude,
                        j.hue() * magnitude, j.p());
            } else if (step instanceof ElasticDeformation e) {
                stage = new ElasticDeformation(e.alpha() * magnitude, e.sigma(), e.p());
            } else if (step instanceof RandomGammaContrast g) {
                stage = new RandomGammaContrast(towardOne(g.minContrast(), magnitude), towardOne(g.maxContrast(), magnitude),
                        towardOne(g.minGamma(), magnitude), towardOne(g.maxGamma(), magnitude), g.p());
            } else if (step instanceof GaussianBlur b) {
                double maxSigma = Math.max(1e-3, b.maxSigma() * magnitude);
                stage = new GaussianBlur(Math.min(b.minSigma(), maxSigma), maxSigma, b.p());
            } else if (step instanceof GaussianNoise n) {
                stage = new GaussianNoise(n.std() * magnitude, n.p());
            }
            scaled.add(stage);
        }
        return new AugmentationPipeline(scaled);
    }

    private static double towardOne(double value, double magnitude) {
        return 1 + (value - 1) * magnitude;
    }

    /** Applies the pipeline to an 8-bit RGB image and returns a new float RGB image in [0, 1]. */
    public Mat apply(Mat rgb8, long seed, long epoch, long index) {
        SplittableRandom sample = SampleRandom.forSample(seed, epoch, index);
        Mat current = ImageTensor.toFloat(rgb8);
        for (Augmentation step : steps) {
            Mat next = step.apply(current, sample.split());
            if (next != current) {
                current.release();
                current = next;
            }
        }
        return current;
    }

    /** Applies the pipeline and returns the ImageNet-normalised CHW array. */
    public float[] applyNormalized(Mat rgb8, long seed, long epoch, long index) {
        Mat augmented = apply(rgb8, seed, epoch, index);
        try {
            return ImageTensor.normalizedChw(augmented);
        } finally {
            augmented.release();
        }
    }

    /** Typed access to one step's parameters, with errors that name the step and parameter. */
    private record Parameters(Map<String, Object> values, String where) {

        double number(String key, double fallback) {
            Object value = values.get(key);
            if (value == null) {
                return fallback;
            }
            if (value instanceof Number number) {
                return number.doubleValue();
            }
            throw new IllegalArgumentException(where + ": parameter '" + key + "' must be a number, got '" + value + "'");
        }

        double[] range(String key, double low, double high) {
            Object value = values.get(key);
            if (value == null) {
                return new double[] {low, high};
            }
            if (value instanceof List<?> list && list.size() == 2 && list.get(0) instanceof Number a
                    && list.get(1) instanceof Number b) {
                return new double[] {a.doubleValue(), b.doubleValue()};
            }
            throw new IllegalArgumentException(where + ": parameter '" + key + "' must be a [min, max] pair, got '" + value + "'");
        }
    }
}
