package org.retinagrade.cli;

import io.quarkus.runtime.Quarkus;
import java.util.concurrent.Callable;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import picocli.CommandLine.Command;

/** {@code retinagrade serve}: run the HTTP service until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {
            "Start the HTTP service and run until interrupted (Ctrl-C or SIGTERM).",
            "Endpoints: /q/health (liveness and readiness), /api/cohorts (cohorts and their counts).",
            "The port is set by QUARKUS_HTTP_PORT (default 8080); the listening address by QUARKUS_HTTP_HOST"
                    + " (default 127.0.0.1).",
            "With --dicom-cohort it also runs the DICOM C-STORE SCP of `pacs listen` (AE title and port from"
                    + " retinagrade.pacs.ae-title and retinagrade.pacs.listen-port) and stores what is pushed into that cohort."
        })
public class ServeCommand implements Callable<Integer>, DatabaseCommand {

    private static final Logger LOG = Logger.getLogger(ServeCommand.class);

    @ConfigProperty(name = "quarkus.http.port")
    int port;

    @ConfigProperty(name = "quarkus.http.host")
    String host;

    @picocli.CommandLine.Option(names = "--dicom-cohort", paramLabel = "NAME",
            description = "Also receive DICOM pushes (C-STORE) into this cohort; created when new.")
    String dicomCohort;

    @picocli.CommandLine.Option(names = "--dicom-study", defaultValue = "default",
            description = "Study whose store receives the pushed files (default: ${DEFAULT-VALUE}).")
    String dicomStudy;

    @picocli.CommandLine.Option(names = "--dicom-bind", defaultValue = "0.0.0.0",
            description = "Address the C-STORE SCP listens on (default: ${DEFAULT-VALUE}).")
    String dicomBind;

    @jakarta.inject.Inject
    org.retinagrade.pacs.PacsListener listener;

    @Override
    public Integer call() throws java.io.IOException {
        if (dicomCohort != null) {
            try {
                org.retinagrade.pacs.PacsSettings settings = org.retinagrade.pacs.PacsSettings.fromConfig();
                org.retinagrade.pacs.StorageReceiver receiver = listener.start(settings, dicomBind,
                        new org.retinagrade.ingest.DicomIngestService.Options(dicomCohort, dicomStudy, false, null,
                                org.retinagrade.dicom.DicomDecoder.DEFAULT_MAX_PIXELS, "serve"));
                LOG.infof("DICOM C-STORE SCP %s listening on %s:%d into cohort %s", settings.aeTitle(), dicomBind,
                        receiver.port(), dicomCohort);
            } catch (IllegalArgumentException | java.io.IOException e) {
                System.err.println("retinagrade serve: " + e.getMessage());
                return 2;
            }
        }
        LOG.infof("RetinaGrade service listening on http://%s:%d", host, port);
        Quarkus.waitForExit();
        org.retinagrade.ingest.IngestJob job = listener.stop();
        if (job != null) {
            LOG.info(job.summary());
        }
        LOG.info("RetinaGrade service stopped");
        return 0;
    }
}
