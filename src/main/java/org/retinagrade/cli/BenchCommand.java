package org.retinagrade.cli;

import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.retinagrade.evaluation.Bootstrap;
import org.retinagrade.evaluation.GradeMetrics;
import org.retinagrade.evaluation.Metric;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retinagrade bench ...}: measurements run by the benchmarks under bench/. */
@Command(name = "bench", description = "Measurements used by the benchmarks under bench/.", mixinStandardHelpOptions = true,
        subcommands = BenchCommand.Metrics.class)
public class BenchCommand {

    @Command(name = "metrics", mixinStandardHelpOptions = true,
            description = {"Time every grading metric with patient-level bootstrap intervals on generated predictions"
                    + " (two images per patient); prints the median of the repeats."})
    static class Metrics implements Callable<Integer> {

        @Option(names = "--predictions", defaultValue = "10000", description = "Predictions (default: ${DEFAULT-VALUE}).")
        int predictions;

        @Option(names = "--resamples", defaultValue = "2000", description = "Bootstrap resamples (default: ${DEFAULT-VALUE}).")
        int resamples;

        @Option(names = "--repeats", defaultValue = "3", description = "Timed repeats after one warm-up (default: ${DEFAULT-VALUE}).")
        int repeats;

        @Override
        public Integer call() {
            SplittableRandom random = new SplittableRandom(2026);
            int[] truth = new int[predictions];
            int[] predicted = new int[predictions];
            double[][] probabilities = new double[predictions][5];
            String[] patients = new String[predictions];
            for (int i = 0; i < predictions; i++) {
                truth[i] = random.nextInt(5);
                double sum = 0;
                for (int g = 0; g < 5; g++) {
                    probabilities[i][g] = random.nextDouble() + (g == truth[i] ? 0.3 : 0);
                    sum += probabilities[i][g];
                }
                int best = 0;
                for (int g = 0; g < 5; g++) {
                    probabilities[i][g] /= sum;
                    best = probabilities[i][g] > probabilities[i][best] ? g : best;
                }
                predicted[i] = best;
                patients[i] = "p" + (i / 2);
            }
            GradeMetrics.Input input = new GradeMetrics.Input(truth, predicted, probabilities);
            double[] seconds = new double[repeats];
            Map<String, Metric> result = null;
            for (int r = -1; r < repeats; r++) {
                long start = System.nanoTime();
                GradeMetrics.Thresholds thresholds = GradeMetrics.thresholds(input, GradeMetrics.OperatingPoints.defaults());
                result = Bootstrap.withIntervals(input, patients, thresholds, resamples, 7);
                if (r >= 0) {
                    seconds[r] = (System.nanoTime() - start) / 1e9;
                    System.out.printf(Locale.ROOT, "repeat %d: %.2f s%n", r + 1, seconds[r]);
                }
            }
            java.util.Arrays.sort(seconds);
            Metric kappa = result.get("quadratic_kappa");
            System.out.printf(Locale.ROOT, "quadratic kappa %.4f (%.4f-%.4f), %d metrics with intervals%n", kappa.value(),
                    kappa.ciLow(), kappa.ciHigh(), result.size());
            System.out.printf(Locale.ROOT, "median: %.2f s for %d predictions and %d resamples%n", seconds[repeats / 2],
                    predictions, resamples);
            return 0;
        }
    }
}
