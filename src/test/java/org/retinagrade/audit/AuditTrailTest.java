package org.retinagrade.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.retinagrade.CliRunner;
import org.retinagrade.TestDatabase;
import picocli.CommandLine;

@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class AuditTrailTest {

    @Inject
    AuditTrail auditTrail;

    @Inject
    AgroalDataSource dataSource;

    @Inject
    CommandLine.IFactory factory;

    @Test
    void appendLinksToPreviousEvent() throws Exception {
        AuditEvent first = auditTrail.append("tester", "test.first", "thing", 1, Map.of("b", 2, "a", "x"));
        AuditEvent second = auditTrail.append("tester", "test.second", "thing", 2, Map.of());

        assertEquals(first.hash, second.prevHash);
        assertEquals("{\"a\":\"x\",\"b\":2}", first.details, "details are not in canonical key order");
        String canonical = "[\"tester\",\"test.second\",\"thing\",\"2\",\"" + second.occurredAt + "\",\"{}\"]";
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest((first.hash + canonical).getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, second.hash);
    }

    @Test
    void verifyPassesOnUntouchedChain() {
        auditTrail.append("tester", "test.verify", "thing", null, Map.of("n", 1));
        AuditTrail.Verification result = auditTrail.verify();
        assertTrue(result.intact(), "chain reported broken: " + result.problem());
        assertTrue(result.eventsChecked() >= 1);
    }

    @Test
    void logPrintsLatestEventsOldestFirst() {
        auditTrail.append("tester", "test.log.first", "thing", 21, Map.of());
        auditTrail.append("tester", "test.log.second", "thing", 22, Map.of());
        CliRunner.Result result = CliRunner.run(factory, "audit", "log", "--limit", "2");
        assertEquals(0, result.exitCode(), result.err());
        int first = result.out().indexOf("test.log.first");
        int second = result.out().indexOf("test.log.second");
        assertTrue(first >= 0 && second > first, result.out());
    }

    @Test
    void updateAndDeleteAreRejected() throws SQLException {
        AuditEvent event = auditTrail.append("tester", "test.immutable", "thing", 3, Map.of());
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            SQLException update = assertThrows(SQLException.class,
                    () -> statement.executeUpdate("UPDATE audit_event SET actor = 'mallory' WHERE id = " + event.id));
            assertTrue(update.getMessage().contains("append-only"), update.getMessage());
            SQLException delete = assertThrows(SQLException.class,
                    () -> statement.executeUpdate("DELETE FROM audit_event WHERE id = " + event.id));
            assertTrue(delete.getMessage().contains("append-only"), delete.getMessage());
            SQLException truncate = assertThrows(SQLException.class, () -> statement.execute("TRUNCATE audit_event"));
            assertTrue(truncate.getMessage().contains("append-only"), truncate.getMessage());
        }
    }

    @Test
    void tamperedRowIsReportedByVerify() throws SQLException {
        auditTrail.append("tester", "test.before", "thing", 10, Map.of());
        AuditEvent target = auditTrail.append("tester", "test.target", "thing", 11, Map.of("grade", 2));
        auditTrail.append("tester", "test.after", "thing", 12, Map.of());

        String original = target.details;
        setDetails(target.id, "{\"grade\":4}");
        try {
            AuditTrail.Verification result = auditTrail.verify();
            assertFalse(result.intact(), "tampering was not detected");
            assertEquals(target.id, result.firstBrokenId().get());
            assertTrue(result.problem().contains("content was changed"), result.problem());

            CliRunner.Result cli = CliRunner.run(factory, "audit", "verify");
            assertEquals(1, cli.exitCode());
            assertTrue(cli.out().contains("broken at event " + target.id), cli.out());
        } finally {
            setDetails(target.id, original);
        }
        assertTrue(auditTrail.verify().intact(), "chain still broken after restoring the row");
    }

    /** Rewrites an event's details with the append-only trigger disabled for this one statement. */
    private void setDetails(long id, String details) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement();
                    PreparedStatement update = connection.prepareStatement("UPDATE audit_event SET details = ? WHERE id = ?")) {
                statement.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_delete");
                update.setString(1, details);
                update.setLong(2, id);
                assertEquals(1, update.executeUpdate());
                statement.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update_delete");
            }
            connection.commit();
        }
    }
}
