package org.retinagrade.evaluation;

import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Metrics of a DR grader on the 5-grade international clinical scale, with scikit-learn
 * 1.2's definitions (checked against it in the tests):
 * <ul>
 *   <li>confusion matrix with rows the reference grades and columns the predictions;</li>
 *   <li>accuracy; per-grade precision, recall, F1 and support;</li>
 *   <li>macro and support-weighted F1 over the grades present in reference or predictions,
 *       an undefined per-grade F1 counting as 0 there, as scikit-learn does by default;</li>
 *   <li>quadratic and linear weighted Cohen's kappa;</li>
 *   <li>referable DR (reference grade 2 or above) scored by the summed probability of grades
 *       2-4: ROC AUC (ties count one half), and sensitivity, specificity, PPV and NPV where a
 *       score at or above a threshold is called referable;</li>
 *   <li>expected calibration error of the top-grade probability over 10 equal-width bins.</li>
 * </ul>
 * Every sample may carry an integer weight (its multiplicity in a bootstrap resample). A
 * metric that is undefined on the data (a grade never predicted, a single referable class)
 * is NaN with the reason, never 0. Stateless and thread-safe.
 */
public final class GradeMetrics {

    public static final int GRADES = 5;
    public static final int CALIBRATION_BINS = 10;

    private GradeMetrics() {
    }

    /** Predictions of N images: reference and predicted grades and the N x 5 probabilities. */
    public record Input(int[] truth, int[] predicted, double[][] probabilities) {

        public int size() {
            return truth.length;
        }

        /** Summed probability of grades 2-4. */
        public double referableScore(int i) {
            return probabilities[i][2] + probabilities[i][3] + probabilities[i][4];
        }
    }

    /** Targets that choose the referable operating points, and the protocol's own threshold. */
    public record OperatingPoints(double sensitivityTarget, double specificityTarget, double threshold) {

        public static OperatingPoints defaults() {
            return new OperatingPoints(0.9, 0.9, 0.5);
        }
    }

    /** Thresholds fixed on the full data, so that bootstrap resamples measure the same operating points. */
    public record Thresholds(double highSensitivity, double highSpecificity, double protocol) {
    }

    /** Chooses the largest threshold with sensitivity at or above the target and the smallest with specificity at or above its target. */
    public static Thresholds thresholds(Input input, OperatingPoints points) {
        double[] candidates = IntStream.range(0, input.size()).mapToDouble(input::referableScore).distinct().sorted().toArray();
        double highSensitivity = Double.NaN;
        double highSpecificity = Double.NaN;
        for (int k = candidates.length - 1; k >= 0; k--) {
            double[] rates = confusionAt(input, null, candidates[k]);
            if (rates[0] + rates[3] > 0 && rates[0] / (rates[0] + rates[3]) >= points.sensitivityTarget()) {
                highSensitivity = candidates[k];
                break;
            }
        }
        for (double candidate : candidates) {
            double[] rates = confusionAt(input, null, candidate);
            if (rates[1] + rates[2] > 0 && rates[1] / (rates[1] + rates[2]) >= points.specificityTarget()) {
                highSpecificity = candidate;
                break;
            }
        }
        return new Thresholds(highSensitivity, highSpecificity, points.threshold());
    }

    /** Returns the weighted confusion matrix, rows reference grade, columns predicted grade. */
    public static double[][] confusion(Input input, int[] weights) {
        double[][] matrix = new double[GRADES][GRADES];
        for (int i = 0; i < input.size(); i++) {
            matrix[input.truth()[i]][input.predicted()[i]] += weight(weights, i);
        }
        return matrix;
    }

