package org.retinagrade.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.retinagrade.CliRunner;
import org.retinagrade.TestDatabase;
import org.retinagrade.cli.RerunCommand;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.training.GraderTrainer;
import picocli.CommandLine;

/** A tiny phantom protocol end to end, its rerun, and a run stopped during training and resumed. */
@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class StudyRunTest {

    private static final Path ROOT = Path.of("target", "study-run-test").toAbsolutePath();

    @Inject
    StudyRunner runner;

    @Inject
    CommandLine.IFactory factory;

    private static Path writeProtocol(String cohort) throws Exception {
        Path protocol = ROOT.resolve(cohort + ".yaml");
        Files.writeString(protocol, String.join("\n",
                "name: " + cohort,
                "cohort:",
                "  name: " + cohort,
                "  source: {kind: kaggle-csv, path: phantom}",
                "split: {train: 0.6, validation: 0.2, test: 0.2, seed: 5}",
                "preprocessing: {resolution: 64}",
                "augmentation:",
                "  - {type: horizontal-flip}",
                "  - {type: rotation, degrees: 180}",
                "model: {variant: small}",
                "training: {epochs: 3, batch_size: 4, lr_features: 0.002, lr_classifier: 0.003, seed: 9, threads: 2}",
                "evaluation: {tta: [identity, hflip], bootstrap: 100}",
                ""));
        return protocol;
    }

    private static synchronized void phantom() throws Exception {
        if (!Files.exists(ROOT.resolve("phantom/trainLabels.csv"))) {
            TestDatabase.deleteRecursively(ROOT);
            new FundusPhantom(96).writeStudy(ROOT.resolve("phantom"), 5, 61);
        }
    }

    @Test
    void dicomFolderProtocolRunsEndToEnd() throws Exception {
        phantom();
        Path dicom = ROOT.resolve("phantom-dicom");
        CliRunner.Result wrapped = CliRunner.run(factory, "dicom", "from-image", ROOT.resolve("phantom").toString(),
                "--out", dicom.toString());
        assertEquals(0, wrapped.exitCode(), wrapped.err());
        Path protocol = ROOT.resolve("study-dicom.yaml");
        Files.writeString(protocol, String.join("\n",
                "name: study-dicom",
                "cohort:",
                "  name: study-dicom",
                "  source: {kind: dicom-folder, path: phantom-dicom, labels: phantom-dicom/labels.csv}",
                "split: {train: 0.6, validation: 0.2, test: 0.2, seed: 5}",
                "preprocessing: {resolution: 64}",
                "model: {variant: small}",
                "training: {epochs: 1, batch_size: 4, seed: 9, threads: 2}",
                "evaluation: {tta: [identity], bootstrap: 50}",
                ""));
        CliRunner.Result run = CliRunner.run(factory, "run", protocol.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("ingest DICOM files in"), run.err());
        assertTrue(run.err().contains("read 25, stored 25"), run.err());
        assertTrue(run.err().contains("[5/5] write the report"), run.err());
    }

    @Test
    void protocolRunsEndToEndAndRerunMatches() throws Exception {
        phantom();
        CliRunner.Result first = CliRunner.run(factory, "run", writeProtocol("study-e2e").toString());
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.err().contains("[5/5] write the report"), first.err());
        long runId = Long.parseLong(first.out().replaceAll("(?s).*run (\\d+) succeeded.*", "$1"));
        assertTrue(Files.isRegularFile(TestDatabase.WORKSPACE.resolve("reports/" + runId + "/report.pdf")));

        // A run whose evaluation never happened resumes at the evaluation stage.
        QuarkusTransaction.requiringNew().run(() -> org.retinagrade.evaluation.Prediction.delete("runId", runId));
        CliRunner.Result resumedAtEvaluation = CliRunner.run(factory, "run", "--resume", Long.toString(runId));
        assertEquals(0, resumedAtEvaluation.exitCode(), resumedAtEvaluation.err());
        assertTrue(resumedAtEvaluation.err().contains("at evaluation (training is done)"), resumedAtEvaluation.err());

        CliRunner.Result runs = CliRunner.run(factory, "runs");
        assertTrue(runs.out().contains("study-e2e"), runs.out());

        CliRunner.Result rerun = CliRunner.run(factory, "rerun", Long.toString(runId));
        assertEquals(0, rerun.exitCode(), rerun.out() + rerun.err());
        assertTrue(rerun.out().contains("reproduces run " + runId), rerun.out());

        Path otherSplit = ROOT.resolve("study-e2e-other-split.yaml");
        Files.writeString(otherSplit, Files.readString(writeProtocol("study-e2e")).replace("train: 0.6, validation: 0.2", "train: 0.4, validation: 0.4"));
        long jobsBefore = QuarkusTransaction.requiringNew().call(() -> org.retinagrade.ingest.IngestJob.count());
        CliRunner.Result conflict = CliRunner.run(factory, "run", otherSplit.toString());
        assertEquals(2, conflict.exitCode(), conflict.out());
        assertTrue(conflict.err().contains("already has a split assignment"), conflict.err());
        assertEquals(jobsBefore, (long) QuarkusTransaction.requiringNew().call(() -> org.retinagrade.ingest.IngestJob.count()),
                "the ingest ran before the split conflict was found");
    }

    @Test
    void stoppedRunResumesAndMatches() throws Exception {
        phantom();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        StudyRunner.Result uninterrupted = runner.run(ProtocolLoader.load(writeProtocol("study-full"), null), "tester", quiet);

        runner.stopAfterEpoch(1);
        try {
            assertThrows(GraderTrainer.Interrupted.class,
                    () -> runner.run(ProtocolLoader.load(writeProtocol("study-stopped"), null), "tester", quiet));
        } finally {
            runner.stopAfterEpoch(-1);
        }
        long stoppedId = QuarkusTransaction.requiringNew().call(() ->
                Run.<Run>find("status = 'interrupted' ORDER BY id DESC").firstResult().id);
        StudyRunner.Result resumed = runner.resume(stoppedId, "tester", quiet);

        assertEquals(uninterrupted.bestWeightsSha256(), resumed.bestWeightsSha256(), "best weights differ after resume");
        RerunCommand.Comparison comparison = RerunCommand.compare(uninterrupted.runId(), resumed.runId());
        assertTrue(comparison.identical(), comparison.summary());
    }

    @Test
    void invalidProtocolWritesNothing() throws Exception {
        phantom();
        Path bad = ROOT.resolve("bad.yaml");
        Files.writeString(bad, "name: bad\ncohort: {name: bad, source: {kind: kaggle-csv, path: phantom}}\n"
                + "split: {train: 0.6, validation: 0.2, test: 0.2}\nmodel: {variant: small}\ntraining: {epochs: 0}\n");
        long runsBefore = QuarkusTransaction.requiringNew().call(() -> Run.count());
        CliRunner.Result result = CliRunner.run(factory, "run", bad.toString());
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("training.epochs (line 5)"), result.err());
        assertEquals(runsBefore, (long) QuarkusTransaction.requiringNew().call(() -> Run.count()));
        assertTrue(QuarkusTransaction.requiringNew().call(() -> Cohort.findByName("bad")) == null, "a cohort was created");
    }
}
