package org.retinagrade.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;

class EmbeddedDatabaseTest {

    private static final Path DATA = Path.of("target", "embedded-restart-test").toAbsolutePath();

    @Test
    void restartKeepsData() throws Exception {
        TestDatabase.deleteRecursively(DATA);
        try (EmbeddedDatabase first = EmbeddedDatabase.start(DATA);
                Connection connection = DriverManager.getConnection(first.jdbcUrl(), EmbeddedDatabase.USER, "");
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE kept (value text)");
            statement.execute("INSERT INTO kept VALUES ('written before restart')");
        }

        try (EmbeddedDatabase second = EmbeddedDatabase.start(DATA);
                Connection connection = DriverManager.getConnection(second.jdbcUrl(), EmbeddedDatabase.USER, "");
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT value FROM kept")) {
            assertTrue(rows.next(), "the row written before the restart is gone");
            assertEquals("written before restart", rows.getString(1));
        }
    }

    @Test
    void secondProcessOnSameDataIsRejected() throws Exception {
        Path data = DATA.resolveSibling("embedded-lock-test");
        TestDatabase.deleteRecursively(data);
        try (EmbeddedDatabase first = EmbeddedDatabase.start(data)) {
            EmbeddedDatabase.DatabaseInUseException error =
                    assertThrows(EmbeddedDatabase.DatabaseInUseException.class, () -> EmbeddedDatabase.start(data));
            assertTrue(error.getMessage().contains(data.toString()), error.getMessage());
            assertTrue(error.getMessage().contains("DB_URL"), error.getMessage());
        }
    }

    @Test
    void serverOfKilledProcessIsStopped() throws Exception {
        Path data = DATA.resolveSibling("embedded-orphan-test");
        TestDatabase.deleteRecursively(data);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), HoldDatabaseMain.class.getName(),
                data.toString()).redirectErrorStream(true).start();
        try (BufferedReader output = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = output.readLine()) != null && !line.equals("started")) {
                // log lines of the server start
            }
            assertEquals("started", line, "the holding process did not start the server");
        }
        holder.destroyForcibly().waitFor();
        long orphan = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
        assertTrue(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false), "the server did not outlive its process");

        try (EmbeddedDatabase restarted = EmbeddedDatabase.start(data);
                Connection connection = DriverManager.getConnection(restarted.jdbcUrl(), EmbeddedDatabase.USER, "")) {
            assertTrue(connection.isValid(5));
        }
        assertFalse(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false), "the left server still runs");
    }

    @Test
    void invalidDbUrlIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> DatabaseSettings.resolve(java.util.Map.of("DB_URL", "mysql://localhost/x"), DATA));
        assertTrue(error.getMessage().contains("mysql://localhost/x"), error.getMessage());
    }
}
