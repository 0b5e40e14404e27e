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

    private static final Logger LOG = Logger.getLogger(PacsListener.class);

    @Inject
    DicomIngestService ingest;

    private StorageReceiver receiver;
    private DicomIngestService.Session session;
    private String actor;

    /** Starts listening on the settings' listen port and AE title. */
    public synchronized StorageReceiver start(PacsSettings settings, String bindHost, DicomIngestService.Options options)
            throws IOException {
        if (receiver != null) {
            throw new IllegalStateException("the DICOM listener is already running on port " + receiver.port());
        }
        actor = options.actor();
        session = ingest.startJob("pacs", "c-store-scp://" + settings.aeTitle() + "@" + bindHost + ":" + settings.listenPort(),
                options, Map.of("ae_title", settings.aeTitle(), "listen_port", settings.listenPort()));
        Path incoming = Files.createDirectories(Workspace.root().resolve("cache").resolve("incoming")
                .resolve("job-" + session.jobId()));
        receiver = new StorageReceiver(bindHost, settings.listenPort(), settings.aeTitle(), incoming, settings.timeoutSeconds(),
                (file, caller) -> {
                    DicomIngestService.Outcome outcome = session.ingest("c-store:" + caller + "/" + file.getFileName(), file);
                    LOG.infof("received %s from %s: %s", file.getFileName(), caller, outcome.name().toLowerCase(java.util.Locale.ROOT));
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        LOG.warnf("cannot remove received file %s: %s", file, e.getMessage());
                    }
                });
        return receiver;
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