    /** Computes every metric; {@code weights} may be null for weight 1 everywhere. */
    public static Map<String, Metric> compute(Input input, int[] weights, Thresholds thresholds, int[] orderByScore) {
        Map<String, Metric> metrics = new LinkedHashMap<>();
        double[][] matrix = confusion(input, weights);
        double total = 0;
        double correct = 0;
        double[] rowSums = new double[GRADES];
        double[] columnSums = new double[GRADES];
        for (int t = 0; t < GRADES; t++) {
            for (int p = 0; p < GRADES; p++) {
                total += matrix[t][p];
                rowSums[t] += matrix[t][p];
                columnSums[p] += matrix[t][p];
            }
            correct += matrix[t][t];
        }
        if (total == 0) {
            metrics.put("accuracy", Metric.undefined("accuracy", "no predictions"));
            return metrics;
        }
        metrics.put("accuracy", Metric.of("accuracy", correct / total));

        double macroSum = 0;
        int macroCount = 0;
        double weightedSum = 0;
        for (int g = 0; g < GRADES; g++) {
            String suffix = "_grade_" + g;
            Metric precision = columnSums[g] == 0
                    ? Metric.undefined("precision" + suffix, "grade " + g + " is never predicted")
                    : Metric.of("precision" + suffix, matrix[g][g] / columnSums[g]);
            Metric recall = rowSums[g] == 0
                    ? Metric.undefined("recall" + suffix, "grade " + g + " is absent from the reference")
                    : Metric.of("recall" + suffix, matrix[g][g] / rowSums[g]);
            Metric f1;
            if (!precision.defined() || !recall.defined()) {
                f1 = Metric.undefined("f1" + suffix, !recall.defined() ? recall.reason() : precision.reason());
            } else if (precision.value() + recall.value() == 0) {
                f1 = Metric.of("f1" + suffix, 0);
            } else {
                f1 = Metric.of("f1" + suffix, 2 * precision.value() * recall.value() / (precision.value() + recall.value()));
            }
            metrics.put(precision.name(), precision);
            metrics.put(recall.name(), recall);
            metrics.put(f1.name(), f1);
            metrics.put("support" + suffix, Metric.of("support" + suffix, rowSums[g]));
            if (rowSums[g] > 0 || columnSums[g] > 0) {
                double f1OrZero = f1.defined() ? f1.value() : 0;
                macroSum += f1OrZero;
                macroCount++;
                weightedSum += f1OrZero * rowSums[g];
            }
        }
        metrics.put("macro_f1", Metric.of("macro_f1", macroSum / macroCount));
        metrics.put("weighted_f1", Metric.of("weighted_f1", weightedSum / total));

        metrics.put("quadratic_kappa", kappa("quadratic_kappa", matrix, rowSums, columnSums, total, true));
        metrics.put("linear_kappa", kappa("linear_kappa", matrix, rowSums, columnSums, total, false));

        int[] order = orderByScore != null ? orderByScore : orderByScore(input);
        metrics.put("referable_auc", auc(input, weights, order));
        operatingPoint(metrics, input, weights, "high_sensitivity", thresholds.highSensitivity());
        operatingPoint(metrics, input, weights, "high_specificity", thresholds.highSpecificity());
        operatingPoint(metrics, input, weights, "threshold", thresholds.protocol());

        metrics.put("ece", Metric.of("ece", expectedCalibrationError(input, weights)));
        return metrics;
    }

    private static Metric kappa(String name, double[][] observed, double[] rowSums, double[] columnSums, double total,
            boolean quadratic) {
        double numerator = 0;
        double denominator = 0;
        for (int i = 0; i < GRADES; i++) {
            for (int j = 0; j < GRADES; j++) {
                double w = quadratic ? (i - j) * (i - j) : Math.abs(i - j);
                numerator += w * observed[i][j];
                denominator += w * rowSums[i] * columnSums[j] / total;
            }
        }
        return denominator == 0
                ? Metric.undefined(name, "reference and predictions each use a single grade, so chance agreement is total")
                : Metric.of(name, 1 - numerator / denominator);
    }

    /** Sample indices sorted by referable score, ascending. */
    public static int[] orderByScore(Input input) {
        return IntStream.range(0, input.size()).boxed()
                .sorted(Comparator.comparingDouble(input::referableScore)).mapToInt(Integer::intValue).toArray();
    }

