package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.retinagrade.evaluation.Bootstrap;
import org.retinagrade.evaluation.EvaluationService;
import org.retinagrade.evaluation.GradeMetrics;
import org.retinagrade.evaluation.Metric;
import org.retinagrade.evaluation.TtaPredictor;
import org.retinagrade.evaluation.TtaTransform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retinagrade evaluate --run RUN}. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {
            "Evaluate a trained run's best weights on the cohort's test split (the validation split when there is no"
                    + " test split) with test-time augmentation; store predictions and metrics with 95 %% bootstrap"
                    + " intervals (patients resampled) overall and per laterality, source folder and camera model.",
            "Then `retinagrade report --run RUN` writes the report."
        })
public class EvaluateCommand implements Callable<Integer>, DatabaseCommand {

    @Option(names = "--run", required = true, description = "Run id.")
    long run;

    @Option(names = "--tta", split = ",", defaultValue = "identity,hflip,vflip",
            description = "Test-time transforms: identity, hflip, vflip, rot90, rot180, rot270, scale-0.9, scale-1.1"
                    + " (default: ${DEFAULT-VALUE}).")
    List<String> tta = new ArrayList<>();

    @Option(names = "--combine", defaultValue = "probabilities",
            description = "Combine transforms by the mean of the probabilities or of the logits (default: ${DEFAULT-VALUE}).")
    String combine;

    @Option(names = "--bootstrap", defaultValue = "" + Bootstrap.DEFAULT_RESAMPLES,
            description = "Bootstrap resamples for the confidence intervals; 0 skips them (default: ${DEFAULT-VALUE}).")
    int resamples;

    @Option(names = "--bootstrap-seed", defaultValue = "2026", description = "Seed of the bootstrap (default: ${DEFAULT-VALUE}).")
    long bootstrapSeed;

    @Option(names = "--sensitivity-target", defaultValue = "0.9",
            description = "Referable-DR sensitivity of the high-sensitivity operating point (default: ${DEFAULT-VALUE}).")
    double sensitivityTarget;

    @Option(names = "--specificity-target", defaultValue = "0.9",
            description = "Referable-DR specificity of the high-specificity operating point (default: ${DEFAULT-VALUE}).")
    double specificityTarget;

    @Option(names = "--threshold", defaultValue = "0.5",
            description = "Referable-DR threshold on the summed probability of grades 2-4 (default: ${DEFAULT-VALUE}).")
    double threshold;

    @Inject
    EvaluationService service;

    @Override
    public Integer call() {
        try {
            List<TtaTransform> transforms = tta.stream().map(String::trim).map(TtaTransform::parse).toList();
            TtaPredictor.Combine mode = switch (combine.toLowerCase(Locale.ROOT)) {
                case "probabilities" -> TtaPredictor.Combine.MEAN_PROBABILITIES;
                case "logits" -> TtaPredictor.Combine.MEAN_LOGITS;
                default -> throw new IllegalArgumentException("invalid --combine '" + combine + "': expected probabilities or logits");
            };
            if (resamples < 0) {
                throw new IllegalArgumentException("invalid --bootstrap " + resamples + ": expected 0 or more resamples");
            }
            EvaluationService.Outcome outcome = service.evaluate(run, new EvaluationService.Options(transforms, mode, resamples,
                    bootstrapSeed, new GradeMetrics.OperatingPoints(sensitivityTarget, specificityTarget, threshold)), System.err);
            Map<String, Metric> overall = outcome.metrics().get("");
            System.out.printf(Locale.ROOT, "run %d evaluated on %d %s images:%n", run, outcome.images(), outcome.split());
            for (String name : List.of("accuracy", "quadratic_kappa", "macro_f1", "referable_auc",
                    "referable_sensitivity_threshold", "referable_specificity_threshold", "ece")) {
                System.out.println("  " + format(overall.get(name)));
            }
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("retinagrade evaluate: " + e.getMessage());
            return 2;
        } catch (java.io.IOException e) {
            System.err.println("retinagrade evaluate: " + e.getMessage());
            return 1;
        }
    }

    /** Formats a metric as "name value (95 % CI low to high)", or "name undefined (reason)". */
    public static String format(Metric metric) {
        if (metric == null) {
            return "-";
        }
        if (!metric.defined()) {
            return String.format(Locale.ROOT, "%-32s undefined (%s)", metric.name(), metric.reason());
        }
        if (Double.isNaN(metric.ciLow())) {
            return String.format(Locale.ROOT, "%-32s %.4f", metric.name(), metric.value());
        }
        return String.format(Locale.ROOT, "%-32s %.4f (95%% CI %.4f to %.4f)", metric.name(), metric.value(), metric.ciLow(),
                metric.ciHigh());
    }
}
