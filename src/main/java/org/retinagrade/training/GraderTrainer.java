package org.retinagrade.training;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.jboss.logging.Logger;
import org.opencv.core.Mat;
import org.retinagrade.AtomicFiles;
import org.retinagrade.evaluation.Kappa;
import org.retinagrade.evaluation.TtaPredictor;
import org.retinagrade.evaluation.TtaTransform;
import org.retinagrade.imaging.PreparedImageCache;
import org.retinagrade.imaging.augment.AugmentationPipeline;
import org.retinagrade.imaging.augment.SampleRandom;
import org.retinagrade.model.EfficientNetV2;
import org.retinagrade.model.EfficientNetV2Config;
import org.retinagrade.model.WeightImport;

/**
 * Trains an EfficientNetV2 grader: per-sample seeded augmentation, focal loss, AdamW with
 * separate feature and classifier learning rates and no weight decay on BatchNorm and
 * biases, linear warm-up then cosine decay, clipping by global gradient norm, progressive
 * unfreezing, validation quadratic kappa every epoch, early stopping, and an atomic
 * checkpoint after every epoch from which {@link #train} resumes.
 *
 * <p>Reproducibility: the engine's random generator (dropout, stochastic depth) is seeded
 * from (seed, epoch) at the start of every epoch, the sample order and augmentation come
 * from (seed, epoch, index), and libtorch's thread count is fixed by the caller before the
 * engine loads; so the same data, settings and thread count give the same losses and
 * weights on CPU, whether or not the run was interrupted and resumed. Image preparation
 * runs on the training thread between steps: at about 1 % of the step time it costs less
 * than the slowdown that a concurrent thread causes libtorch on a machine with few cores.
 * Not thread-safe: one instance trains one model at a time.
 */
public class GraderTrainer {

