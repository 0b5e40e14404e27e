package org.retinagrade.evaluation;

/**
 * Cohen's kappa with quadratic or linear weights, as scikit-learn's
 * {@code cohen_kappa_score(weights=...)}: kappa = 1 - sum(w * O) / sum(w * E), where O is
 * the confusion matrix (rows true, columns predicted), E the outer product of its
 * marginals divided by the total, and w_ij = (i - j)^2 (quadratic) or |i - j| (linear).
 * Returns NaN when sum(w * E) is 0 (a single class in both ratings).
 */
public final class Kappa {

    private Kappa() {
    }

    public static double quadratic(int[] truth, int[] predicted, int classes) {
        return weighted(truth, predicted, classes, true);
    }

    public static double linear(int[] truth, int[] predicted, int classes) {
        return weighted(truth, predicted, classes, false);
    }

    private static double weighted(int[] truth, int[] predicted, int classes, boolean quadratic) {
        if (truth.length != predicted.length) {
            throw new IllegalArgumentException("truth has " + truth.length + " values, predictions " + predicted.length);
        }
        double[][] observed = new double[classes][classes];
        for (int i = 0; i < truth.length; i++) {
            observed[truth[i]][predicted[i]]++;
        }
        double[] rowSums = new double[classes];
        double[] columnSums = new double[classes];
        for (int i = 0; i < classes; i++) {
            for (int j = 0; j < classes; j++) {
                rowSums[i] += observed[i][j];
                columnSums[j] += observed[i][j];
            }
        }
        double total = truth.length;
        double numerator = 0;
        double denominator = 0;
        for (int i = 0; i < classes; i++) {
            for (int j = 0; j < classes; j++) {
                double weight = quadratic ? (i - j) * (i - j) : Math.abs(i - j);
                numerator += weight * observed[i][j];
                denominator += weight * rowSums[i] * columnSums[j] / total;
            }
        }
        return denominator == 0 ? Double.NaN : 1 - numerator / denominator;
    }
}
