package org.retinagrade.cli;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;
import java.io.IOException;
import java.util.Optional;
import org.retinagrade.Workspace;
import org.retinagrade.db.DatabaseSettings;
import org.retinagrade.db.EmbeddedDatabase;
import picocli.CommandLine;

/**
 * Entry point of the command line and the service. Before Quarkus starts, it picks the
 * database (the server in {@code DB_URL}, or the workspace's embedded PostgreSQL) and
 * passes it on as datasource settings; the embedded server stops when the process ends.
 * Only {@code serve} opens the HTTP port.
 */
@QuarkusMain
public class RetinaGradeMain implements QuarkusApplication {

    @Inject
    CommandLine.IFactory factory;

    public static void main(String... args) {
        if (needsNoApplication(args)) {
            System.exit(new CommandLine(new RetinaGradeCommand()).execute(args));
            return;
        }
        boolean serve = args.length > 0 && args[0].equals("serve");
        if (!serve) {
            System.setProperty("quarkus.http.host-enabled", "false");
        } else if (!"text".equals(System.getenv("RETINAGRADE_LOG_FORMAT"))) {
            // The service writes one JSON object per log record, for log collectors.
            System.setProperty("quarkus.log.console.json.enabled", "true");
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
        int[] exitCode = {0};
        Quarkus.run(RetinaGradeMain.class, (code, failure) -> {
            exitCode[0] = code;
            if (failure != null) {
                System.err.println("retinagrade: " + failure);
            }
        }, args);
        embedded.ifPresent(database -> {
            try {
                database.close();
            } catch (IOException e) {
                System.err.println("retinagrade: failed to stop the embedded database: " + e.getMessage());
            }
        });
        System.exit(exitCode[0]);
    }

    /** Help and commands that touch neither the database nor the service run without starting Quarkus or the database. */
    static boolean needsNoApplication(String[] args) {
        if (args.length == 0) {
            return true;
        }
        String first = args[0];
        return first.equals("phantom") || first.equals("augment") || first.equals("-h") || first.equals("--help") || first.equals("-V")
                || first.equals("--version") || first.equals("help");
    }

    @Override
    public int run(String... args) {
        return new CommandLine(RetinaGradeCommand.class, factory).execute(args);
    }
}
