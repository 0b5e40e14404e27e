package org.retinagrade.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.retinagrade.CliRunner;
import org.retinagrade.TestDatabase;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.model.ModelArtifact;
import org.retinagrade.study.Run;
import org.retinagrade.study.RunMetric;
import picocli.CommandLine;

@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class TrainCommandTest {

    @Inject
    CommandLine.IFactory factory;

    @Test
    void trainsCohortAndStoresRunMetricsAndWeights() throws Exception {
        Path phantom = Path.of("target", "train-command-test").toAbsolutePath();
        TestDatabase.deleteRecursively(phantom);
        new FundusPhantom(80).writeStudy(phantom, 4, 31);
        CliRunner.Result ingest = CliRunner.run(factory, "ingest", "folder", phantom.toString(), "--cohort", "train-cli",
                "--study", "train-test");
        assertEquals(0, ingest.exitCode(), ingest.err());

        CliRunner.Result result = CliRunner.run(factory, "train", "--cohort", "train-cli", "--resolution", "64",
                "--epochs", "2", "--batch-size", "4", "--augment", "none", "--validation-fraction", "0.3");
        assertEquals(0, result.exitCode(), result.err());
        assertTrue(result.out().contains("succeeded: best epoch"), result.out());
        assertTrue(result.err().contains("epoch 2/2 done: train loss"), result.err());

        Run run = QuarkusTransaction.requiringNew().call(() -> Run.<Run>find("ORDER BY id DESC").firstResult());
        assertEquals("succeeded", run.status);
        assertTrue(run.provenance.contains("data_manifest_sha256"), run.provenance);
        List<RunMetric> metrics = QuarkusTransaction.requiringNew().call(() -> RunMetric.<RunMetric>list("runId", run.id));
        assertEquals(12, metrics.size(), "six metrics for each of two epochs");
        ModelArtifact artifact = QuarkusTransaction.requiringNew().call(() ->
                ModelArtifact.<ModelArtifact>find("runId", run.id).firstResult());
        assertEquals("best-weights", artifact.kind);
        assertTrue(java.nio.file.Files.isRegularFile(TestDatabase.WORKSPACE.resolve(artifact.path)), artifact.path);

        CliRunner.Result finished = CliRunner.run(factory, "train", "--resume", run.id.toString());
        assertEquals(2, finished.exitCode());
        assertTrue(finished.err().contains("already succeeded"), finished.err());

        // A failed run resumes from its checkpoint with its stored arguments.
        QuarkusTransaction.requiringNew().run(() -> Run.update("status = 'failed' where id = ?1", run.id));
        CliRunner.Result resumed = CliRunner.run(factory, "train", "--resume", run.id.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertTrue(resumed.err().contains("resuming after epoch 2"), resumed.err());

        // Changed labels make the run's held-out images unknown, so evaluation is rejected.
        QuarkusTransaction.requiringNew().run(() -> org.retinagrade.study.CohortMember.getEntityManager()
                .createNativeQuery("UPDATE cohort_member SET label = (label + 1) % 5 WHERE cohort_id = ?1 AND image_id ="
                        + " (SELECT min(image_id) FROM cohort_member WHERE cohort_id = ?1)")
                .setParameter(1, run.cohortId).executeUpdate());
        CliRunner.Result evaluate = CliRunner.run(factory, "evaluate", "--run", run.id.toString(), "--bootstrap", "0");
        assertEquals(2, evaluate.exitCode(), evaluate.out());
        assertTrue(evaluate.err().contains("changed since run " + run.id), evaluate.err());
    }

    @Test
    void invalidArgumentsAreRejected() {
        CliRunner.Result noCohort = CliRunner.run(factory, "train", "--cohort", "no-such-cohort", "--epochs", "1");
        assertEquals(2, noCohort.exitCode());
        assertTrue(noCohort.err().contains("cohort 'no-such-cohort' not found"), noCohort.err());

        CliRunner.Result badSampler = CliRunner.run(factory, "train", "--cohort", "x", "--sampler", "random");
        assertEquals(2, badSampler.exitCode());
        assertTrue(badSampler.err().contains("invalid --sampler 'random'"), badSampler.err());

        CliRunner.Result badVariant = CliRunner.run(factory, "train", "--cohort", "x", "--variant", "xl");
        assertTrue(badVariant.err().contains("invalid model variant 'xl'"), badVariant.err());
    }
}
