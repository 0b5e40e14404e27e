package org.retinagrade;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.retinagrade.db.DatabaseSettings;

/**
 * Gives the Quarkus tests a real PostgreSQL: the server in {@code DB_URL} when set,
 * otherwise a fresh embedded one under {@code target/test-workspace}. Also points the
 * workspace there, so tests write only under {@code target/}.
 */
public class TestDatabase implements QuarkusTestResourceLifecycleManager {

    public static final Path WORKSPACE = Path.of("target", "test-workspace").toAbsolutePath();

    private DatabaseSettings.Connection connection;

    @Override
    public Map<String, String> start() {
        try {
            deleteRecursively(WORKSPACE);
            Files.createDirectories(WORKSPACE);
            System.setProperty("retinagrade.workspace", WORKSPACE.toString());
            connection = DatabaseSettings.resolve(System.getenv(), WORKSPACE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // A server given by DB_URL is never cleaned: tests use names of their own and leave other data alone.
        return Map.of(
                "quarkus.datasource.jdbc.url", connection.jdbcUrl(),
                "quarkus.datasource.username", connection.user(),
                "quarkus.datasource.password", connection.password());
    }

    @Override
    public void stop() {
        connection.embedded().ifPresent(database -> {
            try {
                database.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
