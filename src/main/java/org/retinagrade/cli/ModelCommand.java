package org.retinagrade.cli;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.retinagrade.model.EfficientNetV2;
import org.retinagrade.model.EfficientNetV2Config;
import org.retinagrade.model.Pruning;
import org.retinagrade.training.AdamWGroups;
import org.retinagrade.training.FocalLoss;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retinagrade model ...}: inspect and measure the EfficientNetV2 graders. */
@Command(name = "model", description = "Inspect and measure the EfficientNetV2 graders.", mixinStandardHelpOptions = true,
        subcommands = {ModelCommand.Info.class, ModelCommand.Bench.class, ModelCommand.Prune.class})
public class ModelCommand {

    @Command(name = "info", mixinStandardHelpOptions = true, description = "Print a variant's stages and parameter count.")
    static class Info implements Callable<Integer> {

        @Option(names = "--variant", defaultValue = "s", description = "s, m, l or small (default: ${DEFAULT-VALUE}).")
        String variant;

        @Option(names = "--classes", defaultValue = "5", description = "Output classes (default: ${DEFAULT-VALUE}).")
        int classes;

        @Override
        public Integer call() {
            EfficientNetV2Config config;
            try {
                config = EfficientNetV2Config.named(variant);
                if (classes < 2) {
                    throw new IllegalArgumentException("invalid --classes " + classes + ": expected 2 or more");
                }
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade model info: " + e.getMessage());
                return 2;
            }
            System.out.printf("EfficientNetV2-%s: dropout %.1f, stochastic depth %.1f, head %d channels%n", config.name(),
                    config.dropout(), config.stochasticDepth(), config.lastChannel());
            System.out.println("  stage  block        expand  kernel  stride  in   out  layers");
            int index = 1;
            for (EfficientNetV2Config.Stage s : config.stages()) {
                System.out.printf("  %5d  %-11s  %6d  %6d  %6d  %3d  %4d  %6d%n", index++, s.fused() ? "Fused-MBConv" : "MBConv",
                        s.expandRatio(), s.kernel(), s.stride(), s.inputChannels(), s.outputChannels(), s.numLayers());
            }
            System.out.printf("parameters: %,d with %d classes%n", EfficientNetV2.countParameters(config, classes), classes);
            return 0;
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = {"Prune a trained run's best weights by global L1 magnitude (the given share of all convolution"
                    + " weights with the smallest magnitudes set to zero), store them as a new run, and evaluate it"
                    + " like `evaluate` does."})
    static class Prune implements Callable<Integer>, DatabaseCommand {

        @Option(names = "--run", required = true, description = "Trained run whose best weights are pruned.")
        long run;

        @Option(names = "--amount", required = true, description = "Share of convolution weights set to zero, 0 to below 1.")
        double amount;

        @Option(names = "--bootstrap", defaultValue = "2000", description = "Bootstrap resamples of the evaluation (default: ${DEFAULT-VALUE}).")
        int resamples;

        @Option(names = "--actor", defaultValue = "${sys:user.name}", description = "Name recorded in the audit trail (default: the OS user).")
        String actor;

        @jakarta.inject.Inject
        org.retinagrade.training.TrainingService trainingService;

        @jakarta.inject.Inject
        org.retinagrade.evaluation.EvaluationService evaluationService;

        @jakarta.inject.Inject
        jakarta.persistence.EntityManager entityManager;

