package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.retinagrade.Workspace;
import org.retinagrade.imaging.PreparedImageCache;
import org.retinagrade.imaging.PreprocessConfig;
import org.retinagrade.imaging.augment.AugmentationPipeline;
import org.retinagrade.ingest.ContentStore;
import org.retinagrade.model.EfficientNetV2Config;
import org.retinagrade.model.WeightImport;
import org.retinagrade.training.EngineThreads;
import org.retinagrade.training.EpochSampler;
import org.retinagrade.training.GraderTrainer;
import org.retinagrade.training.StopRequest;
import org.retinagrade.training.TrainingConfig;
import org.retinagrade.training.TrainingService;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retinagrade train}: train an EfficientNetV2 grader on a cohort. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {
            "Train an EfficientNetV2 DR grader on the labelled images of a cohort, with a progress line (each step on a"
                    + " terminal, every 10 steps in a log) and metrics per epoch stored in the database. The run's checkpoint and best weights are written under"
                    + " runs/<run-id>/ in the workspace; --resume RUN_ID continues a run that was stopped.",
            "Validation: the cohort's stored train/validation splits, or else a patient-level split of"
                    + " --validation-fraction. Ctrl-C (or SIGTERM) stops training before its next step and leaves the run"
                    + " interrupted, to be continued with --resume; a second Ctrl-C exits at once.",
            "Exit status 0 on success, 2 for invalid arguments, 1 when training failed, 130 when it was stopped."
        })
public class TrainCommand implements Callable<Integer>, DatabaseCommand {

    @Option(names = "--cohort", description = "Cohort to train on (required unless --resume).")
    String cohort;

    @Option(names = "--resume", paramLabel = "RUN_ID", description = "Continue this run from its last checkpoint with its stored settings.")
    Long resume;

    @Option(names = "--variant", defaultValue = "small", description = "EfficientNetV2 variant: s, m, l or small (default: ${DEFAULT-VALUE}).")
    String variant;