    private static final Logger LOG = Logger.getLogger(GraderTrainer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Metrics of one finished epoch. */
    public record EpochResult(int epoch, double trainLoss, double validationLoss, double validationKappa,
            double validationAccuracy, double learningRate, double imagesPerSecond, int trainableTensors) {
    }

    /** Receives each finished epoch, for storage and display. */
    public interface Listener {
        void epochFinished(EpochResult result);
    }

    /** Outcome of a finished training run: history, best epoch and kappa, weights hash and file. */
    public record Result(List<EpochResult> history, int bestEpoch, double bestKappa, String weightsSha256,
            Path bestWeights, boolean stoppedEarly) {
    }

    /**
     * Raised when training stops before its end: after a given epoch (the test hook that acts
     * as a kill would), or before a step once a stop is requested ({@link StopRequest}).
     */
    public static final class Interrupted extends RuntimeException {
        public Interrupted(int epoch) {
            super("training stopped after epoch " + epoch + " by request");
        }

        Interrupted(int epoch, long step, long steps) {
            super("training stopped by request during epoch " + epoch + " (before step " + (step + 1) + " of " + steps + "); "
                    + (epoch > 1 ? "the checkpoint of epoch " + (epoch - 1) + " is kept" : "no epoch had finished"));
        }
    }

    private final TrainingConfig config;
    private final PreparedImageCache cache;
    private final PrintStream progress;
    private int stopAfterEpoch = -1;

    public GraderTrainer(TrainingConfig config, PreparedImageCache cache, PrintStream progress) {
        this.config = config;
        this.cache = cache;
        this.progress = progress;
    }

    /** Test hook: throw {@link Interrupted} right after the checkpoint of this epoch is written. */
    public void stopAfterEpoch(int epoch) {
        this.stopAfterEpoch = epoch;
    }

    /**
     * Trains, or resumes from {@code runFolder/checkpoint.zip} when it exists, and writes the
     * best weights to {@code runFolder/best.params}.
     */
    public Result train(List<Sample> trainSet, List<Sample> validationSet, Path runFolder, Listener listener)
            throws IOException {
        if (trainSet.size() < 2) {
            throw new IllegalArgumentException("training set has " + trainSet.size() + " gradable images; at least 2 are needed");
        }
        Files.createDirectories(runFolder);
        List<byte[]> preparedTrain = prepareAll(trainSet, "training");
        List<byte[]> validationImages = prepareAll(validationSet, "validation");
        // Ungradable images leave the training set here, so that sampling and the schedule count only usable ones.
        List<Sample> usableTrain = new ArrayList<>();
        List<byte[]> trainImages = new ArrayList<>();
        for (int i = 0; i < trainSet.size(); i++) {
            if (preparedTrain.get(i) != null) {
                usableTrain.add(trainSet.get(i));
                trainImages.add(preparedTrain.get(i));
            }
        }
        if (usableTrain.size() < 2) {
            throw new IllegalArgumentException("training set has " + usableTrain.size() + " gradable images of "
                    + trainSet.size() + "; at least 2 are needed");
        }
        int resolution = config.preprocess().resolution();

        Engine.getInstance().setRandomSeed((int) SampleRandom.forSample(config.seed(), 0, -2).nextLong());
        EfficientNetV2 network = new EfficientNetV2(EfficientNetV2Config.named(config.variant()), config.classes());
        // The engine's default device is a GPU when a CUDA build of libtorch is present, else the CPU.
        try (Model model = Model.newInstance("grader", Engine.getInstance().defaultDevice())) {
            model.setBlock(network);
            int draws = config.drawsPerEpoch() > 0 ? config.drawsPerEpoch() : usableTrain.size();
            if (config.sampler() == EpochSampler.Kind.SHUFFLE && draws > usableTrain.size()) {
                // A shuffle is a permutation, so it cannot draw more images than the training set has.
                progress.printf("note: %d draws per epoch requested, but the shuffle sampler draws each of the %d training"
                        + " images once; use the balanced sampler to draw with replacement%n", draws, usableTrain.size());
                draws = usableTrain.size();
            }
            long stepsPerEpoch = optimizerStepsPerEpoch(draws, config.batchSize(), config.accumulationSteps());
            long totalSteps = stepsPerEpoch * config.epochs();
            LearningRateSchedule schedule = new LearningRateSchedule(
                    Math.min(totalSteps, Math.round(config.warmupEpochs() * stepsPerEpoch)), totalSteps,
                    config.finalLearningRateFactor());
            FocalLoss loss = new FocalLoss(config.focalGamma(), config.focalAlpha(), config.labelSmoothing());

            Map<String, AdamWGroups.ParameterGroup> groups = parameterGroups(network);
            AdamWGroups optimizer = new AdamWGroups(groups, schedule::factor, (float) config.weightDecay(), 0.9f, 0.999f, 1e-8f);
            // Weights are loaded before the trainer exists, because its parameter store caches the
            // arrays it first reads and loading a checkpoint replaces them.
            Shape inputShape = new Shape(config.batchSize(), 3, resolution, resolution);
            network.initialize(model.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, inputShape);
            RunState state = RunState.fresh();
            Path checkpoint = runFolder.resolve("checkpoint.zip");
            Map<String, byte[]> saved = null;
            if (Files.exists(checkpoint)) {
                saved = readCheckpoint(checkpoint);
                loadCheckpointWeights(checkpoint, saved, network, model.getNDManager());
            } else if (config.pretrained() != null) {
                WeightImport.Result imported = WeightImport.load(network, config.pretrained(), model.getNDManager());
                progress.printf("loaded %d pretrained tensors from %s%s%n", imported.loaded(), config.pretrained(),
                        imported.classifierReplaced() ? " (new classifier)" : "");
            }
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(loss).optOptimizer(optimizer)
                    .optDevices(new Device[] {model.getNDManager().getDevice()}))) {
                trainer.initialize(inputShape);
                if (saved != null) {
                    state = loadCheckpointState(saved, optimizer, model.getNDManager());
                    progress.printf("resuming after epoch %d from %s%n", state.epoch, checkpoint);
                }

                EfficientNetV2 teacher = config.distillation() == null ? null : loadTeacher(model.getNDManager(), inputShape);
                EpochSampler sampler = EpochSampler.of(config.sampler(), usableTrain, config.classes(), draws, config.seed());
                Path bestWeights = runFolder.resolve("best.params");
                boolean stoppedEarly = false;
                for (int epoch = state.epoch + 1; epoch <= config.epochs(); epoch++) {
                    if (config.earlyStoppingPatience() > 0 && state.epochsWithoutImprovement >= config.earlyStoppingPatience()) {
                        // A run stopped right after the epoch that exhausted the patience resumes here.
                        stoppedEarly = true;
                        break;
                    }
                    Engine.getInstance().setRandomSeed((int) SampleRandom.forSample(config.seed(), epoch, -3).nextLong());
                    int trainable = applyFreezing(network, epoch);
                    int stageResolution = resolution;
                    AugmentationPipeline stagePipeline = config.augmentation();
                    TrainingConfig.Progressive progressive = config.progressive();
                    if (progressive != null) {
                        int stage = progressive.stageOf(epoch, config.epochs());
                        stageResolution = progressive.resolution(stage, resolution);
                        double magnitude = progressive.magnitude(stage);
                        float dropout = progressive.dropout(stage, network.config().dropout());
                        network.setDropoutRate(dropout);
                        stagePipeline = config.augmentation().forStage(stageResolution, magnitude);
                        progress.printf(Locale.ROOT, "epoch %d: progressive stage %d of %d, %d px, dropout %.2f, augmentation"
                                + " magnitude %.2f%n", epoch, stage + 1, progressive.stages(), stageResolution, dropout, magnitude);
                    }
                    double[] trainStats = trainEpoch(trainer, optimizer, network, teacher, sampler.indices(epoch), usableTrain,
                            trainImages, epoch, stepsPerEpoch, state, stageResolution, stagePipeline);
                    double[] validation = validate(model, network, validationSet, validationImages, loss);
                    EpochResult result = new EpochResult(epoch, trainStats[0], validation[0], validation[1], validation[2],
                            optimizer.learningRate(config.featureLearningRate()), trainStats[1], trainable);
                    state.history.add(result);
                    printEpoch(result);

                    double kappa = result.validationKappa();
                    boolean improved = !Double.isNaN(kappa) && (Double.isNaN(state.bestKappa) || kappa > state.bestKappa);
                    if (improved || (Double.isNaN(kappa) && Double.isNaN(state.bestKappa))) {
                        // While validation cannot be scored (empty, ungradable or a single grade), the latest
                        // weights count as the best, and such epochs do not count toward early stopping.
                        state.bestEpoch = epoch;
                        state.bestKappa = kappa;
                        state.epochsWithoutImprovement = 0;
                        AtomicFiles.write(bestWeights, parameterBytes(network), false);
                    } else if (!Double.isNaN(kappa)) {
                        state.epochsWithoutImprovement++;
                    }
                    state.epoch = epoch;
                    saveCheckpoint(checkpoint, state, network, optimizer, model.getNDManager());
                    listener.epochFinished(result);
                    if (epoch == stopAfterEpoch) {
                        throw new Interrupted(epoch);
                    }
                    if (config.earlyStoppingPatience() > 0 && state.epochsWithoutImprovement >= config.earlyStoppingPatience()) {
                        progress.printf("early stopping: validation kappa has not improved for %d epochs%n",
                                state.epochsWithoutImprovement);
                        stoppedEarly = true;
                        break;
                    }
                }
                return new Result(List.copyOf(state.history), state.bestEpoch, state.bestKappa, weightsSha256(network),
                        bestWeights, stoppedEarly);
            }
        }
    }

    /** Optimiser steps per epoch: each takes {@code accumulation} batches of {@code batchSize} draws; at least 1. */
    static long optimizerStepsPerEpoch(int draws, int batchSize, int accumulation) {
        return Math.max(1, draws / ((long) batchSize * accumulation));
    }

    private List<byte[]> prepareAll(List<Sample> samples, String role) throws IOException {
        return PreparedImages.prepareAll(samples, config.preprocess(), cache, progress, role);
    }

    private Map<String, AdamWGroups.ParameterGroup> parameterGroups(EfficientNetV2 network) {
        Map<String, AdamWGroups.ParameterGroup> groups = new HashMap<>();
        for (Map.Entry<String, Parameter> entry : network.torchNames().entrySet()) {
            Parameter p = entry.getValue();
            double lr = entry.getKey().startsWith("classifier.") ? config.classifierLearningRate() : config.featureLearningRate();
            groups.put(p.getId(), new AdamWGroups.ParameterGroup(entry.getKey(), lr, decays(p)));
        }
        return groups;
    }

    private static boolean decays(Parameter parameter) {
        // Convolution and linear weights are the only WEIGHT parameters; BatchNorm has GAMMA and BETA.
        return parameter.getType() == Parameter.Type.WEIGHT;
    }

    /**
     * Freezes or unfreezes the feature blocks for the epoch and returns the number of
     * trainable tensors. The classifier always trains.
     */
    int applyFreezing(EfficientNetV2 network, int epoch) {
        List<Block> features = network.features();
        int trainableFeatures = config.freezeFeatures() ? 0 : features.size();
        for (TrainingConfig.Unfreeze step : config.unfreeze()) {
            if (epoch >= step.epoch()) {
                int count = step.stages() < 0 ? features.size() : Math.min(features.size(), step.stages() + 1);
                trainableFeatures = Math.max(trainableFeatures, count);
            }
        }
        int trainable = 0;
        for (int i = 0; i < features.size(); i++) {
            boolean train = i >= features.size() - trainableFeatures;
            for (Parameter p : features.get(i).getParameters().values()) {
                if (p.getType() == Parameter.Type.RUNNING_MEAN || p.getType() == Parameter.Type.RUNNING_VAR) {
                    continue;
                }
                p.freeze(!train);
                if (train) {
                    trainable++;
                }
            }
        }
        return trainable + network.classifier().getParameters().size();
    }

    /** Loads the teacher's weights into a frozen network that only runs in inference mode. */
    private EfficientNetV2 loadTeacher(NDManager manager, Shape inputShape) throws IOException {
        Distillation distillation = config.distillation();
        EfficientNetV2 teacher = new EfficientNetV2(EfficientNetV2Config.named(distillation.teacherVariant()), config.classes());
        teacher.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, inputShape);
        try (DataInputStream in = new DataInputStream(Files.newInputStream(distillation.teacherWeights()))) {
            teacher.loadParameters(manager, in);
        } catch (ai.djl.MalformedModelException e) {
            throw new IOException("invalid teacher weights " + distillation.teacherWeights() + ": " + e.getMessage(), e);
        }
        teacher.freezeParameters(true);
        progress.printf("distilling from %s (EfficientNetV2-%s), temperature %.1f, alpha %.2f%n", distillation.teacherWeights(),
                distillation.teacherVariant(), distillation.temperature(), distillation.alpha());
        return teacher;
    }

    private double[] trainEpoch(Trainer trainer, AdamWGroups optimizer, EfficientNetV2 network, EfficientNetV2 teacher, int[] order,
            List<Sample> samples, List<byte[]> images, int epoch, long stepsPerEpoch, RunState state, int resolution,
            AugmentationPipeline pipeline) {
        int prepared = config.preprocess().resolution();
        int plane = 3 * resolution * resolution;
        NDManager manager = trainer.getManager();
        double lossSum = 0;
        int lossCount = 0;
        long started = System.nanoTime();
        int imagesSeen = 0;
        int position = 0;
        int accumulation = config.accumulationSteps();
        for (long step = 0; step < stepsPerEpoch; step++) {
            if (StopRequest.requested()) {
                throw new Interrupted(epoch, step, stepsPerEpoch);
            }
            int batchesInStep = 0;
            for (int micro = 0; micro < accumulation; micro++) {
                List<Integer> batch = new ArrayList<>();
                while (batch.size() < config.batchSize() && position < order.length) {
                    int index = order[position++];
                    if (images.get(index) != null) {
                        batch.add(index);
                    }
                }
                if (batch.size() < 2) {
                    // BatchNorm needs two samples; a last batch of one is left out.
                    break;
                }
                float[] data = new float[batch.size() * plane];
                float[] labels = new float[batch.size()];
                for (int b = 0; b < batch.size(); b++) {
                    int index = batch.get(b);
                    Mat rgb = new Mat(prepared, prepared, org.opencv.core.CvType.CV_8UC3);
                    rgb.put(0, 0, images.get(index));
                    if (resolution != prepared) {
                        Mat smaller = org.retinagrade.imaging.Preprocessor.resize(rgb, resolution);
                        rgb.release();
                        rgb = smaller;
                    }
                    float[] tensor = pipeline.applyNormalized(rgb, config.seed(), epoch, index);
                    rgb.release();
                    System.arraycopy(tensor, 0, data, b * plane, plane);
                    labels[b] = samples.get(index).label();
                }
                try (NDScope scope = new NDScope()) {
                    NDArray x = manager.create(FloatBuffer.wrap(data), new Shape(batch.size(), 3, resolution, resolution));
                    NDArray y = manager.create(labels);
                    NDArray teacherLogits = teacher == null ? null
                            : teacher.forward(new ai.djl.training.ParameterStore(manager, false), new NDList(x), false).singletonOrThrow();
                    try (GradientCollector collector = trainer.newGradientCollector()) {
                        NDList predictions = trainer.forward(new NDList(x));
                        NDArray value = trainer.getLoss().evaluate(new NDList(y), predictions);
                        if (teacherLogits != null) {
                            value = config.distillation().combine(value, predictions.singletonOrThrow(), teacherLogits);
                        }
                        // libtorch adds the gradients of the batches of one step; each contributes its share of the mean.
                        collector.backward(accumulation == 1 ? value : value.div(accumulation));
                        lossSum += value.getFloat() * batch.size();
                        lossCount += batch.size();
                    }
                }
                imagesSeen += batch.size();
                batchesInStep++;
            }
            if (batchesInStep == 0) {
                break;
            }
            if (batchesInStep < accumulation) {
                // Each batch added 1/accumulation of its gradient; a short last step is rescaled to a mean.
                float rescale = (float) accumulation / batchesInStep;
                for (ai.djl.nn.Parameter parameter : network.getParameters().values()) {
                    NDArray weight = parameter.getArray();
                    if (parameter.requiresGradient() && weight.hasGradient()) {
                        try (NDArray gradient = weight.getGradient()) {
                            gradient.muli(rescale);
                        }
                    }
                }
            }
            state.globalStep++;
            optimizer.setStep(state.globalStep);
            try (NDScope scope = new NDScope()) {
                if (config.clipNorm() > 0) {
                    GradientClipping.clipByGlobalNorm(network.getParameters().values(), config.clipNorm());
                }
                optimizer.step(network);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            double secondsPerStep = seconds / (step + 1);
            long stepsLeftInEpoch = stepsPerEpoch - step - 1;
            printStep(epoch, step + 1, stepsPerEpoch, lossSum / lossCount, optimizer.learningRate(config.featureLearningRate()),
                    optimizer.learningRate(config.classifierLearningRate()), imagesSeen / seconds, secondsPerStep * stepsLeftInEpoch,
                    secondsPerStep * (stepsLeftInEpoch + (config.epochs() - epoch) * stepsPerEpoch));
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        return new double[] {lossCount == 0 ? Double.NaN : lossSum / lossCount, imagesSeen / seconds};
    }

    /**
     * Returns {negative log-likelihood of the reference grade, quadratic kappa, accuracy} on the
     * validation set; NaN when it is empty. The NLL is plain cross-entropy, whatever the training loss.
     */
    private double[] validate(Model model, EfficientNetV2 network, List<Sample> samples, List<byte[]> images, FocalLoss loss) {
        List<Integer> usable = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            if (images.get(i) != null) {
                usable.add(i);
            }
        }
        if (usable.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        float[][] probabilities = new TtaPredictor(network, model.getNDManager(), config.preprocess().resolution(),
                config.batchSize()).predict(usable.stream().map(images::get).toList(), List.of(TtaTransform.IDENTITY),
                        TtaPredictor.Combine.MEAN_PROBABILITIES).probabilities();
        int[] truth = new int[usable.size()];
        int[] predicted = new int[usable.size()];
        double lossSum = 0;
        int correct = 0;
        for (int k = 0; k < usable.size(); k++) {
            truth[k] = samples.get(usable.get(k)).label();
            predicted[k] = argmax(probabilities[k]);
            lossSum += -Math.log(Math.max(1e-12, probabilities[k][truth[k]]));
            if (truth[k] == predicted[k]) {
                correct++;
            }
        }
        return new double[] {lossSum / usable.size(), Kappa.quadratic(truth, predicted, config.classes()),
                correct / (double) usable.size()};
    }

    private static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Prints the progress line. The learning rates are those of the features and of the
     * classifier. The run's ETA counts training steps only, at this epoch's rate, so
     * validation and early stopping make the actual time longer or shorter.
     */
    private void printStep(int epoch, long step, long steps, double loss, double featureRate, double classifierRate, double rate,
            double epochSeconds, double runSeconds) {
        String line = String.format(Locale.ROOT, "epoch %d/%d  step %d/%d  loss %.4f  lr %.2e/%.2e  %.1f img/s"
                + "  ETA epoch %s, run %s", epoch, config.epochs(), step, steps, loss, featureRate, classifierRate, rate,
                formatDuration(epochSeconds), formatDuration(runSeconds));
        if (System.console() != null) {
            progress.print("\r" + line + "   ");
            if (step == steps) {
                progress.println();
            }
        } else if (step == steps || step % 10 == 0) {
            progress.println(line);
        }
    }

    private void printEpoch(EpochResult r) {
        progress.printf(Locale.ROOT, "epoch %d/%d done: train loss %.4f, validation NLL %.4f, quadratic kappa %.4f,"
                + " accuracy %.3f, %.1f img/s%n", r.epoch(), config.epochs(), r.trainLoss(), r.validationLoss(),
                r.validationKappa(), r.validationAccuracy(), r.imagesPerSecond());
    }

    private static String formatDuration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return String.format(Locale.ROOT, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }

    /** Serialised parameters of the network, in DJL's format. */
    static byte[] parameterBytes(Block network) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            network.saveParameters(out);
        }
        return bytes.toByteArray();
    }

    /** SHA-256 over every parameter's values in torchvision state-dict order. */
    public static String weightsSha256(EfficientNetV2 network) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Parameter parameter : network.torchNames().values()) {
                digest.update(parameter.getArray().toByteArray());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Loop position and history that a checkpoint keeps. */
    static final class RunState {
        int epoch;
        long globalStep;
        int bestEpoch;
        double bestKappa = Double.NaN;
        int epochsWithoutImprovement;
        List<EpochResult> history = new ArrayList<>();

        static RunState fresh() {
            return new RunState();
        }
    }

    private void saveCheckpoint(Path file, RunState state, EfficientNetV2 network, AdamWGroups optimizer, NDManager manager)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("state.json"));
            Map<String, Object> json = new HashMap<>();
            json.put("epoch", state.epoch);
            json.put("globalStep", state.globalStep);
            json.put("bestEpoch", state.bestEpoch);
            json.put("bestKappa", Double.isNaN(state.bestKappa) ? null : state.bestKappa);
            json.put("epochsWithoutImprovement", state.epochsWithoutImprovement);
            json.put("history", state.history);
            zip.write(JSON.writeValueAsBytes(json));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("model.params"));
            zip.write(parameterBytes(network));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("optimizer.npz"));
            try (NDList optimizerState = optimizer.state(manager)) {
                zip.write(optimizerState.encode(NDList.Encoding.NPZ));
            }
            zip.closeEntry();
        }
        AtomicFiles.write(file, bytes.toByteArray(), false);
    }

    private static Map<String, byte[]> readCheckpoint(Path file) throws IOException {
        Map<String, byte[]> entries = new HashMap<>();
        try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry entry;
            while ((entry = zip.getNextEntry()) != null) {
                entries.put(entry.getName(), zip.readAllBytes());
            }
        }
        for (String required : List.of("state.json", "model.params", "optimizer.npz")) {
            if (!entries.containsKey(required)) {
                throw new IOException("invalid checkpoint " + file + ": entry " + required
                        + " is missing; delete the file to start the run again");
            }
        }
        return entries;
    }

    private static void loadCheckpointWeights(Path file, Map<String, byte[]> entries, EfficientNetV2 network,
            NDManager manager) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entries.get("model.params")))) {
            network.loadParameters(manager, in);
        } catch (ai.djl.MalformedModelException e) {
            throw new IOException("invalid checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    private static RunState loadCheckpointState(Map<String, byte[]> entries, AdamWGroups optimizer, NDManager manager)
            throws IOException {
        optimizer.restore(NDList.decode(manager, entries.get("optimizer.npz")));

        var json = JSON.readTree(entries.get("state.json"));
        RunState state = new RunState();
        state.epoch = json.get("epoch").asInt();
        state.globalStep = json.get("globalStep").asLong();
        state.bestEpoch = json.get("bestEpoch").asInt();
        state.bestKappa = json.get("bestKappa").isNull() ? Double.NaN : json.get("bestKappa").asDouble();
        state.epochsWithoutImprovement = json.get("epochsWithoutImprovement").asInt();
        for (var item : json.get("history")) {
            state.history.add(JSON.treeToValue(item, EpochResult.class));
        }
        return state;
    }

}
