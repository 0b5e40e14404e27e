package org.retinagrade.evaluation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;

/**
 * Percentile bootstrap confidence intervals with patients as the resampling unit: each
 * resample draws as many patients as there are, with replacement, and takes all of a drawn
 * patient's images, so two eyes of one patient never count as independent. The interval
 * of a metric is the 2.5th and 97.5th percentile (linear interpolation, numpy's default)
 * of its values over the resamples in which it is defined. Draws come from a generator
 * seeded by {@code seed}, so intervals are reproducible. Thread-safe.
 */
public final class Bootstrap {

    /** Default number of resamples. */
    public static final int DEFAULT_RESAMPLES = 2000;

    private Bootstrap() {
    }

    /**
     * Returns the metrics of the full data with their intervals.
     *
     * @param clusters patient (or other unit) of every sample
     */
    public static Map<String, Metric> withIntervals(GradeMetrics.Input input, String[] clusters,
            GradeMetrics.Thresholds thresholds, int resamples, long seed) {
        int[] order = GradeMetrics.orderByScore(input);
        Map<String, Metric> full = GradeMetrics.compute(input, null, thresholds, order);
        if (resamples <= 0) {
            return full;
        }

        Map<String, Integer> unitIndex = new HashMap<>();
        List<List<Integer>> members = new ArrayList<>();
        for (int i = 0; i < clusters.length; i++) {
            int unit = unitIndex.computeIfAbsent(clusters[i], k -> {
                members.add(new ArrayList<>());
                return members.size() - 1;
            });
            members.get(unit).add(i);
        }
        int[][] unitMembers = members.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);

        Map<String, double[]> samples = new HashMap<>();
        Map<String, Integer> counts = new HashMap<>();
        for (String name : full.keySet()) {
            samples.put(name, new double[resamples]);
            counts.put(name, 0);
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[] weights = new int[input.size()];
        for (int r = 0; r < resamples; r++) {
            java.util.Arrays.fill(weights, 0);
            for (int draw = 0; draw < unitMembers.length; draw++) {
                for (int i : unitMembers[random.nextInt(unitMembers.length)]) {
                    weights[i]++;
                }
            }
            for (Map.Entry<String, Metric> entry : GradeMetrics.compute(input, weights, thresholds, order).entrySet()) {
                double value = entry.getValue().value();
                if (!Double.isNaN(value) && samples.containsKey(entry.getKey())) {
                    int n = counts.get(entry.getKey());
                    samples.get(entry.getKey())[n] = value;
                    counts.put(entry.getKey(), n + 1);
                }
            }
        }

        Map<String, Metric> result = new LinkedHashMap<>();
        Percentile percentile = new Percentile().withEstimationType(Percentile.EstimationType.R_7);
        for (Map.Entry<String, Metric> entry : full.entrySet()) {
            int n = counts.get(entry.getKey());
            if (!entry.getValue().defined() || n == 0 || entry.getKey().startsWith("support_")
                    || entry.getKey().startsWith("referable_threshold")) {
                result.put(entry.getKey(), entry.getValue());
                continue;
            }
            double[] values = java.util.Arrays.copyOf(samples.get(entry.getKey()), n);
            percentile.setData(values);
            result.put(entry.getKey(), entry.getValue().withInterval(percentile.evaluate(2.5), percentile.evaluate(97.5)));
        }
        return result;
    }
}
