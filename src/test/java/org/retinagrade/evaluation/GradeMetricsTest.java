package org.retinagrade.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Cross-checks every metric with scikit-learn 1.2.1 (see sklearn_metrics_fixture.py). */
class GradeMetricsTest {

    private static GradeMetrics.Input input(JsonNode testCase) {
        JsonNode truthNode = testCase.get("truth");
        JsonNode probabilityNode = testCase.get("probabilities");
        int n = truthNode.size();
        int[] truth = new int[n];
        int[] predicted = new int[n];
        double[][] probabilities = new double[n][5];
        for (int i = 0; i < n; i++) {
            truth[i] = truthNode.get(i).asInt();
            int best = 0;
            for (int g = 0; g < 5; g++) {
                probabilities[i][g] = probabilityNode.get(i).get(g).asDouble();
                if (probabilities[i][g] > probabilities[i][best]) {
                    best = g;
                }
            }
            predicted[i] = best;
        }
        return new GradeMetrics.Input(truth, predicted, probabilities);
    }

    private static JsonNode fixture() throws Exception {
        try (InputStream in = GradeMetricsTest.class.getResourceAsStream("/evaluation/sklearn-metrics.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void agreesWithScikitLearn() throws Exception {
        int checked = 0;
        for (JsonNode testCase : fixture().get("cases")) {
            String name = testCase.get("name").asText();
            GradeMetrics.Input input = input(testCase);
            GradeMetrics.Thresholds thresholds = GradeMetrics.thresholds(input, GradeMetrics.OperatingPoints.defaults());
            Map<String, Metric> metrics = GradeMetrics.compute(input, null, thresholds, null);

            double[][] confusion = GradeMetrics.confusion(input, null);
            for (int t = 0; t < 5; t++) {
                for (int p = 0; p < 5; p++) {
                    assertEquals(testCase.get("confusion").get(t).get(p).asDouble(), confusion[t][p], 0.0,
                            name + " confusion[" + t + "][" + p + "]");
                }
            }
            Iterator<Map.Entry<String, JsonNode>> expected = testCase.get("expected").fields();
            while (expected.hasNext()) {
                Map.Entry<String, JsonNode> entry = expected.next();
                Metric metric = metrics.get(entry.getKey());
                assertTrue(metric != null, name + ": metric " + entry.getKey() + " missing");
                if (entry.getValue().isNull()) {
                    assertTrue(Double.isNaN(metric.value()), name + " " + entry.getKey() + " should be undefined, was " + metric.value());
                    assertFalse(metric.reason().isEmpty(), name + " " + entry.getKey() + " has no reason");
                } else {
                    assertEquals(entry.getValue().asDouble(), metric.value(), 1e-12, name + " " + entry.getKey());
                }
                checked++;
            }
        }
        assertTrue(checked > 150, "only " + checked + " values compared");
    }

    @Test
    void operatingPointsMeetTheirTargets() throws Exception {
        JsonNode testCase = fixture().get("cases").get(0);
        GradeMetrics.Input input = input(testCase);
        GradeMetrics.Thresholds thresholds = GradeMetrics.thresholds(input, new GradeMetrics.OperatingPoints(0.9, 0.8, 0.5));
        Map<String, Metric> metrics = GradeMetrics.compute(input, null, thresholds, null);
        assertTrue(metrics.get("referable_sensitivity_high_sensitivity").value() >= 0.9);
        assertTrue(metrics.get("referable_specificity_high_specificity").value() >= 0.8);
        double above = java.util.stream.IntStream.range(0, input.size()).mapToDouble(input::referableScore)
                .filter(score -> score > thresholds.highSensitivity()).min().orElse(Double.NaN);
        Map<String, Metric> higher = GradeMetrics.compute(input, null,
                new GradeMetrics.Thresholds(above, thresholds.highSpecificity(), 0.5), null);
        assertTrue(higher.get("referable_sensitivity_high_sensitivity").value() < 0.9,
                "the next higher threshold also reaches the target, so the chosen one is not the largest");
    }

    @Test
    void weightsEqualRepeatedSamples() throws Exception {
        GradeMetrics.Input input = input(fixture().get("cases").get(0));
        int n = input.size();
        int[] weights = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++) {
            weights[i] = i % 3;
            total += weights[i];
        }
        int[] truth = new int[total];
        int[] predicted = new int[total];
        double[][] probabilities = new double[total][];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int copy = 0; copy < weights[i]; copy++) {
                truth[k] = input.truth()[i];
                predicted[k] = input.predicted()[i];
                probabilities[k++] = input.probabilities()[i];
            }
        }
        GradeMetrics.Input repeated = new GradeMetrics.Input(truth, predicted, probabilities);
        GradeMetrics.Thresholds thresholds = new GradeMetrics.Thresholds(0.3, 0.7, 0.5);
        Map<String, Metric> weighted = GradeMetrics.compute(input, weights, thresholds, null);
        Map<String, Metric> explicit = GradeMetrics.compute(repeated, null, thresholds, null);
        for (String name : explicit.keySet()) {
            assertEquals(explicit.get(name).value(), weighted.get(name).value(), 1e-12, name);
        }
    }

    @Test
    void bootstrapIntervalsContainValueAndRepeat() throws Exception {
        GradeMetrics.Input input = input(fixture().get("cases").get(0));
        String[] patients = new String[input.size()];
        for (int i = 0; i < patients.length; i++) {
            patients[i] = "patient-" + (i / 2);
        }
        GradeMetrics.Thresholds thresholds = GradeMetrics.thresholds(input, GradeMetrics.OperatingPoints.defaults());
        Map<String, Metric> first = Bootstrap.withIntervals(input, patients, thresholds, 500, 7);
        Map<String, Metric> second = Bootstrap.withIntervals(input, patients, thresholds, 500, 7);
        for (String name : new String[] {"accuracy", "quadratic_kappa", "referable_auc", "macro_f1"}) {
            Metric metric = first.get(name);
            assertTrue(metric.ciLow() <= metric.value(), name + " " + metric.value() + " below its interval low " + metric.ciLow());
            assertTrue(metric.value() <= metric.ciHigh(), name + " " + metric.value() + " above its interval high " + metric.ciHigh());
            assertTrue(metric.ciHigh() - metric.ciLow() > 0.01, name + " interval too narrow");
            assertEquals(metric.ciLow(), second.get(name).ciLow(), 0.0, name + " not reproducible");
        }
    }
}
