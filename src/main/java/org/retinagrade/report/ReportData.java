package org.retinagrade.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.retinagrade.evaluation.Metric;

/**
 * Everything a report shows, read from the database: the run and its provenance, the
 * training history, the evaluation metrics per subgroup ("" is the whole set) and the
 * predictions.
 */
public record ReportData(
        long runId,
        String status,
        long seed,
        Map<String, Object> provenance,
        List<EpochRow> history,
        Map<String, Map<String, Metric>> metrics,
        List<PredictionRow> predictions,
        String protocolText) {

    /** Training metrics of one epoch. */
    public record EpochRow(int epoch, double trainLoss, double validationLoss, double validationKappa) {
    }

    /** One evaluated image. */
    public record PredictionRow(long imageId, String imageName, String patient, String laterality, Path file,
            int trueGrade, int predictedGrade, double[] probabilities, Map<String, double[]> tta) {

        public double referableScore() {
            return probabilities[2] + probabilities[3] + probabilities[4];
        }
    }

    public Map<String, Metric> overall() {
        return metrics.getOrDefault("", Map.of());
    }

    public double[][] confusion() {
        double[][] matrix = new double[5][5];
        for (PredictionRow row : predictions) {
            matrix[row.trueGrade()][row.predictedGrade()]++;
        }
        return matrix;
    }
}
