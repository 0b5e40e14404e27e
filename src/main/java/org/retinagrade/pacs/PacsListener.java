package org.retinagrade.pacs;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jboss.logging.Logger;
import org.retinagrade.Workspace;
import org.retinagrade.ingest.DicomIngestService;
import org.retinagrade.ingest.IngestJob;

/**
 * C-STORE SCP that modalities or a PACS push to. Every received instance is stored into a
 * cohort as an item of one long-running ingest job (kind "pacs"), which is completed when the
 * listener stops.
 */
@ApplicationScoped
public class PacsListener {

    /** C-STORE failure status "Error: Cannot understand" (PS3.4 Table B.2-1). */
    static final int CANNOT_UNDERSTAND = 0xC000;

    private static final Logger LOG = Logger.getLogger(PacsListener.class);

    @Inject
    DicomIngestService ingest;

    private StorageReceiver receiver;
    private final java.util.concurrent.ExecutorService storing = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "dicom-listener-store");
        thread.setDaemon(true);
        return thread;
    });
    private DicomIngestService.Session session;
    private String actor;

    /**
     * Starts listening on the settings' listen port and AE title. The port is bound before the
     * job is created, so a busy port or a bad address leaves no job behind.
     */
    public synchronized StorageReceiver start(PacsSettings settings, String bindHost, DicomIngestService.Options options)
            throws IOException {
        return start(settings, bindHost, options, java.util.Set.of());
    }

    /**
     * Starts listening, accepting instances only from the given calling AE titles (all when the
     * set is empty). Another sender's association request is rejected, so no data is sent.
     */
    public synchronized StorageReceiver start(PacsSettings settings, String bindHost, DicomIngestService.Options options,
            java.util.Set<String> acceptedCallers) throws IOException {
        if (receiver != null) {
            throw new IllegalStateException("the DICOM listener is already running on port " + receiver.port());
        }
        actor = options.actor();
        Path incoming = Files.createDirectories(Workspace.root().resolve("cache").resolve("incoming")
                .resolve("listener-" + System.currentTimeMillis()));
        java.util.concurrent.atomic.AtomicReference<DicomIngestService.Session> current = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
        StorageReceiver started = new StorageReceiver(bindHost, settings.listenPort(), settings.aeTitle(), incoming,
                settings.timeoutSeconds(), (file, caller) -> {
                    if (!acceptedCallers.isEmpty() && !acceptedCallers.contains(caller == null ? "" : caller.strip())) {
                        try {
                            Files.deleteIfExists(file);
                        } catch (IOException e) {
                            LOG.warnf("cannot remove rejected file %s: %s", file, e.getMessage());
                        }
                        LOG.warnf("rejected an instance from AE title %s: not among the accepted AE titles %s", caller,
                                acceptedCallers);
                        throw new IllegalStateException("calling AE title " + caller + " is not accepted");
                    }
                    try {
                        ready.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    // One storing thread serves all associations. The C-STORE response goes out only once the
                    // instance is stored, because a modality may delete what it has sent.
                    DicomIngestService.Outcome outcome;
                    try {
                        outcome = storing.submit(() -> current.get().ingest("c-store:" + caller + "/" + file.getFileName(), file)).get();
                    } catch (java.util.concurrent.ExecutionException | InterruptedException e) {
                        throw new IllegalStateException("storing a received instance failed: " + e.getMessage(), e);
                    }
                    String name = file.getFileName().toString();
                    String sop = name.contains("~") ? name.substring(0, name.indexOf('~')) : name; // "UID~2": a second copy
                    DicomIngestService.Session session = current.get();
                    LOG.infof("ingest job %d: instance %s from %s: %s", session.jobId(), session.storedUid(sop), caller,
                            outcome.name().toLowerCase(java.util.Locale.ROOT));
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        LOG.warnf("cannot remove received file %s: %s", file, e.getMessage());
                    }
                    // A quarantined instance is kept with its reason but is not usable, so the response reports a failure (C000).
                    return outcome == DicomIngestService.Outcome.QUARANTINED ? CANNOT_UNDERSTAND : 0x0000;
                });
        started.acceptOnly(acceptedCallers);
        try {
            session = ingest.startJob("pacs", "c-store-scp://" + settings.aeTitle() + "@" + bindHost + ":" + started.port(),
                    options, Map.of("ae_title", settings.aeTitle(), "listen_port", started.port(), "receiver", true));
        } catch (IOException | RuntimeException e) {
            started.close();
            throw e;
        }
        current.set(session);
        ready.countDown();
        receiver = started;
        return receiver;
    }

    /** Completes the job when the application shuts down (Ctrl-C, SIGTERM), while the database is still open. */
    void onShutdown(@jakarta.enterprise.event.Observes io.quarkus.runtime.ShutdownEvent event) {
        try {
            IngestJob job = stop();
            if (job != null) {
                LOG.info(job.summary());
            }
        } catch (IOException | RuntimeException e) {
            LOG.errorf("stopping the DICOM listener failed: %s", e.getMessage());
        }
    }

    /** Stops listening and completes the job. Returns the job, or null when the listener was not running. */
    public synchronized IngestJob stop() throws IOException {
        if (receiver == null) {
            return null;
        }
        receiver.close();
        receiver = null;
        return ingest.finish(session.jobId(), "completed", actor);
    }
}
