package org.retinagrade.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.imaging.PreparedImageCache;
import org.retinagrade.ingest.ContentStore;
import org.retinagrade.model.EfficientNetV2;
import org.retinagrade.model.EfficientNetV2Config;

/** Trains the small variant on phantom images at 64 px; each run takes a few seconds on 2 cores. */
class GraderTrainerTest {

    private static final Path ROOT = Path.of("target", "trainer-test").toAbsolutePath();
    private static final List<Sample> TRAIN = new ArrayList<>();
    private static final List<Sample> VALIDATION = new ArrayList<>();

    @BeforeAll
    static void writePhantoms() throws Exception {
        TestDatabase.deleteRecursively(ROOT);
        List<FundusPhantom.Written> written = new FundusPhantom(80).writeStudy(ROOT.resolve("phantom"), 4, 5);
        for (int i = 0; i < written.size(); i++) {
            FundusPhantom.Written w = written.get(i);
            Sample sample = new Sample(i, ContentStore.sha256(Files.readAllBytes(w.file())), w.file(), w.grade());
            (i % 4 == 3 ? VALIDATION : TRAIN).add(sample);
        }
    }

    private static TrainingConfig config(int epochs) {
        TrainingConfig base = TrainingConfig.defaults("small", 64, epochs);
        return new TrainingConfig(base.variant(), 5, base.preprocess(), base.augmentation(), epochs, 5, 0,
                EpochSampler.Kind.BALANCED, 1e-3, 3e-3, 0.05, 1, 0.01, 1.0, 2.0f, null, 0.05f, false, List.of(),
                0, 11, 2, null);
    }

    private static GraderTrainer.Result run(TrainingConfig config, String name, Integer stopAfter) throws Exception {
        PreparedImageCache cache = new PreparedImageCache(ROOT.resolve("cache"), 64 << 20);
        GraderTrainer trainer = new GraderTrainer(config, cache, new PrintStream(new ByteArrayOutputStream()));
        if (stopAfter != null) {
            trainer.stopAfterEpoch(stopAfter);
        }
        List<GraderTrainer.EpochResult> seen = new ArrayList<>();
        return trainer.train(TRAIN, VALIDATION, ROOT.resolve(name), seen::add);
    }

    @Test
    void sameSeedGivesIdenticalLossesAndWeights() throws Exception {
        GraderTrainer.Result first = run(config(2), "determinism-a", null);
        GraderTrainer.Result second = run(config(2), "determinism-b", null);
        assertEquals(2, first.history().size());
        for (int e = 0; e < 2; e++) {
            assertEquals(first.history().get(e).trainLoss(), second.history().get(e).trainLoss(), 0.0, "train loss, epoch " + (e + 1));
            assertEquals(first.history().get(e).validationLoss(), second.history().get(e).validationLoss(), 0.0);
        }
        assertEquals(first.weightsSha256(), second.weightsSha256());

        GraderTrainer.Result otherSeed = run(config(2).withEpochsAndSeed(2, 12), "determinism-c", null);
        assertNotEquals(first.weightsSha256(), otherSeed.weightsSha256());
    }

    @Test
    void resumedRunMatchesUninterruptedRun() throws Exception {
        GraderTrainer.Result uninterrupted = run(config(3), "resume-full", null);
        assertThrows(GraderTrainer.Interrupted.class, () -> run(config(3), "resume-killed", 1));
        assertTrue(Files.exists(ROOT.resolve("resume-killed/checkpoint.zip")));
        GraderTrainer.Result resumed = run(config(3), "resume-killed", null);

        assertEquals(3, resumed.history().size());
        for (int e = 0; e < 3; e++) {
            assertEquals(uninterrupted.history().get(e).trainLoss(), resumed.history().get(e).trainLoss(), 0.0,
                    "train loss, epoch " + (e + 1));
        }
        assertEquals(uninterrupted.weightsSha256(), resumed.weightsSha256());
    }

    @Test
    void stopRequestStopsBeforeNextStep() throws Exception {
        StopRequest.set(true);
        GraderTrainer.Interrupted stopped;
        try {
            stopped = assertThrows(GraderTrainer.Interrupted.class, () -> run(config(2), "stop-request", null));
        } finally {
            StopRequest.set(false);
        }
        assertTrue(stopped.getMessage().startsWith("training stopped by request during epoch 1 (before step 1 of "),
                stopped.getMessage());
        assertTrue(stopped.getMessage().endsWith("); no epoch had finished"), stopped.getMessage());
        assertTrue(Files.notExists(ROOT.resolve("stop-request/checkpoint.zip")), "a checkpoint was written");

        GraderTrainer.Result finished = run(config(2), "stop-request", null);
        assertEquals(2, finished.history().size());
    }

    @Test
    void accumulationHalvesOptimizerSteps() throws Exception {
        assertEquals(3, GraderTrainer.optimizerStepsPerEpoch(15, 5, 1));
        assertEquals(1, GraderTrainer.optimizerStepsPerEpoch(15, 5, 2));
        assertEquals(1, GraderTrainer.optimizerStepsPerEpoch(3, 5, 4), "at least one step");
        GraderTrainer.Result accumulated = run(config(2).withAccumulation(2), "accumulate", null);
        GraderTrainer.Result plain = run(config(2), "accumulate-plain", null);
        assertEquals(2, accumulated.history().size());
        assertTrue(!accumulated.weightsSha256().equals(plain.weightsSha256()), "accumulation changed nothing");
    }

