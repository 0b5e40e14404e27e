package org.retinagrade.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.IntegerStringAttribute;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.UnsignedShortAttribute;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.opencv.core.Mat;
import org.retinagrade.CliRunner;
import org.retinagrade.TestDatabase;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.dicom.DicomDecoder;
import org.retinagrade.dicom.DicomInstance;
import org.retinagrade.dicom.OphthalmicPhotography;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.imaging.Preprocessor;
import org.retinagrade.study.CohortService;
import picocli.CommandLine;

@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class DicomIngestTest {

    private static final Path SCRATCH = Path.of("target", "dicom-ingest-test").toAbsolutePath();
    private static final Path SHARED_DICOM = Path.of("..", "shared", "data", "dicom").toAbsolutePath().normalize();

    @Inject
    CommandLine.IFactory factory;

    @Inject
    CohortService cohortService;

    @Inject
    DicomIngestService service;

    @Inject
    AuditTrail auditTrail;

    @Test
    void photographsRoundTripIntoLabelledDeidentifiedCohort() throws Exception {
        Path phantom = fresh("phantom");
        new FundusPhantom(96).writeStudy(phantom, 3, 21);
        Path op = fresh("op");
        CliRunner.Result written = CliRunner.run(factory, "dicom", "from-image", phantom.toString(), "--out", op.toString());
        assertEquals(0, written.exitCode(), written.err());
        assertTrue(written.out().contains("wrote 15 Ophthalmic Photography objects"), written.out());

        // The wrapped pixels are exactly the photograph's.
        Path oneFile = op.resolve("1").resolve("1_left.dcm");
        DicomDecoder.Decoded decoded = new DicomDecoder().decode(oneFile);
        Mat original = Preprocessor.decode(Files.readAllBytes(phantom.resolve("images/1_left.jpeg")));
        byte[] expected = new byte[(int) (original.total() * 3)];
        original.get(0, 0, expected);
        byte[] rgb = rgbOf(decoded);
        assertArrayEquals(expected, rgb, "OP pixels differ from the source image");
        assertEquals("L", Attribute.getSingleStringValueOrEmptyString(decoded.attributes(), TagFromName.ImageLaterality));

        CliRunner.Result first = CliRunner.run(factory, "ingest", "dicom", op.toString(), "--cohort", "dicom-op",
                "--study", "dicom-test", "--labels", op.resolve("labels.csv").toString());
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.out().contains("read 15, stored 15, duplicates 0, quarantined 0"), first.out());

        CohortService.Summary summary = cohortService.summary("dicom-op").get();
        assertEquals(15, summary.members());
        for (int grade = 0; grade <= 4; grade++) {
            assertEquals(3L, summary.perGrade().get(Integer.toString(grade)), "members of grade " + grade);
        }

        long left;
        try (var names = Files.list(phantom.resolve("images"))) {
            left = names.filter(p -> p.getFileName().toString().contains("_left")).count();
        }
        assertEquals(Map.of("L", left, "R", 15 - left), summary.perLaterality());

        // The stored copy is de-identified: pseudonymous patient, remapped UIDs, no name.
        String originalUid = Attribute.getSingleStringValueOrEmptyString(decoded.attributes(), TagFromName.SOPInstanceUID);
        DicomInstance stored = QuarkusTransaction.requiringNew().call(() ->
                DicomInstance.<DicomInstance>find("sourceSha256", ContentStore.sha256(Files.readAllBytes(oneFile))).firstResult());
        assertNotNull(stored, "1_left.dcm not recorded");
        assertFalse(stored.sopInstanceUid.equals(originalUid), "SOP Instance UID was not remapped");
        byte[] copy = Files.readAllBytes(TestDatabase.WORKSPACE.resolve(stored.storagePath));
        String text = new String(copy, StandardCharsets.ISO_8859_1);
        assertFalse(text.contains("PHANTOM^"), "patient name survived in the stored copy");
        assertFalse(text.contains(originalUid), "original SOP Instance UID survived in the stored copy");
        assertEquals(LocalDate.of(2026, 1, 1), stored.acquisitionDate);
        assertEquals(96, stored.rows);

        CliRunner.Result second = CliRunner.run(factory, "ingest", "dicom", op.toString(), "--cohort", "dicom-op",
                "--study", "dicom-test");
        assertEquals(0, second.exitCode(), second.err());
        assertTrue(second.out().contains("read 15, stored 0, duplicates 15, quarantined 0"), second.out());

        // The same objects ingested into another cohort carry their labels there too.
        CliRunner.Result other = CliRunner.run(factory, "ingest", "dicom", op.toString(), "--cohort", "dicom-op-other",
                "--study", "dicom-test", "--labels", op.resolve("labels.csv").toString());
        assertEquals(0, other.exitCode(), other.err());
        CohortService.Summary otherSummary = cohortService.summary("dicom-op-other").get();
        for (int grade = 0; grade <= 4; grade++) {
            assertEquals(3L, otherSummary.perGrade().get(Integer.toString(grade)), "members of grade " + grade + " in the other cohort");
        }
        assertTrue(auditTrail.verify().intact());
    }

    @Test
    void identicalPixelsShareImageKeepLabel() throws Exception {
        Path folder = fresh("identical-pixels");
        Mat rgb = phantom(2, 31);
        write(OphthalmicPhotography.build(rgb, identity("same-a", 1)), folder.resolve("a.dcm"));
        write(OphthalmicPhotography.build(rgb, identity("same-b", 2)), folder.resolve("b.dcm"));
        Path labels = Files.writeString(SCRATCH.resolve("identical-pixels.csv"), "image,level\na,2\nb,3\n");

        IngestJob job = service.ingestFolder(folder, new DicomIngestService.Options("dicom-shared", "dicom-test", false, labels,
                DicomDecoder.DEFAULT_MAX_PIXELS, "test"), line -> { });

        assertEquals(2, job.stored, job.summary());
        String message = itemMessage(job.id, "b.dcm");
        assertTrue(message.contains("same pixels as the stored image"), message);
        assertTrue(message.contains("keeps its label 2 in cohort dicom-shared; the label 3 given here was not applied"), message);
        CohortService.Summary summary = cohortService.summary("dicom-shared").get();
        assertEquals(1, summary.members());
        assertEquals(1L, summary.perGrade().get("2"));

        // Into another cohort both files are duplicates, and the one whose pixels were shared still finds its image.
        IngestJob other = service.ingestFolder(folder, new DicomIngestService.Options("dicom-shared-other", "dicom-test", false,
                labels, DicomDecoder.DEFAULT_MAX_PIXELS, "test"), line -> { });
        assertEquals(2, other.duplicates, other.summary());
        assertTrue(itemMessage(other.id, "b.dcm").contains("the label 3 given here was not applied"), itemMessage(other.id, "b.dcm"));
        assertEquals(1, cohortService.summary("dicom-shared-other").get().members());
    }

    @Test
    void labelCsvProblemsReported() throws Exception {
        Path folder = fresh("label-rows");
        write(OphthalmicPhotography.build(phantom(1, 41), identity("rows-a", 1)), folder.resolve("a.dcm"));
        write(OphthalmicPhotography.build(phantom(3, 42), identity("rows-b", 2)), folder.resolve("b.dcm"));

        // An image name with its extension matches too, and a row that names no file is reported.
        Path labels = Files.writeString(SCRATCH.resolve("rows.csv"), "\uFEFFimage,level\na.dcm,1\nb,3\nmissing,2\n");
        List<String> lines = new java.util.ArrayList<>();
        IngestJob job = service.ingestFolder(folder, new DicomIngestService.Options("dicom-rows", "dicom-test", false, labels,
                DicomDecoder.DEFAULT_MAX_PIXELS, "test"), lines::add);
        assertEquals(2, job.stored, job.summary());
        assertEquals(1L, cohortService.summary("dicom-rows").get().perGrade().get("1"));
        assertEquals(1L, cohortService.summary("dicom-rows").get().perGrade().get("3"));
        String output = String.join("\n", lines);
        assertTrue(output.contains("1 of 3 label rows matched no file or instance (missing)"), output);

        // Each rejected CSV: file name, contents, expected part of the message.
        Object[][] rejected = {
            {"conflicting.csv", "image,level\na,1\na,2\n".getBytes(StandardCharsets.UTF_8),
                "line 3: 'a' has level 2 here and 1 on an earlier line"},
            {"utf16.csv", "image,level\na,1\n".getBytes(StandardCharsets.UTF_16), "is not UTF-8 text"},
            {"utf16le.csv", "image,level\na,1\n".getBytes(StandardCharsets.UTF_16LE), "contains NUL bytes"},
        };
        for (Object[] csv : rejected) {
            Path file = Files.write(SCRATCH.resolve((String) csv[0]), (byte[]) csv[1]);
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> service.ingestFolder(folder,
                    new DicomIngestService.Options("dicom-rows", "dicom-test", false, file, DicomDecoder.DEFAULT_MAX_PIXELS,
                            "test"), line -> { }));
            assertTrue(error.getMessage().contains((String) csv[2]), csv[0] + ": " + error.getMessage());
        }
    }

    private static String itemMessage(long jobId, String sourceRef) {
        return QuarkusTransaction.requiringNew().call(() -> IngestJobItem.<IngestJobItem>find("jobId = ?1 and sourceRef = ?2",
                jobId, sourceRef).firstResult().message);
    }

    @Test
    void badFilesQuarantinedBatchContinues() throws Exception {
        Path folder = fresh("bad");
        Mat image = phantom(2, 5);
        AttributeList good = OphthalmicPhotography.build(image, identity("good", 1));
        write(good, folder.resolve("good.dcm"));

        byte[] full = Files.readAllBytes(folder.resolve("good.dcm"));
        Files.write(folder.resolve("truncated.dcm"), java.util.Arrays.copyOf(full, full.length / 2));
        Files.writeString(folder.resolve("notes.dat"), "not a DICOM file");

        AttributeList absurd = OphthalmicPhotography.build(image, identity("absurd", 2));
        for (var tag : List.of(TagFromName.Rows, TagFromName.Columns)) {
            UnsignedShortAttribute huge = new UnsignedShortAttribute(tag);
            huge.addValue(65535);
            absurd.put(huge);
        }
        IntegerStringAttribute frames = new IntegerStringAttribute(TagFromName.NumberOfFrames);
        frames.addValue("1000");
        absurd.put(frames);
        write(absurd, folder.resolve("absurd.dcm"));

        AttributeList multiFrame = OphthalmicPhotography.build(image, identity("multi", 3));
        byte[] pixels = ((OtherByteAttribute) multiFrame.get(TagFromName.PixelData)).getByteValues();
        byte[] three = new byte[pixels.length * 3];
        for (int frame = 0; frame < 3; frame++) {
            for (int i = 0; i < pixels.length; i++) {
                three[frame * pixels.length + i] = (byte) (pixels[i] + (frame + 1) * 40);
            }
        }
        ((OtherByteAttribute) multiFrame.get(TagFromName.PixelData)).setValues(three);
        IntegerStringAttribute threeFrames = new IntegerStringAttribute(TagFromName.NumberOfFrames);
        threeFrames.addValue("3");
        multiFrame.put(threeFrames);
        write(multiFrame, folder.resolve("multi.dcm"));

        long start = System.nanoTime();
        IngestJob job = service.ingestFolder(folder, options("dicom-bad"), line -> { });
        assertTrue(System.nanoTime() - start < 60_000_000_000L, "ingest of 5 small files took over a minute");
        assertEquals(5, job.readCount);
        assertEquals(2, job.stored, "good.dcm and multi.dcm");
        assertEquals(3, job.quarantined);

        Map<String, String> reasons = QuarkusTransaction.requiringNew().call(() -> {
            Map<String, String> found = new java.util.HashMap<>();
            IngestJobItem.<IngestJobItem>list("jobId", job.id).forEach(item -> found.put(item.sourceRef, item.message));
            return found;
        });
        assertTrue(reasons.get("absurd.dcm").contains("exceeds the budget"), reasons.get("absurd.dcm"));
        assertTrue(reasons.get("truncated.dcm").contains("Pixel Data"), reasons.get("truncated.dcm"));
        assertTrue(reasons.get("notes.dat").startsWith("decoding failed") || reasons.get("notes.dat").contains("not an image"),
                reasons.get("notes.dat"));

        List<Image> frameImages = QuarkusTransaction.requiringNew().call(() -> Image.<Image>list(
                "originalName = ?1 order by frameNumber", "multi.dcm"));
        assertEquals(List.of(1, 2, 3), frameImages.stream().map(i -> i.frameNumber).toList());
        assertEquals(4L, cohortService.summary("dicom-bad").get().members(), "1 + 3 frames");

        CliRunner.Result listed = CliRunner.run(factory, "ingest", "jobs", Long.toString(job.id), "--status", "quarantined");
        assertEquals(0, listed.exitCode(), listed.err());
        assertTrue(listed.out().contains("absurd.dcm"), listed.out());
        assertTrue(listed.out().contains("exceeds the budget"), listed.out());
        assertFalse(listed.out().contains("good.dcm"), listed.out());
        long withCopy = QuarkusTransaction.requiringNew().call(() -> QuarantineEntry.count("jobId = ?1 and storedPath is not null", job.id));
        assertEquals(3L, withCopy, "quarantined files keep a copy");
    }

    @Test
    void folderJobResumeSkipsFinishedItems() throws Exception {
        Path folder = fresh("resume");
        Mat image = phantom(1, 9);
        for (int i = 0; i < 4; i++) {
            write(OphthalmicPhotography.build(image, identity("resume" + i, i + 1)), folder.resolve("r" + i + ".dcm"));
        }
        DicomIngestService.Options options = options("dicom-resume");
        DicomIngestService.Session session = service.startJob("dicom-folder", folder.toString(), options, Map.of());
        session.ingest("r0.dcm", folder.resolve("r0.dcm"));
        session.ingest("r1.dcm", folder.resolve("r1.dcm"));

        // The process "stops" here. The job is still running with two items done.
        IngestJob resumed = service.resumeFolder(session.jobId(), options, line -> { });
        assertEquals("completed", resumed.status);
        assertEquals(4, resumed.readCount);
        assertEquals(4, resumed.stored);
        assertEquals(0, resumed.duplicates, "finished items were processed again");
    }

    @Test
    void corpusFilesStoredIntactOrQuarantined() throws Exception {
        assumeTrue(Files.isDirectory(SHARED_DICOM), "shared DICOM corpus not found at " + SHARED_DICOM + "; skipping");
        IngestJob job = service.ingestFolder(SHARED_DICOM, options("dicom-corpus"), line -> { });
        assertEquals(47, job.readCount);
        assertEquals(47, job.stored + job.duplicates + job.quarantined);
        assertTrue(job.stored >= 25, job.summary());

        List<DicomInstance> instances = QuarkusTransaction.requiringNew().call(() -> DicomInstance.<DicomInstance>list(
                "sopInstanceUid in (select i.sopInstanceUid from IngestJobItem i where i.jobId = ?1 and i.status = 'stored')",
                job.id));
        assertEquals(job.stored, instances.size());
        DicomDecoder decoder = new DicomDecoder();
        boolean dcmtk = Files.isExecutable(Path.of("/usr/bin/dcmdump"));
        for (DicomInstance instance : instances) {
            Path stored = TestDatabase.WORKSPACE.resolve(instance.storagePath);
            DicomDecoder.Decoded again = decoder.decode(stored);
            assertEquals(instance.frames, again.frames().size(), instance.storagePath);
            // Frame 1 of the stored copy is an image of the store: the one made at ingest, which an
            // earlier instance with the same pixels may own.
            String frameSha = ContentStore.sha256(DicomIngestService.encodePng(again.frames().get(0)));
            Image frame = QuarkusTransaction.requiringNew().call(() -> Image.findBySha256(frameSha));
            assertNotNull(frame, "stored de-identified copy of a " + instance.transferSyntaxUid + " file decodes differently");
            if (dcmtk) {
                // The stored copy must be a valid file for other tools too, not only for PixelMed.
                Process dump = new ProcessBuilder("/usr/bin/dcmdump", "-q", stored.toString()).redirectErrorStream(true).start();
                String output = new String(dump.getInputStream().readAllBytes());
                assertEquals(0, dump.waitFor(), "dcmdump rejects the stored copy of a " + instance.transferSyntaxUid
                        + " file: " + output);
                assertFalse(output.contains("E: "), "dcmdump reports an error in the stored copy of a "
                        + instance.transferSyntaxUid + " file: " + output);
            }
        }
    }

    /** Renders a small synthetic fundus image as 8-bit RGB. */
    private static Mat phantom(int grade, long seed) throws java.io.IOException {
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new FundusPhantom(64).render(grade, true, seed), "png", png);
        return Preprocessor.decode(png.toByteArray());
    }

    private static byte[] rgbOf(DicomDecoder.Decoded decoded) {
        byte[] bgr = ((java.awt.image.DataBufferByte) decoded.frames().get(0).getRaster().getDataBuffer()).getData();
        byte[] rgb = new byte[bgr.length];
        for (int i = 0; i < bgr.length; i += 3) {
            rgb[i] = bgr[i + 2];
            rgb[i + 1] = bgr[i + 1];
            rgb[i + 2] = bgr[i];
        }
        return rgb;
    }

    private static OphthalmicPhotography.Identity identity(String key, int number) {
        return new OphthalmicPhotography.Identity("P-" + key, "TEST^" + key, "study-" + key, LocalDate.of(2025, 5, 6),
                "ACC" + number, "R", "series-" + key, "instance-" + key, number);
    }

    private static DicomIngestService.Options options(String cohort) {
        return new DicomIngestService.Options(cohort, "dicom-test", false, null, DicomDecoder.DEFAULT_MAX_PIXELS, "test");
    }

    private static void write(AttributeList list, Path file) throws Exception {
        try (OutputStream out = Files.newOutputStream(file)) {
            OphthalmicPhotography.write(list, out, "TEST");
        }
    }

    private static Path fresh(String name) throws java.io.IOException {
        Path folder = SCRATCH.resolve(name);
        if (Files.exists(folder)) {
            try (var walk = Files.walk(folder)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return Files.createDirectories(folder);
    }
}
