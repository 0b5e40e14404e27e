package org.retinagrade.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.retinagrade.CliRunner;
import org.retinagrade.TestDatabase;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.study.CohortService;
import picocli.CommandLine;

@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class FolderIngestTest {

    private static final Path SCRATCH = Path.of("target", "ingest-test").toAbsolutePath();
    private static final Path SHARED_EYEPACS = Path.of("..", "shared", "data", "eyepacs-256").toAbsolutePath().normalize();

    @Inject
    CommandLine.IFactory factory;

    @Inject
    CohortService cohortService;

    @Inject
    AuditTrail auditTrail;

    @Test
    void phantomIngestsOnceAndRerunAddsNothing() throws Exception {
        Path phantom = freshFolder("phantom");
        new FundusPhantom(128).writeStudy(phantom, 4, 11);

        CliRunner.Result first = CliRunner.run(factory, "ingest", "folder", phantom.toString(), "--cohort", "phantom-once",
                "--study", "ingest-test");
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.out().contains("read 20, stored 20, duplicates 0, quarantined 0"), first.out());

        CliRunner.Result second = CliRunner.run(factory, "ingest", "folder", phantom.toString(), "--cohort", "phantom-once",
                "--study", "ingest-test");
        assertEquals(0, second.exitCode(), second.err());
        assertTrue(second.out().contains("read 20, stored 0, duplicates 20, quarantined 0"), second.out());

        CohortService.Summary summary = cohortService.summary("phantom-once").get();
        assertEquals(20, summary.members());
        assertEquals(10, summary.patients());
        for (int grade = 0; grade <= 4; grade++) {
            assertEquals(4L, summary.perGrade().get(Integer.toString(grade)), "members of grade " + grade);
        }
        assertEquals(Map.of("L", 10L, "R", 10L), summary.perLaterality());
        assertTrue(auditTrail.verify().intact());
    }

    @Test
    void storedFileMatchesItsHash() throws Exception {
        Path phantom = freshFolder("hash");
        new FundusPhantom(96).writeStudy(phantom, 1, 12);
        CliRunner.run(factory, "ingest", "folder", phantom.toString(), "--cohort", "hash-check", "--study", "ingest-test");

        byte[] original = Files.readAllBytes(phantom.resolve("images/1_left.jpeg"));
        String sha256 = ContentStore.sha256(original);
        Image image = QuarkusTransaction.requiringNew().call(() -> Image.findBySha256(sha256));
        assertNotNull(image, "image 1_left.jpeg not stored");
        Path stored = TestDatabase.WORKSPACE.resolve(image.storagePath);
        assertEquals("studies/ingest-test/objects/" + sha256.substring(0, 2) + "/" + sha256.substring(2), image.storagePath);
        assertTrue(Arrays.equals(original, Files.readAllBytes(stored)), "stored bytes differ from the original");
        assertEquals("L", image.laterality);
        assertEquals("image/jpeg", image.mediaType);
        assertEquals(120, image.width);
    }

    @Test
    void badFilesAreQuarantinedAndBatchContinues() throws Exception {
        Path folder = freshFolder("kaggle-bad");
        new FundusPhantom(96).writeStudy(folder, 2, 13);
        Path images = folder.resolve("images");
        byte[] good = Files.readAllBytes(images.resolve("1_left.jpeg"));
        Files.write(images.resolve("900_left.jpeg"), good);
        Files.write(images.resolve("901_left.jpeg"), Arrays.copyOf(good, good.length / 2));
        Files.write(images.resolve("902_left.jpeg"), new byte[0]);
        Files.writeString(images.resolve("903_left.jpg"), "this is a text file, not a JPEG\n");
        Files.writeString(folder.resolve("trainLabels.csv"), String.join("\n",
                "900_left,0", "901_left,1", "902_left,2", "903_left,3", "904_left,4", "905_left,seven", "") ,
                java.nio.file.StandardOpenOption.APPEND);

        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "kaggle-bad",
                "--study", "ingest-test");
        assertEquals(3, result.exitCode(), "exit status should flag quarantined files");
        assertTrue(result.out().contains("read 16, stored 10, duplicates 1, quarantined 5"), result.out());

        List<QuarantineEntry> entries = QuarkusTransaction.requiringNew().call(() ->
                QuarantineEntry.<QuarantineEntry>list("jobId = (SELECT max(j.id) FROM IngestJob j)"));
        Map<String, String> reasons = new java.util.HashMap<>();
        entries.forEach(e -> reasons.put(Path.of(e.sourcePath).getFileName().toString(), e.reason));
        assertTrue(reasons.get("901_left.jpeg").contains("damaged") || reasons.get("901_left.jpeg").contains("decoded"),
                "truncated JPEG: " + reasons.get("901_left.jpeg"));
        assertTrue(reasons.get("902_left.jpeg").contains("empty file"), "zero-byte file: " + reasons.get("902_left.jpeg"));
        assertTrue(reasons.get("903_left.jpg").contains("not a recognised image format"), "text file: " + reasons.get("903_left.jpg"));
        assertTrue(reasons.get("trainLabels.csv:16").contains("'904_left'"), "missing file: " + reasons);
        assertTrue(reasons.get("trainLabels.csv:16").contains("not found"), "missing file: " + reasons);
        assertTrue(reasons.get("trainLabels.csv:17").contains("invalid level 'seven'"), "bad level: " + reasons);

        QuarantineEntry truncated = entries.stream().filter(e -> e.sourcePath.endsWith("901_left.jpeg")).findFirst().get();
        assertNotNull(truncated.storedPath, "the quarantined file's bytes were not kept");
        assertTrue(Files.isRegularFile(TestDatabase.WORKSPACE.resolve(truncated.storedPath)));

        CliRunner.Result rerun = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "kaggle-bad",
                "--study", "ingest-test");
        assertTrue(rerun.out().contains("read 16, stored 0, duplicates 11, quarantined 5"), rerun.out());
        // 900_left contains the same bytes as 1_left, so it is the same image and member.
        assertEquals(10, cohortService.summary("kaggle-bad").get().members());
        assertTrue(auditTrail.verify().intact());
    }

    @Test
    void duplicateWithOtherLabelKeepsStoredLabel() throws Exception {
        Path folder = freshFolder("relabel");
        new FundusPhantom(96).writeStudy(folder, 1, 14);
        CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "relabel", "--study", "ingest-test");
        Files.writeString(folder.resolve("trainLabels.csv"), "image,level\n1_left,4\n");

        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "relabel",
                "--study", "ingest-test");
        assertTrue(result.out().contains("stored 0, duplicates 1"), result.out());
        CohortService.Summary summary = cohortService.summary("relabel").get();
        assertEquals(1L, summary.perGrade().get("0"), "the stored label 0 of 1_left was overwritten");
        assertEquals(1L, summary.perGrade().get("4"), "only 5_left should have grade 4");
        String message = QuarkusTransaction.requiringNew().call(() -> IngestJobItem.<IngestJobItem>find(
                "jobId = (SELECT max(j.id) FROM IngestJob j) AND status = 'duplicate'").firstResult().message);
        assertTrue(message.contains("label 4 given here was not applied"), message);
    }

    @Test
    void imageOverPixelBudgetIsQuarantined() throws Exception {
        Path folder = freshFolder("budget");
        new FundusPhantom(96).writeStudy(folder, 1, 15);
        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "budget",
                "--study", "ingest-test", "--max-pixels", "5000");
        assertTrue(result.out().contains("stored 0, duplicates 0, quarantined 5"), result.out());
        String reason = QuarkusTransaction.requiringNew().call(() ->
                QuarantineEntry.<QuarantineEntry>find("sourcePath like ?1", "%budget/images/1_left.jpeg").firstResult().reason);
        assertTrue(reason.contains("120x96"), reason);
        assertTrue(reason.contains("5000"), reason);
    }

    @Test
    void imageFolderLayoutKeepsSplitAndGrade() throws Exception {
        Path phantom = freshFolder("imagefolder-source");
        new FundusPhantom(96).writeStudy(phantom, 2, 16);
        Path folder = freshFolder("imagefolder");
        Files.createDirectories(folder.resolve("train/2"));
        Files.createDirectories(folder.resolve("test/4"));
        Files.copy(phantom.resolve("images/3_left.jpeg"), folder.resolve("train/2/3_left.jpeg"));
        Files.copy(phantom.resolve("images/5_right.jpeg"), folder.resolve("test/4/5_right.jpeg"));

        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "imagefolder",
                "--study", "ingest-test");
        assertTrue(result.out().contains("stored 2"), result.out());
        CohortService.Summary summary = cohortService.summary("imagefolder").get();
        assertEquals(Map.of("test", 1L, "train", 1L), summary.perSplit());
        assertEquals(1L, summary.perGrade().get("2"));
        assertEquals(1L, summary.perGrade().get("4"));
    }

    @Test
    void invalidLevelRowKeepsCopy() throws Exception {
        Path folder = freshFolder("bad-level");
        new FundusPhantom(96).writeStudy(folder, 1, 18);
        Files.writeString(folder.resolve("trainLabels.csv"), "image,level\n1_left,0\n2_left,1\n3_left,2\n4_left,3\n5_left,7\n");
        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "bad-level",
                "--study", "ingest-test");
        assertTrue(result.out().contains("stored 4, duplicates 0, quarantined 1"), result.out());
        assertTrue(!result.err().contains("not listed"), result.err());
        QuarantineEntry entry = QuarkusTransaction.requiringNew().call(() ->
                QuarantineEntry.<QuarantineEntry>find("sourcePath like ?1", "%bad-level/images/5_left.jpeg").firstResult());
        assertTrue(entry.reason.contains("invalid level '7'"), entry.reason);
        assertNotNull(entry.storedPath, "no copy kept of the image with an invalid level");
    }

    @Test
    void unlistedImagesAreNamed() throws Exception {
        Path folder = freshFolder("unlisted");
        new FundusPhantom(96).writeStudy(folder, 1, 19);
        Files.writeString(folder.resolve("trainLabels.csv"), "image,level\n1_left,0\n");
        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "unlisted",
                "--study", "ingest-test");
        assertTrue(result.err().contains("4 image files in"), result.err());
        assertTrue(result.err().contains("2_left.jpeg"), result.err());
    }

    @Test
    void folderOutsideGradesIsQuarantined() throws Exception {
        Path phantom = freshFolder("grade-nine-source");
        new FundusPhantom(96).writeStudy(phantom, 1, 20);
        Path folder = freshFolder("grade-nine");
        Files.createDirectories(folder.resolve("2"));
        Files.createDirectories(folder.resolve("9"));
        Files.copy(phantom.resolve("images/3_left.jpeg"), folder.resolve("2/3_left.jpeg"));
        Files.copy(phantom.resolve("images/4_left.jpeg"), folder.resolve("9/4_left.jpeg"));
        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "grade-nine",
                "--study", "ingest-test");
        assertTrue(result.out().contains("read 2, stored 1, duplicates 0, quarantined 1"), result.out());
    }

    @Test
    void emptyFolderIsRejectedBeforeAnyJob() throws Exception {
        Path folder = freshFolder("empty");
        Files.createDirectories(folder);
        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "empty-folder");
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("no images found in " + folder), result.err());
        assertTrue(cohortService.summary("empty-folder").isEmpty(), "a cohort was created for an empty folder");
    }

    @Test
    void blackImageIsStoredWithUngradableFlag() throws Exception {
        Path folder = freshFolder("black");
        Files.createDirectories(folder.resolve("2"));
        java.awt.image.BufferedImage black = new java.awt.image.BufferedImage(200, 150, java.awt.image.BufferedImage.TYPE_INT_RGB);
        javax.imageio.ImageIO.write(black, "png", folder.resolve("2/7_left.png").toFile());
        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "black",
                "--study", "ingest-test");
        assertTrue(result.out().contains("stored 1"), result.out());
        Image image = QuarkusTransaction.requiringNew().call(() ->
                Image.<Image>find("source like ?1", "%black/2/7_left.png").firstResult());
        assertEquals(1, image.qualityFlags.length);
        assertTrue(image.qualityFlags[0].startsWith("ungradable: no fundus field found"), image.qualityFlags[0]);
    }

    @Test
    void labelsFillUnlabelledMembers() throws Exception {
        Path folder = freshFolder("label-later");
        new FundusPhantom(96).writeStudy(folder, 1, 22);
        Path flat = freshFolder("label-later-flat");
        Files.createDirectories(flat);
        Files.copy(folder.resolve("images/2_left.jpeg"), flat.resolve("2_left.jpeg"));
        CliRunner.run(factory, "ingest", "folder", flat.toString(), "--cohort", "label-later", "--study", "ingest-test");
        assertEquals(1L, cohortService.summary("label-later").get().perGrade().get("unlabelled"));

        CliRunner.Result labelled = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "label-later",
                "--study", "ingest-test");
        assertTrue(labelled.out().contains("duplicates 1"), labelled.out());
        CohortService.Summary summary = cohortService.summary("label-later").get();
        assertEquals(0L, summary.perGrade().get("unlabelled"));
        assertEquals(1L, summary.perGrade().get("1"), "2_left is the grade-1 image of the phantom");
    }

    @Test
    void invalidCohortNameIsRejected() throws Exception {
        Path folder = freshFolder("bad-name");
        new FundusPhantom(96).writeStudy(folder, 1, 17);
        CliRunner.Result result = CliRunner.run(factory, "ingest", "folder", folder.toString(), "--cohort", "bad name!");
        assertEquals(2, result.exitCode());
        assertTrue(result.err().contains("invalid cohort name 'bad name!'"), result.err());
    }

    @Test
    void eyePacsSampleGivesThirtyTwoPerGrade() {
        Assumptions.assumeTrue(Files.isDirectory(SHARED_EYEPACS), "skipped: " + SHARED_EYEPACS + " is absent");
        CliRunner.Result first = CliRunner.run(factory, "ingest", "folder", SHARED_EYEPACS.toString(), "--cohort", "eyepacs-test",
                "--study", "ingest-test");
        assertTrue(first.out().contains("read 160, stored 160, duplicates 0, quarantined 0"), first.out());
        CohortService.Summary summary = cohortService.summary("eyepacs-test").get();
        for (int grade = 0; grade <= 4; grade++) {
            assertEquals(32L, summary.perGrade().get(Integer.toString(grade)), "images of grade " + grade);
        }
        CliRunner.Result second = CliRunner.run(factory, "ingest", "folder", SHARED_EYEPACS.toString(), "--cohort", "eyepacs-test",
                "--study", "ingest-test");
        assertTrue(second.out().contains("stored 0, duplicates 160"), second.out());
    }

    private static Path freshFolder(String name) throws Exception {
        Path folder = SCRATCH.resolve(name);
        TestDatabase.deleteRecursively(folder);
        return folder;
    }
}