    @Test
    void distillationFromTeacherChangesTraining() throws Exception {
        GraderTrainer.Result teacher = run(config(1), "teacher", null);
        TrainingConfig student = config(1).withDistillation(new Distillation(teacher.bestWeights(), "small", 4f, 0.5f));
        GraderTrainer.Result distilled = run(student, "student", null);
        GraderTrainer.Result alone = run(config(1), "student-alone", null);
        assertEquals(alone.weightsSha256(), teacher.weightsSha256(), "same settings without a teacher must repeat exactly");
        assertTrue(!distilled.weightsSha256().equals(alone.weightsSha256()), "the teacher changed nothing");
        assertTrue(Double.isFinite(distilled.history().get(0).trainLoss()));
    }

    @Test
    void progressiveStagesRaiseSizeDropoutAndMagnitude() throws Exception {
        TrainingConfig.Progressive stages = new TrainingConfig.Progressive(3, 128, 0.1f, 0.3);
        assertEquals(0, stages.stageOf(1, 9));
        assertEquals(1, stages.stageOf(4, 9));
        assertEquals(2, stages.stageOf(9, 9));
        assertEquals(128, stages.resolution(0, 224));
        assertEquals(176, stages.resolution(1, 224));
        assertEquals(224, stages.resolution(2, 224));
        assertEquals(0.2f, stages.dropout(2, 0.2f), 1e-6f);
        assertEquals(0.65, stages.magnitude(1), 1e-12);

        TrainingConfig progressive = config(2).withProgressive(new TrainingConfig.Progressive(2, 48, 0.0f, 0.5));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        GraderTrainer trainer = new GraderTrainer(progressive, new PreparedImageCache(ROOT.resolve("cache"), 64 << 20),
                new PrintStream(log));
        GraderTrainer.Result result = trainer.train(TRAIN, VALIDATION, ROOT.resolve("progressive"), epoch -> { });
        assertEquals(2, result.history().size());
        String printed = log.toString();
        assertTrue(printed.contains("epoch 1: progressive stage 1 of 2, 48 px"), printed);
        assertTrue(printed.contains("epoch 2: progressive stage 2 of 2, 64 px"), printed);
    }

    @Test
    void emptyValidationKeepsLatestWeightsAsBest() throws Exception {
        PreparedImageCache cache = new PreparedImageCache(ROOT.resolve("cache"), 64 << 20);
        GraderTrainer trainer = new GraderTrainer(config(2), cache, new PrintStream(new ByteArrayOutputStream()));
        GraderTrainer.Result result = trainer.train(TRAIN, List.of(), ROOT.resolve("no-validation"), epoch -> { });
        assertEquals(2, result.bestEpoch(), "with nothing to score, the latest epoch is the best");
        assertTrue(Double.isNaN(result.bestKappa()));
    }

    @Test
    void lossFallsOnPhantoms() throws Exception {
        TrainingConfig base = config(8);
        TrainingConfig crossEntropy = new TrainingConfig(base.variant(), 5, base.preprocess(),
                new org.retinagrade.imaging.augment.AugmentationPipeline(List.of()), 8, 5, 0, EpochSampler.Kind.SHUFFLE,
                3e-3, 3e-3, 0.0, 0, 0.1, 0, 0f, null, 0f, false, List.of(), 0, 11, 2, null);
        GraderTrainer.Result result = run(crossEntropy, "learning", null);
        double first = result.history().get(0).trainLoss() + result.history().get(1).trainLoss();
        double last = result.history().get(6).trainLoss() + result.history().get(7).trainLoss();
        assertTrue(last < first, "train loss of the first two epochs " + first / 2 + ", of the last two " + last / 2);
    }

    @Test
    void frozenFeaturesStayUnchangedAndUnfreezeAtEpoch() throws Exception {
        TrainingConfig base = config(1);
        TrainingConfig frozen = new TrainingConfig(base.variant(), 5, base.preprocess(), base.augmentation(), 1, 5, 0,
                EpochSampler.Kind.SHUFFLE, 1e-3, 3e-3, 0.05, 0, 0.01, 1.0, 2.0f, null, 0f, true,
                List.of(new TrainingConfig.Unfreeze(2, 1), new TrainingConfig.Unfreeze(3, -1)), 0, 11, 2, null);
        GraderTrainer trainer = new GraderTrainer(frozen, new PreparedImageCache(ROOT.resolve("cache"), 0),
                new PrintStream(new ByteArrayOutputStream()));
        try (NDManager manager = NDManager.newBaseManager()) {
            EfficientNetV2 network = new EfficientNetV2(EfficientNetV2Config.small(), 5);
            network.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 64, 64));
            int headOnly = trainer.applyFreezing(network, 1);
            assertEquals(2, headOnly, "only the classifier's weight and bias train in epoch 1");
            assertTrue(!network.torchNames().get("features.0.0.weight").requiresGradient());
            int lastStage = trainer.applyFreezing(network, 2);
            assertTrue(lastStage > headOnly);
            Parameter headConv = network.torchNames().get("features.5.0.weight");
            assertTrue(headConv.requiresGradient(), "the final convolution trains once a stage is unfrozen");
            assertTrue(!network.torchNames().get("features.0.0.weight").requiresGradient());
            int all = trainer.applyFreezing(network, 3);
            assertTrue(network.torchNames().get("features.0.0.weight").requiresGradient());
            assertTrue(all > lastStage);
        }

        GraderTrainer.Result result = run(frozen, "frozen", null);
        // The run's best weights hold the stem exactly as initialised: compare with a fresh run's start.
        assertEquals(1, result.history().size());
        assertEquals(2, result.history().get(0).trainableTensors());
    }
}