        @Override
        public Integer call() throws IOException {
            if (!(amount >= 0 && amount < 1)) {
                System.err.println("retinagrade model prune: invalid --amount " + amount + ": expected 0 to below 1");
                return 2;
            }
            org.retinagrade.study.Run source = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                    .call(() -> org.retinagrade.study.Run.findById(run));
            org.retinagrade.model.ModelArtifact weights = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() ->
                    org.retinagrade.model.ModelArtifact.<org.retinagrade.model.ModelArtifact>find(
                            "runId = ?1 and kind = 'best-weights' ORDER BY id DESC", run).firstResult());
            if (source == null || weights == null) {
                System.err.println("retinagrade model prune: run " + run + " not found or without trained weights;"
                        + " `retinagrade runs` lists runs");
                return 2;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> model = (Map<String, Object>) new com.fasterxml.jackson.databind.ObjectMapper()
                    .readValue(source.provenance, Map.class).get("model");
            EfficientNetV2Config config = EfficientNetV2Config.named((String) model.get("variant"));
            int resolution = ((Number) model.get("resolution")).intValue();
            Pruning.Result[] pruned = new Pruning.Result[1];
            long newRun;
            try (NDManager manager = NDManager.newBaseManager()) {
                EfficientNetV2 network = new EfficientNetV2(config, 5);
                network.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, 3, resolution, resolution));
                try (java.io.DataInputStream in = new java.io.DataInputStream(java.nio.file.Files.newInputStream(
                        org.retinagrade.Workspace.root().resolve(weights.path)))) {
                    network.loadParameters(manager, in);
                } catch (ai.djl.MalformedModelException e) {
                    throw new IOException("invalid weights " + weights.path + ": " + e.getMessage(), e);
                }
                pruned[0] = Pruning.prune(network, amount);
                newRun = trainingService.createDerivedRun(run, Map.of("pruned_amount", amount), id ->
                        org.retinagrade.Workspace.root().resolve("runs").resolve(Long.toString(id)).resolve("best.params"),
                        file -> {
                            java.nio.file.Files.createDirectories(file.getParent());
                            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                            try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
                                network.saveParameters(out);
                            }
                            org.retinagrade.AtomicFiles.write(file, bytes.toByteArray(), false);
                            return org.retinagrade.ingest.ContentStore.sha256(bytes.toByteArray());
                        }, network.parameterCount(), actor);
            }
            System.err.printf(Locale.ROOT, "pruned %,d of %,d convolution weights (%.1f %%, magnitude <= %.3g) into run %d%n",
                    pruned[0].zeroed(), pruned[0].total(), 100 * pruned[0].sparsity(), pruned[0].threshold(), newRun);
            var outcome = evaluationService.evaluate(newRun, sourceEvaluationOptions(source.provenance, resamples), System.err);
            System.out.printf(Locale.ROOT, "run %d (run %d pruned by %.0f %%) evaluated on %d %s images:%n", newRun, run,
                    amount * 100, outcome.images(), outcome.split());
            for (String name : java.util.List.of("accuracy", "quadratic_kappa", "referable_auc")) {
                System.out.println("  " + EvaluateCommand.format(outcome.metrics().get("").get(name)));
            }
            return 0;
        }
    }

    /** Uses the source run's stored evaluation settings, so that pruned and source metrics compare; defaults otherwise. */
    @SuppressWarnings("unchecked")
    static org.retinagrade.evaluation.EvaluationService.Options sourceEvaluationOptions(String provenanceJson, int resamples)
            throws IOException {
        Map<String, Object> provenance = new com.fasterxml.jackson.databind.ObjectMapper().readValue(provenanceJson, Map.class);
        Map<String, Object> evaluation = (Map<String, Object>) provenance.getOrDefault("evaluation", Map.of());
        java.util.List<org.retinagrade.evaluation.TtaTransform> tta = new java.util.ArrayList<>();
        for (Object name : (java.util.List<Object>) evaluation.getOrDefault("tta", java.util.List.of("identity", "hflip", "vflip"))) {
            tta.add(org.retinagrade.evaluation.TtaTransform.parse(String.valueOf(name)));
        }
        Map<String, Object> points = (Map<String, Object>) evaluation.getOrDefault("operating_points", Map.of());
        return new org.retinagrade.evaluation.EvaluationService.Options(tta,
                "mean_logits".equals(evaluation.get("combine")) ? org.retinagrade.evaluation.TtaPredictor.Combine.MEAN_LOGITS
                        : org.retinagrade.evaluation.TtaPredictor.Combine.MEAN_PROBABILITIES,
                resamples, ((Number) evaluation.getOrDefault("bootstrap_seed", 2026)).longValue(),
                new org.retinagrade.evaluation.GradeMetrics.OperatingPoints(
                        ((Number) points.getOrDefault("sensitivity_target", 0.9)).doubleValue(),
                        ((Number) points.getOrDefault("specificity_target", 0.9)).doubleValue(),
                        ((Number) points.getOrDefault("threshold", 0.5)).doubleValue()));
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = {"Time training steps (forward, focal loss, backward, AdamW) and eval-mode inference on random"
                    + " input, and print medians and the peak resident memory of this process."})
    static class Bench implements Callable<Integer> {

        @Option(names = "--variant", defaultValue = "s", description = "s, m, l or small (default: ${DEFAULT-VALUE}).")
        String variant;

        @Option(names = "--resolution", defaultValue = "224", description = "Image side in pixels (default: ${DEFAULT-VALUE}).")
        int resolution;

        @Option(names = "--batch-size", defaultValue = "8", description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(names = "--steps", defaultValue = "5", description = "Timed steps after one warm-up step (default: ${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--threads", defaultValue = "2", description = "libtorch threads (default: ${DEFAULT-VALUE}).")
        int threads;

        @Override
        public Integer call() throws IOException {
            try {
                EfficientNetV2Config.named(variant);
                requireAtLeast("--resolution", resolution, 32);
                requireAtLeast("--batch-size", batchSize, 2);
                requireAtLeast("--steps", steps, 1);
                requireAtLeast("--threads", threads, 1);
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade model bench: " + e.getMessage());
                return 2;
            }
            System.out.printf(Locale.ROOT, "EfficientNetV2-%s, %d px, batch %d, %d timed steps, %d threads%n", variant, resolution,
                    batchSize, steps, threads);
            org.retinagrade.training.EngineThreads.set(threads);
            Engine.getInstance().setRandomSeed(1);
            EfficientNetV2 network = new EfficientNetV2(EfficientNetV2Config.named(variant), 5);
            Shape shape = new Shape(batchSize, 3, resolution, resolution);
            try (Model model = Model.newInstance("bench")) {
                model.setBlock(network);
                Map<String, AdamWGroups.ParameterGroup> groups = new HashMap<>();
                network.torchNames().forEach((name, p) -> groups.put(p.getId(),
                        new AdamWGroups.ParameterGroup(name, 1e-4, p.getType() == ai.djl.nn.Parameter.Type.WEIGHT)));
                AdamWGroups optimizer = new AdamWGroups(groups, step -> 1.0, 0.05f, 0.9f, 0.999f, 1e-8f);
                try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(new FocalLoss(0, null, 0))
                        .optOptimizer(optimizer))) {
                    trainer.initialize(shape);
                    NDManager manager = trainer.getManager();
                    double[] train = new double[steps];
                    for (int step = -1; step < steps; step++) {
                        long start = System.nanoTime();
                        try (NDScope scope = new NDScope()) {
                            NDArray x = manager.randomNormal(shape);
                            NDArray y = manager.randomInteger(0, 5, new Shape(batchSize), ai.djl.ndarray.types.DataType.INT64);
                            try (GradientCollector collector = trainer.newGradientCollector()) {
                                NDList out = trainer.forward(new NDList(x));
                                collector.backward(trainer.getLoss().evaluate(new NDList(y), out));
                            }
                            optimizer.setStep(step + 2);
                            optimizer.step(network);
                        }
                        if (step >= 0) {
                            train[step] = (System.nanoTime() - start) / 1e6 / batchSize;
                            System.out.printf(Locale.ROOT, "train step %d: %.0f ms per image%n", step + 1, train[step]);
                        }
                    }
                    double[] infer = new double[steps];
                    ParameterStore store = new ParameterStore(manager, false);
                    EfficientNetV2.Folded folded = network.foldBatchNorm();
                    for (int step = -1; step < steps; step++) {
                        long start = System.nanoTime();
                        try (NDScope scope = new NDScope()) {
                            NDArray x = manager.randomNormal(shape);
                            network.forward(store, new NDList(x), false).singletonOrThrow().softmax(1).toFloatArray();
                        }
                        if (step >= 0) {
                            infer[step] = (System.nanoTime() - start) / 1e6 / batchSize;
                            System.out.printf(Locale.ROOT, "inference step %d: %.0f ms per image%n", step + 1, infer[step]);
                        }
                    }
                    folded.close();
                    System.out.printf(Locale.ROOT, "median training: %.1f ms per image%n", median(train));
                    System.out.printf(Locale.ROOT, "median inference: %.1f ms per image%n", median(infer));
                    System.out.printf(Locale.ROOT, "peak RSS: %.0f MiB%n", peakResidentMib());
                }
            }
            return 0;
        }

        private static void requireAtLeast(String option, int value, int minimum) {
            if (value < minimum) {
                throw new IllegalArgumentException("invalid " + option + " " + value + ": expected " + minimum + " or more");
            }
        }

        private static double median(double[] values) {
            double[] sorted = values.clone();
            Arrays.sort(sorted);
            return sorted[sorted.length / 2];
        }

        /** VmHWM of /proc/self/status: the peak resident set size of this process. */
        static double peakResidentMib() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
            return Double.NaN;
        }
    }
}
