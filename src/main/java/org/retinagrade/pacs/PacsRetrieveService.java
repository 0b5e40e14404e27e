package org.retinagrade.pacs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jboss.logging.Logger;
import org.retinagrade.Workspace;
import org.retinagrade.dicom.DicomInstance;
import org.retinagrade.ingest.DicomIngestService;
import org.retinagrade.ingest.IngestJob;

/**
 * Retrieves studies from a PACS into a cohort as an ingest job with one item per instance.
 * The instances are listed first by an image-level C-FIND and recorded as pending items.
 * Those already stored (same SOP Instance UID) are marked duplicates and not fetched. The
 * rest arrive by C-MOVE to our own C-STORE SCP, or by C-GET, and a worker thread stores each
 * one after it is received. When the PACS goes away midway, the job ends "interrupted" with
 * its missing items still pending, and {@link #resume} fetches exactly those.
 */
@ApplicationScoped
public class PacsRetrieveService {

    private static final Logger LOG = Logger.getLogger(PacsRetrieveService.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "pacs:";
    /** Received bytes that may wait for the end of the transfer before storing starts anyway. */
    static final long HELD_BYTES_LIMIT = 2L << 30;

    /** Retrieve method: C-MOVE to our own C-STORE SCP, C-GET, or QIDO-RS and WADO-RS over HTTP. */
    public enum Method { MOVE, GET, DICOMWEB }

    /** The source of a retrieve job: DIMSE settings for C-MOVE and C-GET, DICOMweb settings for DICOMWEB. */
    private record Peer(PacsSettings dimse, DicomWebSettings web, Method method) {

        String describe() {
            return method == Method.DICOMWEB ? web.url() : dimse.peer();
        }

        String methodName() {
            return method == Method.DICOMWEB ? "DICOMweb (QIDO-RS, WADO-RS)" : "C-" + method;
        }
    }

    @Inject
    DicomIngestService ingest;

    /** Starts a retrieve job for the given studies by C-MOVE or C-GET. */
    public IngestJob retrieve(PacsSettings settings, List<String> studyUids, Method method, DicomIngestService.Options options,
            Consumer<String> progress) throws IOException {
        if (method == Method.DICOMWEB) {
            throw new IllegalArgumentException("a DICOMweb retrieve needs DicomWebSettings");
        }
        return start(new Peer(settings, null, method), studyUids, options, progress);
    }

    /** Starts a retrieve job for the given studies by QIDO-RS and WADO-RS. */
    public IngestJob retrieve(DicomWebSettings settings, List<String> studyUids, DicomIngestService.Options options,
            Consumer<String> progress) throws IOException {
        return start(new Peer(null, settings, Method.DICOMWEB), studyUids, options, progress);
    }

    private IngestJob start(Peer peer, List<String> studyUids, DicomIngestService.Options options, Consumer<String> progress)
            throws IOException {
        if (studyUids.isEmpty()) {
            throw new IllegalArgumentException("no studies to retrieve: give --study-uid or query keys that match studies");
        }
        Map<String, Object> details = new LinkedHashMap<>();
        if (peer.method() == Method.DICOMWEB) {
            // The password is not recorded: a resume reads it from the configuration again.
            details.put("dicomweb_url", peer.web().url());
            details.put("dicomweb_user", peer.web().user());
            details.put("timeout", peer.web().timeoutSeconds());
        } else {
            PacsSettings settings = peer.dimse();
            details.put("host", settings.host());
            details.put("port", settings.port());
            details.put("called_ae_title", settings.calledAeTitle());
            details.put("ae_title", settings.aeTitle());
            details.put("listen_port", settings.listenPort());
            details.put("timeout", settings.timeoutSeconds());
        }
        details.put("method", peer.method().name().toLowerCase(java.util.Locale.ROOT));
        details.put("studies", studyUids);
        String source = peer.method() == Method.DICOMWEB ? peer.web().url() : "pacs://" + peer.dimse().peer();
        DicomIngestService.Session session = ingest.startJob("pacs", source, options, details);
        progress.accept("ingest job " + session.jobId() + ": retrieving " + studyUids.size() + " "
                + (studyUids.size() == 1 ? "study" : "studies") + " from " + peer.describe() + " by " + peer.methodName());
        return runOrInterrupt(session, peer, studyUids, options.actor(), false, progress);
    }

    /** Continues a stopped retrieve job and requests the instances that are still missing again. */
    public IngestJob resume(long jobId, String actor, Consumer<String> progress) throws IOException {
        return resume(jobId, actor, null, progress);
    }

    /**
     * Continues a stopped retrieve job, receiving on {@code listenPort} when it is not null
     * (for a job started with a port the PACS does not know us at), otherwise on the job's port.
     */
    public IngestJob resume(long jobId, String actor, Integer listenPort, Consumer<String> progress) throws IOException {
        IngestJob job = QuarkusTransaction.requiringNew().call(() -> IngestJob.<IngestJob>findById(jobId));
        if (job == null || !job.kind.equals("pacs")) {
            throw new IllegalArgumentException("no PACS ingest job " + jobId);
        }

        JsonNode node = JSON.readTree(job.options);
        if (node.path("receiver").asBoolean(false) || job.source.startsWith("c-store-scp://")) {
            // A receiver's instances were pushed to it: there is nothing to fetch, only the job to close.
            progress.accept("ingest job " + jobId + " received pushed instances; nothing can be fetched again, so it is"
                    + " marked completed");
            return ingest.finish(jobId, "completed", actor);
        }
        Integer timeout = node.hasNonNull("timeout") ? node.get("timeout").asInt() : null;
        Method method = Method.valueOf(node.path("method").asText("move").toUpperCase(java.util.Locale.ROOT));
        Peer peer;
        if (method == Method.DICOMWEB) {
            peer = new Peer(null, DicomWebSettings.fromConfig().with(node.path("dicomweb_url").asText(null),
                    node.path("dicomweb_user").asText(null), timeout), method);
        } else {
            Integer port = listenPort != null ? listenPort : node.hasNonNull("listen_port") ? node.get("listen_port").asInt() : null;
            peer = new Peer(PacsSettings.fromConfig().with(node.path("ae_title").asText(null), port, node.path("host").asText(null),
                    node.hasNonNull("port") ? node.get("port").asInt() : null, node.path("called_ae_title").asText(null), timeout),
                    null, method);
        }
        List<String> studies = new ArrayList<>();
        node.path("studies").forEach(study -> studies.add(study.asText()));

        DicomIngestService.Session session = ingest.reopen(jobId, ingest.optionsOf(job, actor));
        progress.accept("resuming ingest job " + jobId + " from " + peer.describe());
        return runOrInterrupt(session, peer, studies, actor, true, progress);
    }

    /** Runs the retrieve; a failure that is not the PACS's (a busy port, a full disk) leaves the job interrupted, not running. */
    private IngestJob runOrInterrupt(DicomIngestService.Session session, Peer peer, List<String> studies, String actor,
            boolean resumed, Consumer<String> progress) throws IOException {
        try {
            return run(session, peer, studies, actor, resumed, progress);
        } catch (IOException | RuntimeException e) {
            ingest.finish(session.jobId(), "interrupted", actor);
            progress.accept("ingest job " + session.jobId() + " is left interrupted: fix the error, then `retinagrade ingest"
                    + " resume " + session.jobId() + "` fetches what is missing");
            throw e;
        }
    }

    private IngestJob run(DicomIngestService.Session session, Peer peer, List<String> studies, String actor, boolean resumed,
            Consumer<String> progress) throws IOException {
        long jobId = session.jobId();
        PacsClient client = peer.dimse() == null ? null : new PacsClient(peer.dimse());
        DicomWebClient web = peer.web() == null ? null : new DicomWebClient(peer.web());
        List<String[]> expected = new ArrayList<>();
        try {
            for (String study : studies) {
                for (String[] instance : client != null ? client.findInstances(study) : web.searchInstances(study)) {
                    expected.add(new String[] {study, instance[0], instance[1]});
                }
            }
        } catch (PacsException e) {
            progress.accept("listing instances failed: " + e.getMessage());
            return ingest.finish(jobId, "interrupted", actor);
        }

        List<String[]> pending = new ArrayList<>();
        for (String[] instance : expected) {
            pending.add(new String[] {reference(instance), instance[2]});
        }
        ingest.addPendingItems(session, pending);

        Map<String, String> finished = ingest.finishedItems(jobId);
        List<String[]> missing = new ArrayList<>();
        int alreadyStored = 0;
        for (String[] instance : expected) {
            String reference = reference(instance);
            if (finished.containsKey(reference)) {
                continue;
            }
            String storedUid = session.storedUid(instance[2]);
            boolean stored = QuarkusTransaction.requiringNew().call(() -> DicomInstance.findBySopInstanceUid(storedUid) != null);
            if (stored) {
                ingest.markStored(session, reference, storedUid);
                alreadyStored++;
            } else {
                missing.add(instance);
            }
        }
        progress.accept(String.format("%d instances listed: %d finished earlier, %d already stored, %d to fetch",
                expected.size(), finished.size(), alreadyStored, missing.size()));
        if (!missing.isEmpty()) {
            fetch(session, client, web, peer, missing, progress);
        }

        long stillPending = ingest.pendingCount(jobId);
        String status = stillPending == 0 ? "completed" : "interrupted";
        if (stillPending > 0) {
            String movePort = peer.method() == Method.MOVE ? " (add --listen-port PORT when the PACS knows our AE title at"
                    + " another port than " + peer.dimse().listenPort() + ")" : "";
            progress.accept(stillPending + " instances are still missing; run `retinagrade ingest resume " + jobId
                    + "` when the PACS is reachable again" + movePort);
        } else {
            session.reportUnmatchedLabels(progress, resumed);
        }
        return ingest.finish(jobId, status, actor);
    }

    private void fetch(DicomIngestService.Session session, PacsClient client, DicomWebClient web, Peer peer,
            List<String[]> missing, Consumer<String> progress) throws IOException {
        Method method = peer.method();
        Map<String, String> references = new ConcurrentHashMap<>();
        missing.forEach(instance -> references.put(instance[2], reference(instance)));
        AtomicInteger stored = new AtomicInteger();
        AtomicInteger received = new AtomicInteger();
        int total = missing.size();

        // Received files are stored by two workers of their own (patient, study and series inserts
        // that race retry, see DicomIngestService.Session#ingest). On a machine with fewer than four
        // cores, storing takes the CPU that receiving needs and the PACS sends more slowly
        // (bench/README.md), so received files wait in the incoming folder until the transfer ends
        // or HELD_BYTES_LIMIT of them are waiting. An instance acknowledged but not yet stored when
        // the process stops keeps its item pending, and a resume fetches it again. That is also why
        // the C-MOVE receiver may acknowledge each instance on receipt and write it on its own thread.
        java.util.concurrent.ExecutorService storing = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
            Thread thread = new Thread(r, "pacs-store");
            thread.setDaemon(true);
            return thread;
        });
        AtomicBoolean holding = new AtomicBoolean(Runtime.getRuntime().availableProcessors() < 4);
        Queue<Runnable> heldTasks = new ConcurrentLinkedQueue<>();
        AtomicLong heldBytes = new AtomicLong();
        Consumer<Runnable> submit = task -> {
            try {
                storing.submit(task);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                task.run(); // the retrieve already ended, so this late arrival is stored on this thread
            }
        };
        Runnable release = () -> {
            holding.set(false);
            for (Runnable task = heldTasks.poll(); task != null; task = heldTasks.poll()) {
                submit.accept(task);
            }
        };
        Consumer<Path> store = file -> {
            int count = received.incrementAndGet();
            if (count % 20 == 0) {
                progress.accept(String.format("  received %d/%d", count, total));
            }
            Runnable task = () -> {
                String name = file.getFileName().toString();
                String sop = name.contains("~") ? name.substring(0, name.indexOf('~')) : name; // "UID~2": a second copy
                String reference = references.getOrDefault(sop, PREFIX + "unlisted/" + sop);
                session.ingest(reference, file);
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.warnf("cannot remove received file %s: %s", file, e.getMessage());
                }
                int done = stored.incrementAndGet();
                if (done % 50 == 0 || done == total) {
                    progress.accept(String.format("  %d/%d instances stored", done, total));
                }
            };
            if (!holding.get()) {
                submit.accept(task);
                return;
            }
            heldTasks.add(task);
            if (heldBytes.addAndGet(sizeOf(file)) > HELD_BYTES_LIMIT && holding.get()) {
                progress.accept(String.format(java.util.Locale.ROOT, "  %.1f GB received and waiting: storing from now on"
                        + " while receiving", heldBytes.get() / 1e9));
                release.run();
            }
        };

        Path incoming = Files.createDirectories(Workspace.root().resolve("cache").resolve("incoming")
                .resolve("job-" + session.jobId()));
        List<String[]> requests = requests(missing, session);
        long start = System.nanoTime();
        double receivedSeconds;
        try {
            if (method == Method.DICOMWEB) {
                retrieveEach(web, missing, incoming, store, progress);
            } else if (method == Method.MOVE) {
                PacsSettings settings = peer.dimse();
                try (StorageReceiver receiver = new StorageReceiver("0.0.0.0", settings.listenPort(), settings.aeTitle(),
                        incoming, settings.timeoutSeconds(), (file, caller) -> store.accept(file), true)) {
                    client.move(settings.aeTitle(), requests);
                }
            } else {
                client.get(requests, incoming, new com.pixelmed.network.ReceivedObjectHandler() {
                    @Override
                    public void sendReceivedObjectIndication(String fileName, String transferSyntax, String caller) {
                        store.accept(Path.of(fileName));
                    }
                });
            }
        } catch (PacsException e) {
            progress.accept("retrieve stopped: " + e.getMessage());
        } finally {
            receivedSeconds = (System.nanoTime() - start) / 1e9;
            release.run();
            storing.shutdown();
            try {
                while (!storing.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    progress.accept(String.format("  waiting for %d received instances to be stored",
                            received.get() - stored.get()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        removeEmptyFolders(incoming);
        double seconds = (System.nanoTime() - start) / 1e9;
        progress.accept(String.format(java.util.Locale.ROOT, "received %d instances by %s in %.2f s (%.1f instances/s);"
                + " stored %d in %.2f s (%.1f instances/s)", received.get(), peer.methodName(), receivedSeconds,
                received.get() / Math.max(receivedSeconds, 1e-9), stored.get(), seconds, stored.get() / Math.max(seconds, 1e-9)));
    }

    /**
     * Retrieves the instances one by one with WADO-RS and hands each file to the store. An
     * instance the server no longer has keeps its item pending, and the rest are still fetched.
     */
    private static void retrieveEach(DicomWebClient web, List<String[]> missing, Path incoming, Consumer<Path> store,
            Consumer<String> progress) throws PacsException, IOException {
        for (String[] instance : missing) {
            try {
                store.accept(web.retrieveInstance(instance[0], instance[1], instance[2], incoming));
            } catch (DicomWebClient.NotFound e) {
                LOG.warnf("WADO-RS retrieve of %s: %s", reference(instance), e.getMessage());
                progress.accept("WADO-RS: " + e.getMessage() + "; its item stays pending");
            } catch (DicomWebClient.HttpStatus e) {
                if (e.affectsAll()) {
                    throw e;
                }
                // A server error for one instance (a damaged attachment, say) must not keep the others from being fetched.
                LOG.warnf("WADO-RS retrieve of %s failed: %s", reference(instance), e.getMessage());
                progress.accept("WADO-RS retrieve of instance " + instance[2] + " failed: " + e.getMessage()
                        + "; its item stays pending");
            } catch (IOException e) {
                // A malformed response for one instance leaves its item pending, and the others are still fetched.
                LOG.warnf("WADO-RS retrieve of %s failed: %s", reference(instance), e.getMessage());
                progress.accept("WADO-RS retrieve of instance " + instance[2] + " failed: " + e.getMessage()
                        + "; its item stays pending");
            }
        }
    }

    /** Removes the empty association folders below the job's incoming folder, and that folder when it is empty too. */
    private static void removeEmptyFolders(Path incoming) {
        try (java.util.stream.Stream<Path> paths = Files.walk(incoming)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (Files.isDirectory(path)) {
                    try {
                        Files.deleteIfExists(path);
                    } catch (java.nio.file.DirectoryNotEmptyException e) {
                        LOG.debugf("keeping %s: it still contains received files", path);
                    }
                }
            }
        } catch (IOException e) {
            LOG.debugf("cannot clean up %s: %s", incoming, e.getMessage());
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0; // storing will report the file
        }
    }

    /** Builds one request per series whose instances are all missing and one per other missing instance. */
    private List<String[]> requests(List<String[]> missing, DicomIngestService.Session session) {
        Map<String, Integer> missingPerSeries = new HashMap<>();
        missing.forEach(instance -> missingPerSeries.merge(instance[1], 1, Integer::sum));
        Map<String, Long> totalPerSeries = ingest.itemsPerSeries(session.jobId(), PREFIX);
        List<String[]> requests = new ArrayList<>();
        java.util.Set<String> wholeSeries = new java.util.HashSet<>();
        for (String[] instance : missing) {
            long total = totalPerSeries.getOrDefault(instance[1], -1L);
            if (total == missingPerSeries.get(instance[1])) {
                if (wholeSeries.add(instance[1])) {
                    requests.add(new String[] {instance[0], instance[1], null});
                }
            } else {
                requests.add(instance.clone());
            }
        }
        return requests;
    }

    /** Returns the item reference of an instance, "pacs:STUDY/SERIES/SOP" with the PACS's own UIDs. */
    static String reference(String[] instance) {
        return PREFIX + instance[0] + "/" + instance[1] + "/" + instance[2];
    }
}
