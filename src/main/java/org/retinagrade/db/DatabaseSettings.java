package org.retinagrade.db;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses the database for a process: the server named by {@code DB_URL} (with
 * {@code DB_USER} and {@code DB_PASSWORD}) when that variable is set, otherwise an
 * embedded PostgreSQL whose data directory is {@code <workspace>/db/postgres}.
 */
public final class DatabaseSettings {

    private DatabaseSettings() {
    }

    /** The connection a process should use, and the embedded server to stop when it ends, if any. */
    public record Connection(String jdbcUrl, String user, String password, Optional<EmbeddedDatabase> embedded) {
    }

    /** Returns the embedded server's data directory inside a workspace. */
    public static Path embeddedDataDirectory(Path workspace) {
        return workspace.resolve("db").resolve("postgres");
    }

    /**
     * Resolves the connection from the environment, starting the embedded server when
     * {@code DB_URL} is unset or empty.
     */
    public static Connection resolve(Map<String, String> environment, Path workspace) throws IOException {
        String url = environment.getOrDefault("DB_URL", "");
        if (!url.isBlank()) {
            if (!url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("invalid DB_URL '" + url
                        + "': expected a PostgreSQL JDBC URL such as jdbc:postgresql://127.0.0.1:5432/retinagrade");
            }
            return new Connection(url, environment.getOrDefault("DB_USER", "postgres"),
                    environment.getOrDefault("DB_PASSWORD", ""), Optional.empty());
        }
        Path dataDirectory = embeddedDataDirectory(workspace);
        try {
            java.nio.file.Files.createDirectories(dataDirectory);
        } catch (IOException e) {
            throw new IOException("cannot create the embedded database folder " + dataDirectory + " (" + e
                    + "); set RETINAGRADE_WORKSPACE to a writable folder, or DB_URL to a PostgreSQL server", e);
        }
        EmbeddedDatabase embedded = EmbeddedDatabase.start(dataDirectory);
        return new Connection(embedded.jdbcUrl(), EmbeddedDatabase.USER, "", Optional.of(embedded));
    }
}
