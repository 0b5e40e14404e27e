package org.retinagrade.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.retinagrade.model.ModelArtifact;
import org.retinagrade.study.Run;
import org.retinagrade.study.RunMetric;
import org.retinagrade.study.StudyProtocol;
import org.retinagrade.study.StudyRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code retinagrade rerun RUN_ID}: run a stored protocol again and compare. */
@Command(name = "rerun", mixinStandardHelpOptions = true,
        description = {"Run the stored protocol of a run again on the same data folder as a new run, then state whether"
                + " the evaluation metrics and the best weights' SHA-256 are identical. Exit status 0 when identical, 3 when"
                + " they differ."})
public class RerunCommand implements Callable<Integer>, DatabaseCommand {

    @Parameters(index = "0", paramLabel = "RUN_ID", description = "Run started from a protocol.")
    long runId;

    @Inject
    StudyRunner runner;

    @Override
    public Integer call() throws Exception {
        Run original = QuarkusTransaction.requiringNew().call(() -> Run.findById(runId));
        if (original == null) {
            System.err.println("retinagrade rerun: run " + runId + " not found; `retinagrade runs` lists runs");
            return 2;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> provenance = new ObjectMapper().readValue(original.provenance, LinkedHashMap.class);
        StudyProtocol protocol;
        try {
            protocol = runner.storedProtocol(runId, provenance);
        } catch (IllegalArgumentException e) {
            System.err.println("retinagrade rerun: " + e.getMessage());
            return 2;
        }
        StudyRunner.Result again = runner.run(protocol, System.getProperty("user.name"), System.err);
        Comparison comparison = compare(runId, again.runId());
        System.out.println(comparison.summary());
        return comparison.identical() ? 0 : 3;
    }

    /** The outcome of comparing two runs' final metrics and best weights. */
    public record Comparison(boolean identical, String summary) {
    }

    public static Comparison compare(long first, long second) {
        Map<String, Double> a = finalMetrics(first);
        Map<String, Double> b = finalMetrics(second);
        String weightsA = bestWeights(first);
        String weightsB = bestWeights(second);
        StringBuilder differences = new StringBuilder();
        for (String name : a.keySet()) {
            if (!java.util.Objects.equals(a.get(name), b.get(name))) {
                differences.append(String.format(Locale.ROOT, "%n  %s: %s vs %s", name, a.get(name), b.get(name)));
            }
        }
        boolean sameWeights = weightsA != null && weightsA.equals(weightsB);
        boolean identical = sameWeights && differences.isEmpty() && a.keySet().equals(b.keySet());
        String summary = identical
                ? String.format(Locale.ROOT, "run %d reproduces run %d: %d metrics and the best weights (SHA-256 %s) are identical",
                        second, first, a.size(), weightsA)
                : String.format(Locale.ROOT, "run %d differs from run %d: weights %s%s", second, first,
                        sameWeights ? "identical" : weightsA + " vs " + weightsB, differences);
        return new Comparison(identical, summary);
    }

    private static Map<String, Double> finalMetrics(long runId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Map<String, Double> values = new java.util.TreeMap<>();
            List<RunMetric> metrics = RunMetric.list("runId = ?1 and epoch is null", runId);
            for (RunMetric metric : metrics) {
                values.put(metric.subgroup + "/" + metric.name + "/value", metric.value);
                values.put(metric.subgroup + "/" + metric.name + "/ci_low", metric.ciLow);
                values.put(metric.subgroup + "/" + metric.name + "/ci_high", metric.ciHigh);
            }
            return values;
        });
    }

    private static String bestWeights(long runId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelArtifact artifact = ModelArtifact.find("runId = ?1 and kind = 'best-weights' ORDER BY id DESC", runId).firstResult();
            return artifact == null ? null : artifact.sha256.trim();
        });
    }
}