    private static Metric auc(Input input, int[] weights, int[] order) {
        double positives = 0;
        double negatives = 0;
        double pairs = 0;
        double negativesBelow = 0;
        int k = 0;
        while (k < order.length) {
            double score = input.referableScore(order[k]);
            double groupPositive = 0;
            double groupNegative = 0;
            while (k < order.length && input.referableScore(order[k]) == score) {
                int i = order[k];
                if (input.truth()[i] >= 2) {
                    groupPositive += weight(weights, i);
                } else {
                    groupNegative += weight(weights, i);
                }
                k++;
            }
            pairs += groupPositive * (negativesBelow + 0.5 * groupNegative);
            negativesBelow += groupNegative;
            positives += groupPositive;
            negatives += groupNegative;
        }
        if (positives == 0 || negatives == 0) {
            return Metric.undefined("referable_auc", "only one referable class (" + (positives == 0 ? "no" : "only")
                    + " referable images) in the reference");
        }
        return Metric.of("referable_auc", pairs / (positives * negatives));
    }

    /** Returns {TP, TN, FP, FN} at a threshold. */
    private static double[] confusionAt(Input input, int[] weights, double threshold) {
        double[] counts = new double[4];
        for (int i = 0; i < input.size(); i++) {
            boolean positive = input.truth()[i] >= 2;
            boolean called = input.referableScore(i) >= threshold;
            int cell;
            if (positive) {
                cell = called ? 0 : 3;
            } else {
                cell = called ? 2 : 1;
            }
            counts[cell] += weight(weights, i);
        }
        return counts;
    }

    private static void operatingPoint(Map<String, Metric> metrics, Input input, int[] weights, String point, double threshold) {
        String suffix = "_" + point;
        if (Double.isNaN(threshold)) {
            for (String name : new String[] {"threshold", "sensitivity", "specificity", "ppv", "npv"}) {
                metrics.put("referable_" + name + suffix, Metric.undefined("referable_" + name + suffix,
                        "no threshold reaches the target on this data"));
            }
            return;
        }
        double[] c = confusionAt(input, weights, threshold);
        metrics.put("referable_threshold" + suffix, Metric.of("referable_threshold" + suffix, threshold));
        metrics.put("referable_sensitivity" + suffix, ratio("referable_sensitivity" + suffix, c[0], c[0] + c[3],
                "no referable images in the reference"));
        metrics.put("referable_specificity" + suffix, ratio("referable_specificity" + suffix, c[1], c[1] + c[2],
                "no non-referable images in the reference"));
        metrics.put("referable_ppv" + suffix, ratio("referable_ppv" + suffix, c[0], c[0] + c[2],
                String.format(Locale.ROOT, "no image scores at or above %.4f", threshold)));
        metrics.put("referable_npv" + suffix, ratio("referable_npv" + suffix, c[1], c[1] + c[3],
                String.format(Locale.ROOT, "no image scores below %.4f", threshold)));
    }

    private static Metric ratio(String name, double numerator, double denominator, String reasonWhenEmpty) {
        return denominator == 0 ? Metric.undefined(name, reasonWhenEmpty) : Metric.of(name, numerator / denominator);
    }

    /** Per-bin {count, mean confidence, accuracy} of the top-grade probability, 10 equal-width bins. */
    public static double[][] reliability(Input input, int[] weights) {
        double[][] bins = new double[CALIBRATION_BINS][3];
        for (int i = 0; i < input.size(); i++) {
            double confidence = Arrays.stream(input.probabilities()[i]).max().orElse(0);
            int bin = Math.min(CALIBRATION_BINS - 1, (int) (confidence * CALIBRATION_BINS));
            double w = weight(weights, i);
            bins[bin][0] += w;
            bins[bin][1] += w * confidence;
            bins[bin][2] += w * (input.predicted()[i] == input.truth()[i] ? 1 : 0);
        }
        for (double[] bin : bins) {
            if (bin[0] > 0) {
                bin[1] /= bin[0];
                bin[2] /= bin[0];
            }
        }
        return bins;
    }

    static double expectedCalibrationError(Input input, int[] weights) {
        double[][] bins = reliability(input, weights);
        double total = 0;
        double sum = 0;
        for (double[] bin : bins) {
            total += bin[0];
            sum += bin[0] * Math.abs(bin[2] - bin[1]);
        }
        return sum / total;
    }

    private static double weight(int[] weights, int i) {
        return weights == null ? 1 : weights[i];
    }
}
