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
                    + " (default 127.0.0.1)."
        })
public class ServeCommand implements Callable<Integer>, DatabaseCommand {

    private static final Logger LOG = Logger.getLogger(ServeCommand.class);

    @ConfigProperty(name = "quarkus.http.port")
    int port;

    @ConfigProperty(name = "quarkus.http.host")
    String host;

    @Override
    public Integer call() {
        LOG.infof("RetinaGrade service listening on http://%s:%d", host, port);
        Quarkus.waitForExit();
        LOG.info("RetinaGrade service stopped");
        return 0;
    }
}
