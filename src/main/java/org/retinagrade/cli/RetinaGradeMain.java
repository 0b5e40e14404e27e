package org.retinagrade.cli;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.BindException;
import java.util.Optional;
import org.retinagrade.Workspace;
import org.retinagrade.db.DatabaseSettings;
import org.retinagrade.db.EmbeddedDatabase;
import picocli.CommandLine;

/**
 * Entry point of the command line and the service. The arguments are parsed first: help,
 * invalid arguments and commands that need no database run at once, without Quarkus. For
 * the others it picks the database (the server in {@code DB_URL}, or the workspace's
 * embedded PostgreSQL), passes it on as datasource settings and runs the command inside
 * Quarkus; the embedded server stops when the process ends. Only {@code serve} opens the
 * HTTP port.
 */
@QuarkusMain
public class RetinaGradeMain implements QuarkusApplication {

    @Inject
    CommandLine.IFactory factory;

    public static void main(String... args) {
        silenceNoisyImageReaders();
        if (!needsDatabase(args)) {
            System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
            System.exit(new CommandLine(new RetinaGradeCommand()).execute(args));
            return;
        }
        String protocolProblem = checkProtocolBeforeStart(args);
        if (protocolProblem != null) {
            System.err.println("retinagrade run: " + protocolProblem);
            System.exit(2);
            return;
        }
        boolean serve = args[0].equals("serve");
        if (serve) {
            String problem = checkHttpPort(System.getenv("QUARKUS_HTTP_PORT"));
            if (problem != null) {
                System.err.println("retinagrade serve: " + problem);
                System.exit(2);
                return;
            }
            if (!"text".equals(System.getenv("RETINAGRADE_LOG_FORMAT"))) {
                // The service writes one JSON object per log record, for log collectors.
                System.setProperty("quarkus.log.console.json.enabled", "true");
            }
        } else {
            System.setProperty("quarkus.http.host-enabled", "false");
        }

        DatabaseSettings.Connection connection;
        try {
            connection = DatabaseSettings.resolve(System.getenv(), Workspace.root());
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("retinagrade: cannot start the database: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.setProperty("quarkus.datasource.jdbc.url", connection.jdbcUrl());
        System.setProperty("quarkus.datasource.username", connection.user());
        System.setProperty("quarkus.datasource.password", connection.password());

        Optional<EmbeddedDatabase> embedded = connection.embedded();
        embedded.ifPresent(EmbeddedDatabase::holdShutdownForApplication);
        if (embedded.isPresent()) {
            System.setProperty(org.retinagrade.study.AbandonedWork.EXCLUSIVE_DATABASE, "true");
        }
        int[] exitCode = {0};
        Quarkus.run(RetinaGradeMain.class, (code, failure) -> {
            exitCode[0] = code;
            if (failure != null) {
                System.err.println("retinagrade: " + describeStartFailure(failure));
            }
        }, args);
        embedded.ifPresent(database -> {
            database.applicationStopped();
            try {
                database.close();
            } catch (IOException e) {
                System.err.println("retinagrade: failed to stop the embedded database: " + e.getMessage());
            }
        });
        System.exit(exitCode[0]);
    }

    /**
     * Removes PixelMed's JPEG lossless ImageIO reader, which prints a line to standard output
     * each time ImageIO queries whether it can decode a file (PixelMed imageio 20200328).
     * NOTE: DICOM JPEG lossless decoding, when it is built, must register it again.
     */
    static void silenceNoisyImageReaders() {
        javax.imageio.spi.IIORegistry registry = javax.imageio.spi.IIORegistry.getDefaultInstance();
        java.util.Iterator<javax.imageio.spi.ImageReaderSpi> readers =
                registry.getServiceProviders(javax.imageio.spi.ImageReaderSpi.class, true);
        java.util.List<javax.imageio.spi.ImageReaderSpi> noisy = new java.util.ArrayList<>();
        readers.forEachRemaining(spi -> {
            if (spi.getClass().getName().equals("com.pixelmed.imageio.JPEGLosslessImageReaderSpi")) {
                noisy.add(spi);
            }
        });
        noisy.forEach(spi -> registry.deregisterServiceProvider(spi, javax.imageio.spi.ImageReaderSpi.class));
    }

    /**
     * Returns true when the arguments name a command that uses the database and request no
     * help. Invalid arguments return false, so that picocli reports them without a start-up.
     */
    static boolean needsDatabase(String[] args) {
        CommandLine.ParseResult result;
        try {
            result = new CommandLine(new RetinaGradeCommand()).parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            return false;
        }
        CommandLine.ParseResult leaf = result;
        while (true) {
            if (leaf.isUsageHelpRequested() || leaf.isVersionHelpRequested()) {
                return false;
            }
            if (!leaf.hasSubcommand()) {
                break;
            }
            leaf = leaf.subcommand();
        }
        return leaf.commandSpec().userObject() instanceof DatabaseCommand;
    }

    /**
     * Validates the protocol of {@code run PROTOCOL} before the database starts, so that a bad
     * protocol leaves nothing behind; returns the problem, or null when there is none.
     */
    static String checkProtocolBeforeStart(String[] args) {
        CommandLine.ParseResult result = new CommandLine(new RetinaGradeCommand()).parseArgs(args);
        if (!result.hasSubcommand() || !(result.subcommand().commandSpec().userObject() instanceof RunCommand run)) {
            return null;
        }
        if (run.resume != null) {
            return run.protocolFile != null ? "give either PROTOCOL or --resume RUN_ID, not both" : null;
        }
        if (run.protocolFile == null) {
            return "missing PROTOCOL (or --resume RUN_ID); see `retinagrade run --help`";
        }
        try {
            org.retinagrade.study.ProtocolLoader.load(run.protocolFile, run.data);
            return null;
        } catch (org.retinagrade.study.ProtocolException e) {
            return e.getMessage();
        } catch (java.io.IOException e) {
            return "cannot read protocol " + run.protocolFile + ": " + e.getMessage();
        }
    }

    /** Returns a message when QUARKUS_HTTP_PORT is set but not a port number, otherwise null. */
    static String checkHttpPort(String port) {
        if (port == null || port.isBlank()) {
            return null;
        }
        try {
            int value = Integer.parseInt(port.trim());
            if (value >= 0 && value <= 65535) {
                return null;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        return "invalid QUARKUS_HTTP_PORT '" + port + "': expected a port number from 0 to 65535";
    }

    private static String describeStartFailure(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof BindException) {
                return "cannot listen on " + System.getProperty("quarkus.http.host", "127.0.0.1") + " port "
                        + Optional.ofNullable(System.getenv("QUARKUS_HTTP_PORT")).orElse("8080")
                        + ": the port is already in use; stop the other process or set QUARKUS_HTTP_PORT to a free port";
            }
        }
        return failure.toString();
    }

    @Override
    public int run(String... args) {
        return new CommandLine(RetinaGradeCommand.class, factory).execute(args);
    }
}
