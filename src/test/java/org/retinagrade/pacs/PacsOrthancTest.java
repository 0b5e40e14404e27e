package org.retinagrade.pacs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.TagFromName;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.Mat;
import org.retinagrade.CliRunner;
import org.retinagrade.TestDatabase;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.dicom.DicomDecoder;
import org.retinagrade.dicom.OphthalmicPhotography;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.imaging.Preprocessor;
import org.retinagrade.ingest.DicomIngestService;
import org.retinagrade.ingest.IngestJob;
import org.retinagrade.ingest.IngestJobItem;
import org.retinagrade.study.CohortService;
import picocli.CommandLine;

/**
 * Tests of the PACS commands and services against a real Orthanc in the test's private network
 * namespace. dcmtk's storescu pushes phantom Ophthalmic Photography objects to Orthanc, and the
 * tests C-ECHO, C-FIND, C-MOVE and C-GET them into cohorts. The C-MOVE test stops Orthanc
 * midway, restarts it and resumes the job. storescu also pushes to our own C-STORE SCP.
 */
@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class PacsOrthancTest {

    private static final Path HOME = Path.of("target", "pacs-test").toAbsolutePath();
    private static final int OUR_PORT = 11112;
    private static OrthancPeer orthanc;

    @Inject
    PacsRetrieveService retrieveService;

    @Inject
    PacsListener listener;

    @Inject
    CohortService cohortService;

    @Inject
    AuditTrail auditTrail;

    @Inject
    CommandLine.IFactory factory;

    @BeforeAll
    static void startOrthanc() throws Exception {
        assumeTrue(OrthancPeer.available(), OrthancPeer.whyUnavailable());
        if (Files.exists(HOME)) {
            try (var walk = Files.walk(HOME)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        orthanc = new OrthancPeer(HOME.resolve("orthanc"), OUR_PORT);
        orthanc.start();
        writeStudy(HOME.resolve("move-study"), "MOVE", 200);
        writeStudy(HOME.resolve("get-study"), "GET", 6);
        writeStudy(HOME.resolve("port-study"), "PORT", 4);
        writeStudy(HOME.resolve("web-study"), "WEB", 40);
        assertEquals(0, orthanc.push(HOME.resolve("move-study"), OrthancPeer.AE_TITLE, OrthancPeer.DICOM_PORT));
        assertEquals(0, orthanc.push(HOME.resolve("get-study"), OrthancPeer.AE_TITLE, OrthancPeer.DICOM_PORT));
        assertEquals(0, orthanc.push(HOME.resolve("port-study"), OrthancPeer.AE_TITLE, OrthancPeer.DICOM_PORT));
        assertEquals(0, orthanc.push(HOME.resolve("web-study"), OrthancPeer.AE_TITLE, OrthancPeer.DICOM_PORT));
    }

    @org.junit.jupiter.api.BeforeEach
    void orthancRuns() throws Exception {
        orthanc.ensureStarted();
    }

    @AfterAll
    static void stopOrthanc() throws Exception {
        if (orthanc != null) {
            orthanc.close();
        }
    }

    @Test
    void echoAndFindFromTheCommandLine() {
        CliRunner.Result echo = CliRunner.run(factory, "pacs", "echo", "--port", "" + OrthancPeer.DICOM_PORT);
        assertEquals(0, echo.exitCode(), echo.err());
        assertTrue(echo.out().contains("success"), echo.out());

        CliRunner.Result find = CliRunner.run(factory, "pacs", "find", "--modality", "OP", "--date", "20250101-20251231", "--series");
        assertEquals(0, find.exitCode(), find.err());
        assertTrue(find.out().contains("PATIENT-MOVE"), find.out());
        assertTrue(find.out().contains("PATIENT-GET"), find.out());
        // Each of the four studies has two series, one per eye.
        assertEquals(8, find.out().lines().filter(line -> line.startsWith("  series")).count(), find.out());

        CliRunner.Result byPatient = CliRunner.run(factory, "pacs", "find", "--patient-id", "PATIENT-GET");
        assertTrue(byPatient.out().contains("PATIENT-GET"), byPatient.out());
        assertFalse(byPatient.out().contains("PATIENT-MOVE"), byPatient.out());

        CliRunner.Result stranger = CliRunner.run(factory, "pacs", "find", "--modality", "OP", "--ae-title", "STRANGER");
        assertEquals(1, stranger.exitCode(), "Orthanc must reject an unregistered AE title: " + stranger.out());
        assertTrue(stranger.err().contains("C-FIND with ORTHANC@127.0.0.1:4242 as STRANGER failed"), stranger.err());
    }

    @Test
    void moveResumesAfterOrthancStops() throws Exception {
        PacsSettings settings = settings();
        String study = studyUid("MOVE");
        DicomIngestService.Options options = new DicomIngestService.Options("pacs-move", "pacs-test", false, null,
                DicomDecoder.DEFAULT_MAX_PIXELS, "test");

        // Orthanc is killed from the progress callback as the 40th instance arrives, in the middle of the C-MOVE.
        CompletableFuture<IngestJob> first = CompletableFuture.supplyAsync(() -> {
            try {
                return retrieveService.retrieve(settings, List.of(study), PacsRetrieveService.Method.MOVE, options, line -> {
                    if (line.contains("received 40/200")) {
                        try {
                            orthanc.kill();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        IngestJob interrupted = first.get(120, TimeUnit.SECONDS);
        assertEquals("interrupted", interrupted.status, interrupted.summary());
        long storedBefore = storedItems();
        assertTrue(storedBefore >= 20, "stored before the stop: " + storedBefore);
        assertTrue(storedBefore < 200, "stored before the stop: " + storedBefore);

        orthanc.start();
        resumeToExactly(interrupted, 200, "pacs-move");
        long instances = QuarkusTransaction.requiringNew().call(() -> org.retinagrade.dicom.DicomInstance.count(
                "storagePath like 'studies/pacs-test/%'"));
        assertTrue(instances >= 200, "instances stored: " + instances);
        assertTrue(auditTrail.verify().intact());

        // A second retrieve of the same study fetches nothing, because everything is already stored.
        IngestJob again = retrieveService.retrieve(settings, List.of(study), PacsRetrieveService.Method.MOVE, options, line -> { });
        assertEquals("completed", again.status);
        assertEquals(0, again.stored);
        assertEquals(200, again.duplicates);
    }

    @Test
    void getAndPushStoreIntoCohorts() throws Exception {
        IngestJob got = retrieveService.retrieve(settings(), List.of(studyUid("GET")), PacsRetrieveService.Method.GET,
                new DicomIngestService.Options("pacs-get", "pacs-test", false, null, DicomDecoder.DEFAULT_MAX_PIXELS, "test"),
                line -> { });
        assertEquals("completed", got.status, got.summary());
        assertEquals(6, got.stored, got.summary());

        writeStudy(HOME.resolve("push-study"), "PUSH", 3);
        PacsSettings listening = settings().with(null, 11113, null, null, null, null);
        StorageReceiver receiver = listener.start(listening, "127.0.0.1", new DicomIngestService.Options("pacs-push",
                "pacs-test", false, null, DicomDecoder.DEFAULT_MAX_PIXELS, "test"));
        IngestJob pushed;
        int badPushStatus;
        try {
            // Two senders push the same new study at once, then one sends it again.
            CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> {
                try {
                    return orthanc.push(HOME.resolve("push-study"), "RETINAGRADE", receiver.port());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(0, orthanc.push(HOME.resolve("push-study"), "RETINAGRADE", receiver.port()));
            assertEquals(0, other.get(120, TimeUnit.SECONDS));
            // The re-send comes in PDUs of 4 KiB, so every data set arrives in hundreds of fragments.
            assertEquals(0, orthanc.push(HOME.resolve("push-study"), "RETINAGRADE", receiver.port(), "--max-send-pdu", "4096"));
            String port = Integer.toString(receiver.port());
            assertEquals(0, OrthancPeer.run(List.of("/usr/bin/echoscu", "-aet", "STORESCU", "-aec", "RETINAGRADE", "127.0.0.1",
                    port)), "C-ECHO to the listener");
            // The listener rejects a C-FIND by aborting the association, and it keeps running.
            assertTrue(OrthancPeer.run(List.of("/usr/bin/findscu", "-aet", "STORESCU", "-aec", "RETINAGRADE", "-S",
                    "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID", "127.0.0.1", port)) != 0, "C-FIND to the listener");
            assertEquals(0, OrthancPeer.run(List.of("/usr/bin/echoscu", "-aet", "STORESCU", "-aec", "RETINAGRADE", "127.0.0.1",
                    port)), "C-ECHO after the refused C-FIND");
            // An instance that cannot be decoded is quarantined, and its C-STORE response has status C000.
            writeUndecodable(HOME.resolve("bad-push").resolve("bad.dcm"));
            badPushStatus = OrthancPeer.run(List.of("/usr/bin/storescu", "-aet", "STORESCU", "-aec", "RETINAGRADE", "127.0.0.1",
                    port, HOME.resolve("bad-push").resolve("bad.dcm").toString()));
        } finally {
            pushed = listener.stop();
        }
        assertEquals(10, pushed.readCount, pushed.summary());
        assertEquals(3, pushed.stored, "each instance is stored once and stays counted: " + pushed.summary());
        assertEquals(6, pushed.duplicates, pushed.summary());
        assertEquals(1, pushed.quarantined, pushed.summary());
        assertTrue(badPushStatus != 0, "storescu reports the failed store, exit status " + badPushStatus);
        assertEquals(3L, cohortService.summary("pacs-push").get().members());

        // A listener that accepts only MODALITY1 and STORESCU rejects another caller's association and stores from STORESCU.
        StorageReceiver strict = listener.start(settings().with(null, 11114, null, null, null, null), "127.0.0.1",
                new DicomIngestService.Options("pacs-strict", "pacs-test", false, null, DicomDecoder.DEFAULT_MAX_PIXELS, "test"),
                java.util.Set.of("MODALITY1", "STORESCU"));
        IngestJob strictJob;
        try {
            assertTrue(OrthancPeer.run(List.of("/usr/bin/echoscu", "-aet", "OTHER", "-aec", "RETINAGRADE", "127.0.0.1",
                    Integer.toString(strict.port()))) != 0, "an association from OTHER is rejected");
            assertEquals(0, orthanc.push(HOME.resolve("push-study"), "RETINAGRADE", strict.port()), "STORESCU is accepted");
        } finally {
            strictJob = listener.stop();
        }
        assertEquals(3, strictJob.readCount, strictJob.summary());
        assertEquals(0, strictJob.quarantined, strictJob.summary());
    }

    @Test
    void pacsQueryProtocolRunsEndToEnd() throws Exception {
        Path phantom = HOME.resolve("protocol-phantom");
        new FundusPhantom(96).writeStudy(phantom, 5, 33);
        Path dicom = HOME.resolve("protocol-dicom");
        CliRunner.Result wrapped = CliRunner.run(factory, "dicom", "from-image", phantom.toString(), "--out", dicom.toString(),
                "--study-date", "2024-02-03", "--uid-key", "protocol-test");
        assertEquals(0, wrapped.exitCode(), wrapped.err());
        assertEquals(0, orthanc.push(dicom, OrthancPeer.AE_TITLE, OrthancPeer.DICOM_PORT));

        // C-GET is tested above, so the protocol retrieves over DICOMweb where Orthanc serves it.
        boolean web = OrthancPeer.dicomWebAvailable();
        Path protocol = HOME.resolve("pacs-protocol.yaml");
        Files.writeString(protocol, String.join("\n",
                "name: pacs-protocol",
                "cohort:",
                "  name: pacs-protocol",
                "  source:",
                "    kind: pacs-query",
                "    labels: protocol-dicom/labels.csv",
                "    pacs: {host: 127.0.0.1, port: " + OrthancPeer.DICOM_PORT + ", called_ae_title: ORTHANC, ae_title: RETINAGRADE,"
                        + " listen_port: " + OUR_PORT + ", timeout: 20, "
                        + (web ? "method: dicomweb, dicomweb_url: '" + OrthancPeer.DICOMWEB_URL + "', dicomweb_user: "
                                + OrthancPeer.HTTP_USER : "method: get") + "}",
                "    query: {study_date: 20240101-20241231, modality: OP}",
                "split: {train: 0.6, validation: 0.2, test: 0.2, seed: 5}",
                "preprocessing: {resolution: 64}",
                "model: {variant: small}",
                "training: {epochs: 1, batch_size: 4, seed: 9, threads: 2}",
                "evaluation: {tta: [identity], bootstrap: 50}",
                ""));

        CliRunner.Result run = CliRunner.run(factory, "run", protocol.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("retrieve studies from " + (web ? OrthancPeer.DICOMWEB_URL : "ORTHANC@127.0.0.1:4242")),
                run.err());
        assertTrue(run.err().contains("[5/5] write the report"), run.err());
        assertEquals(25L, cohortService.summary("pacs-protocol").get().members());
        assertEquals(5L, cohortService.summary("pacs-protocol").get().perGrade().get("4"));
    }

    @Test
    void unreachablePacsGivesAClearError() {
        PacsClient client = new PacsClient(settings().with(null, null, null, 4999, null, 2));
        PacsException error = assertThrows(PacsException.class, client::echo);
        assertTrue(error.getMessage().contains("C-ECHO with ORTHANC@127.0.0.1:4999"), error.getMessage());
    }

    /** Orthanc has our AE title at OUR_PORT, so a retrieve listening on another port gets a message that names the port. */
    @Test
    void moveToAnUnregisteredPortNamesThePort() throws Exception {
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        IngestJob job = retrieveService.retrieve(settings().with(null, OUR_PORT + 7, null, null, null, null),
                List.of(studyUid("PORT")), PacsRetrieveService.Method.MOVE,
                new DicomIngestService.Options("pacs-wrong-port", "pacs-test", false, null, DicomDecoder.DEFAULT_MAX_PIXELS,
                        "test"), lines::add);
        assertEquals("interrupted", job.status, job.summary());
        String output = String.join("\n", lines);
        assertTrue(output.contains("could not send the instances"), output);
        assertTrue(output.contains("port " + (OUR_PORT + 7)), output);

        // Resuming on the registered port fetches the study.
        IngestJob resumed = retrieveService.resume(job.id, "test", OUR_PORT, line -> { });
        assertEquals("completed", resumed.status, resumed.summary());
        assertEquals(4, resumed.stored, resumed.summary());
    }

    @Test
    void dicomWebRetrieveResumesAfterStop() throws Exception {
        assumeTrue(OrthancPeer.dicomWebAvailable(), "Orthanc's DICOMweb plugin (Debian orthanc-dicomweb) is not installed;"
                + " skipping the DICOMweb test");
        DicomWebSettings web = new DicomWebSettings(OrthancPeer.DICOMWEB_URL, OrthancPeer.HTTP_USER, OrthancPeer.HTTP_PASSWORD, 20);

        PacsException rejected = assertThrows(PacsException.class,
                () -> new DicomWebClient(new DicomWebSettings(OrthancPeer.DICOMWEB_URL, "retinagrade", "wrong", 20)).check());
        assertTrue(rejected.getMessage().contains("HTTP 401"), rejected.getMessage());
        assertTrue(rejected.getMessage().contains("RETINAGRADE_PACS_DICOMWEB_PASSWORD"), rejected.getMessage());

        DicomWebClient client = new DicomWebClient(web);
        List<AttributeList> studies = client.searchStudies(new PacsClient.StudyQuery("PATIENT-WEB", "20250101-20251231", "OP",
                null, null));
        assertEquals(1, studies.size());
        String study = studyUid("WEB");
        assertEquals(study, Attribute.getSingleStringValueOrEmptyString(studies.get(0), TagFromName.StudyInstanceUID));
        assertEquals("40", Attribute.getSingleStringValueOrEmptyString(studies.get(0), TagFromName.NumberOfStudyRelatedInstances));
        List<AttributeList> series = client.searchSeries(study, "OP");
        assertEquals(2, series.size(), "one series per eye");
        assertEquals(java.util.Set.of("R", "L"), java.util.Set.of(
                Attribute.getSingleStringValueOrEmptyString(series.get(0), TagFromName.Laterality),
                Attribute.getSingleStringValueOrEmptyString(series.get(1), TagFromName.Laterality)),
                "the requested include fields come back");
        assertEquals(0, client.searchStudies(new PacsClient.StudyQuery("PATIENT-NOBODY", null, null, null, null)).size());
        // In pages of 7, the 40 instances take six requests with limit and offset.
        List<String[]> paged = new DicomWebClient(web, 7).searchInstances(study);
        assertEquals(40, paged.size());
        assertEquals(40, paged.stream().map(instance -> instance[1]).distinct().count());

        // Orthanc is killed as the 20th instance arrives; the resumed job fetches only the rest.
        DicomIngestService.Options options = new DicomIngestService.Options("pacs-web", "pacs-test", false, null,
                DicomDecoder.DEFAULT_MAX_PIXELS, "test");
        IngestJob interrupted = retrieveService.retrieve(web, List.of(study), options, line -> {
            if (line.contains("received 20/40")) {
                try {
                    orthanc.kill();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertEquals("interrupted", interrupted.status, interrupted.summary());
        assertEquals(20, interrupted.stored, interrupted.summary());

        orthanc.start();
        resumeToExactly(interrupted, 40, "pacs-web");

        IngestJob again = retrieveService.retrieve(web, List.of(study), options, line -> { });
        assertEquals("completed", again.status);
        assertEquals(0, again.stored);
        assertEquals(40, again.duplicates);
        assertTrue(auditTrail.verify().intact());
    }

    /** Resumes the interrupted job and checks that it ends with every instance stored exactly once. */
    private void resumeToExactly(IngestJob interrupted, int instances, String cohort) throws Exception {
        IngestJob resumed = retrieveService.resume(interrupted.id, "test", line -> { });
        assertEquals("completed", resumed.status, resumed.summary());
        assertEquals(instances, resumed.readCount);
        assertEquals(instances, resumed.stored, "every instance stored exactly once: " + resumed.summary());
        assertEquals(0, resumed.duplicates);
        assertEquals((long) instances, cohortService.summary(cohort).get().members());
    }

    private static PacsSettings settings() {
        return new PacsSettings("RETINAGRADE", OUR_PORT, "127.0.0.1", OrthancPeer.DICOM_PORT, OrthancPeer.AE_TITLE, 20);
    }

    private long storedItems() {
        return QuarkusTransaction.requiringNew().call(() -> IngestJobItem.count(
                "status = 'stored' and sourceRef like 'pacs:" + studyUid("MOVE") + "/%'"));
    }

    private static String studyUid(String key) {
        return OphthalmicPhotography.uidFor("study:study-" + key);
    }

    /** Writes an OP object whose Rows claim twice the rows that its Pixel Data contains. */
    private static void writeUndecodable(Path file) throws Exception {
        Files.createDirectories(file.getParent());
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new FundusPhantom(64).render(1, true, 9), "png", png);
        AttributeList list = OphthalmicPhotography.build(Preprocessor.decode(png.toByteArray()), new OphthalmicPhotography.Identity(
                "PATIENT-BAD", "TEST^BAD", "study-BAD", LocalDate.of(2025, 3, 4), "ACC-BAD", "R", "series-BAD", "instance-BAD", 1));
        int rows = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Rows, 0);
        com.pixelmed.dicom.UnsignedShortAttribute doubled = new com.pixelmed.dicom.UnsignedShortAttribute(TagFromName.Rows);
        doubled.addValue(rows * 2);
        list.put(doubled);
        try (OutputStream out = Files.newOutputStream(file)) {
            OphthalmicPhotography.write(list, out, "TEST");
        }
    }

    /** Writes one study of distinct phantom OP objects: half right eye, half left, one series each. */
    private static void writeStudy(Path folder, String key, int count) throws Exception {
        Files.createDirectories(folder);
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new FundusPhantom(64).render(2, true, 7), "png", png);
        Mat base = Preprocessor.decode(png.toByteArray());
        for (int i = 0; i < count; i++) {
            String laterality = i % 2 == 0 ? "R" : "L";
            AttributeList list = OphthalmicPhotography.build(base, new OphthalmicPhotography.Identity("PATIENT-" + key,
                    "TEST^" + key, "study-" + key, LocalDate.of(2025, 3, 4), "ACC-" + key, laterality,
                    "series-" + key + "-" + laterality, "instance-" + key + "-" + i, i + 1));
            byte[] pixels = ((OtherByteAttribute) list.get(TagFromName.PixelData)).getByteValues();
            pixels[0] = (byte) i; // distinct pixels, so each instance becomes an image of its own
            pixels[1] = (byte) (i >> 8);
            ((OtherByteAttribute) list.get(TagFromName.PixelData)).setValues(pixels);
            try (OutputStream out = Files.newOutputStream(folder.resolve(key + "-" + i + ".dcm"))) {
                OphthalmicPhotography.write(list, out, "TEST");
            }
        }
    }
}