    @Option(names = "--resolution", defaultValue = "224", description = "Image side in pixels (default: ${DEFAULT-VALUE}).")
    int resolution;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "8", description = "Images per step, 2 or more (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--accumulate", defaultValue = "1",
            description = "Batches whose gradients are summed before each optimiser step, for an effective batch of"
                    + " --batch-size x N on small memory (default: ${DEFAULT-VALUE}).")
    int accumulate;

    @Option(names = "--progressive-stages", defaultValue = "0",
            description = "Progressive learning: split the epochs into this many stages in which image size, dropout and"
                    + " augmentation strength rise together; 0 or 1 turns it off (default: ${DEFAULT-VALUE}).")
    int progressiveStages;

    @Option(names = "--progressive-start-resolution", defaultValue = "128",
            description = "Image side of the first progressive stage in pixels (default: ${DEFAULT-VALUE}).")
    int progressiveStartResolution;

    @Option(names = "--teacher-run", paramLabel = "RUN_ID",
            description = "Distil from this trained run's best weights (knowledge distillation).")
    Long teacherRun;

    @Option(names = "--distill-temperature", defaultValue = "4",
            description = "Softening temperature T of the distillation term (default: ${DEFAULT-VALUE}).")
    float distillTemperature;

    @Option(names = "--distill-alpha", defaultValue = "0.5",
            description = "Weight of the distillation term against the grader's own loss, 0 to 1 (default: ${DEFAULT-VALUE}).")
    float distillAlpha;

    @Option(names = "--draws-per-epoch", defaultValue = "0", description = "Samples per epoch; 0 means the training set size. The shuffle sampler draws each image at most"
            + " once per epoch, so only --sampler balanced draws more (default: ${DEFAULT-VALUE}).")
    int drawsPerEpoch;

    @Option(names = "--sampler", defaultValue = "shuffle", description = "shuffle, or balanced (class-balanced draws with replacement) (default: ${DEFAULT-VALUE}).")
    String sampler;

    @Option(names = "--lr-features", defaultValue = "3e-4", description = "Peak learning rate of the feature blocks (default: ${DEFAULT-VALUE}).")
    double featureLearningRate;

    @Option(names = "--lr-classifier", defaultValue = "1e-3", description = "Peak learning rate of the classifier (default: ${DEFAULT-VALUE}).")
    double classifierLearningRate;

    @Option(names = "--weight-decay", defaultValue = "0.05", description = "AdamW weight decay, not on BatchNorm or biases (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--warmup-epochs", defaultValue = "1", description = "Epochs of linear warm-up before cosine decay (default: ${DEFAULT-VALUE}).")
    double warmupEpochs;

    @Option(names = "--clip-norm", defaultValue = "1.0", description = "Maximum global gradient norm; 0 disables (default: ${DEFAULT-VALUE}).")
    double clipNorm;

    @Option(names = "--focal-gamma", defaultValue = "2.0", description = "Focal loss gamma; 0 gives cross-entropy (default: ${DEFAULT-VALUE}).")
    float focalGamma;

    @Option(names = "--focal-alpha", split = ",", description = "Per-grade focal weights, five values such as 1,2,1,2,2 (default: none).")
    float[] focalAlpha;

    @Option(names = "--label-smoothing", defaultValue = "0", description = "Label smoothing in [0, 1) (default: ${DEFAULT-VALUE}).")
    float labelSmoothing;

    @Option(names = "--freeze-features", description = "Train only the classifier until an --unfreeze step unfreezes feature blocks.")
    boolean freezeFeatures;

    @Option(names = "--unfreeze", split = ",", paramLabel = "EPOCH:STAGES",
            description = "Unfreezing steps such as 5:3,10:all: from epoch 5 the last 3 stages train, from epoch 10 all.")
    List<String> unfreeze = new ArrayList<>();

    @Option(names = "--early-stopping", defaultValue = "0", description = "Stop after this many epochs without a better validation quadratic kappa; 0 never (default: ${DEFAULT-VALUE}).")
    int earlyStopping;

    @Option(names = "--augment", defaultValue = "standard", description = "standard (crop, flips, rotation, colour jitter) or none (default: ${DEFAULT-VALUE}).")
    String augment;

    @Option(names = "--ben-graham", description = "Apply Ben Graham's local average colour subtraction.")
    boolean benGraham;

    @Option(names = "--clahe", description = "Apply CLAHE to the lightness channel.")
    boolean clahe;

    @Option(names = "--validation-fraction", defaultValue = "0.2", description = "Share of patients for validation when the cohort has no stored splits (default: ${DEFAULT-VALUE}).")
    double validationFraction;

    @Option(names = "--pretrained", paramLabel = "FILE", description = "torchvision EfficientNetV2 state dict as safetensors or npz.")
    Path pretrained;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of initialisation, sampling and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", defaultValue = "2", description = "libtorch threads, fixed for reproducible results (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--actor", defaultValue = "${sys:user.name}", description = "Name recorded in the audit trail (default: the OS user).")
    String actor;

    @Inject
    TrainingService service;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Long runId = resume;
        boolean resumed = false;
        String[] arguments;
        try {
            if (resume != null) {
                // The stored arguments are parsed before the run is marked running again, so that a bad
                // argument list cannot leave it stuck in that state. The actor of this call is kept.
                @SuppressWarnings("unchecked")
                List<String> stored = (List<String>) service.provenanceOf(resume).get("arguments");
                arguments = stored.toArray(String[]::new);
                String resumingActor = actor;
                new CommandLine(this).parseArgs(arguments);
                actor = resumingActor;
            } else {
                List<String> original = spec.commandLine().getParseResult().originalArgs();
                int start = original.indexOf("train") + 1;
                arguments = original.subList(start, original.size()).toArray(String[]::new);
            }
            if (cohort == null) {
                throw new IllegalArgumentException("missing --cohort (or --resume RUN_ID)");
            }
            TrainingConfig config = config();
            if (progressiveStages > 1) {
                config = config.withProgressive(new TrainingConfig.Progressive(progressiveStages, progressiveStartResolution,
                        0.1f, 0.3));
            }
            if (teacherRun != null) {
                TrainingService.TrainedWeights teacher = service.trainedWeights(teacherRun);
                Map<String, Object> expected = Map.of("resolution", resolution, "ben_graham", benGraham, "clahe", clahe);
                for (Map.Entry<String, Object> setting : expected.entrySet()) {
                    if (!String.valueOf(setting.getValue()).equals(String.valueOf(teacher.model().get(setting.getKey())))) {
                        throw new IllegalArgumentException("teacher run " + teacherRun + " was trained with " + setting.getKey()
                                + " " + teacher.model().get(setting.getKey()) + ", this run uses " + setting.getValue()
                                + "; give the same preprocessing so that the teacher sees images as it was trained");
                    }
                }
                config = config.withDistillation(new org.retinagrade.training.Distillation(teacher.file(), teacher.variant(),
                        distillTemperature, distillAlpha));
            }
            EngineThreads.set(threads);
            Path runFolder = runId == null ? null : Workspace.root().resolve("runs").resolve(Long.toString(runId));
            if (pretrained != null && (runFolder == null || Files.notExists(runFolder.resolve("checkpoint.zip")))) {
                // Checked before the run is created or resumed, so that a bad file leaves no failed run behind.
                try {
                    WeightImport.check(variant, 5, pretrained);
                } catch (IOException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            }
            if (resume != null) {
                service.resumeRun(resume, actor);
                resumed = true;
            }
            StopRequest.install(System.err);

            TrainingService.Dataset data = service.dataset(cohort, validationFraction, seed);
            System.err.printf("cohort %s: %d training and %d validation images (%s)%n", cohort, data.train().size(),
                    data.validation().size(), data.splitSource());
            if (runId != null) {
                TrainingService.checkManifest(runId, service.provenanceOf(runId), data);
            }
            if (runId == null) {
                runId = service.createRun(data.cohortId(), seed, provenance(arguments, data), actor);
            }
            runFolder = Workspace.root().resolve("runs").resolve(Long.toString(runId));
            if (resume != null && Files.notExists(runFolder.resolve("checkpoint.zip"))) {
                System.err.println("run " + runId + " has no checkpoint (no epoch had finished); training starts from epoch 1");
            }
            PreparedImageCache cache = new PreparedImageCache(Workspace.root().resolve("cache").resolve("prepared"), 1L << 30);
            GraderTrainer trainer = new GraderTrainer(config, cache, System.err);
            long id = runId;
            System.err.println("run " + runId + ": training " + config.variant() + " at " + resolution + " px for " + epochs
                    + (epochs == 1 ? " epoch" : " epochs") + "; folder " + runFolder);
            GraderTrainer.Result result = trainer.train(data.train(), data.validation(), runFolder,
                    epoch -> service.recordEpoch(id, epoch));
            String bestSha = ContentStore.sha256(Files.readAllBytes(result.bestWeights()));
            long parameters = org.retinagrade.model.EfficientNetV2.countParameters(EfficientNetV2Config.named(variant), 5);
            service.finishRun(runId, "succeeded", null, result, result.bestWeights(), bestSha, parameters, actor);
            System.out.printf(Locale.ROOT, "run %d succeeded: best epoch %d, validation quadratic kappa %.4f,"
                    + " final weights SHA-256 %s (of the parameter values)%n", runId, result.bestEpoch(), result.bestKappa(),
                    result.weightsSha256());
            return 0;
        } catch (IllegalArgumentException | CommandLine.ParameterException e) {
            System.err.println("retinagrade train: " + e.getMessage());
            if (runId != null && (resume == null || resumed)) {
                service.finishRun(runId, "failed", e.getMessage(), null, null, null, 0, actor);
            }
            return 2;
        } catch (GraderTrainer.Interrupted e) {
            System.err.println("retinagrade train: " + e.getMessage());
            service.finishRun(runId, "interrupted", e.getMessage(), null, null, null, 0, actor);
            System.err.println("run " + runId + " is interrupted; continue with: retinagrade train --resume " + runId);
            return 130;
        } catch (IOException | RuntimeException e) {
            System.err.println("retinagrade train: training failed: " + e);
            if (runId != null) {
                service.finishRun(runId, "failed", e.toString(), null, null, null, 0, actor);
                if (Files.exists(Workspace.root().resolve("runs").resolve(Long.toString(runId)).resolve("checkpoint.zip"))) {
                    System.err.println("the checkpoint of the last finished epoch is kept; continue with:"
                            + " retinagrade train --resume " + runId);
                }
            }
            return 1;
        }
    }

    TrainingConfig config() {
        EfficientNetV2Config.named(variant);
        if (resolution < 32 || resolution > 1024) {
            throw new IllegalArgumentException("invalid --resolution " + resolution + ": expected 32 to 1024 pixels");
        }
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("invalid --validation-fraction " + validationFraction + ": expected above 0 and below 1");
        }
        if (focalAlpha != null && focalAlpha.length != 5) {
            throw new IllegalArgumentException("invalid --focal-alpha " + Arrays.toString(focalAlpha) + ": expected 5 values, one per grade");
        }
        EpochSampler.Kind samplerKind = switch (sampler.toLowerCase(Locale.ROOT)) {
            case "shuffle" -> EpochSampler.Kind.SHUFFLE;
            case "balanced" -> EpochSampler.Kind.BALANCED;
            default -> throw new IllegalArgumentException("invalid --sampler '" + sampler + "': expected shuffle or balanced");
        };
        AugmentationPipeline pipeline = switch (augment.toLowerCase(Locale.ROOT)) {
            case "standard" -> AugmentationPipeline.standardTraining(resolution);
            case "none" -> new AugmentationPipeline(List.of());
            default -> throw new IllegalArgumentException("invalid --augment '" + augment + "': expected standard or none");
        };
        List<TrainingConfig.Unfreeze> steps = new ArrayList<>();
        for (String step : unfreeze) {
            String[] parts = step.split(":");
            try {
                steps.add(new TrainingConfig.Unfreeze(Integer.parseInt(parts[0]),
                        parts[1].equalsIgnoreCase("all") ? -1 : Integer.parseInt(parts[1])));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("invalid --unfreeze step '" + step + "': expected EPOCH:STAGES such as 5:3 or 10:all");
            }
        }
        return new TrainingConfig(variant, 5, new PreprocessConfig(resolution, benGraham, clahe, 2.0, 8), pipeline, epochs,
                batchSize, drawsPerEpoch, samplerKind, featureLearningRate, classifierLearningRate, weightDecay, warmupEpochs,
                0.01, clipNorm, focalGamma, focalAlpha, labelSmoothing, freezeFeatures, steps, earlyStopping, seed, threads,
                pretrained, accumulate, null, null);
    }

    private Map<String, Object> provenance(String[] arguments, TrainingService.Dataset data) {
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("command", "train");
        provenance.put("arguments", List.of(arguments));
        provenance.put("cohort", cohort);
        provenance.put("data_manifest_sha256", data.manifestSha256());
        provenance.put("split", data.splitSource());
        provenance.put("train_images", data.train().size());
        provenance.put("validation_images", data.validation().size());
        provenance.put("seed", seed);
        provenance.put("model", Map.of("variant", variant, "resolution", resolution, "classes", 5,
                "ben_graham", benGraham, "clahe", clahe, "batch_size", batchSize));
        provenance.put("validation_fraction", validationFraction);
        provenance.put("threads", Map.of("libtorch_intra_op", threads, "libtorch_inter_op", 1, "image_preparation", 0));
        provenance.put("code_version", CodeVersion.describe());
        provenance.put("libraries", CodeVersion.libraries());
        return provenance;
    }
}
