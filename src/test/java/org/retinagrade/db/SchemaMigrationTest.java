package org.retinagrade.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;

@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class SchemaMigrationTest {

    private static final List<String> CORE_TABLES = List.of("patient", "study", "series", "image", "cohort",
            "cohort_member", "human_grade", "protocol", "run", "run_metric", "prediction", "model_artifact",
            "ingest_job", "ingest_job_item", "quarantine_entry", "audit_event");

    @Inject
    AgroalDataSource dataSource;

    @Test
    void migrationCreatesCoreTables() throws SQLException {
        List<String> tables = new ArrayList<>();
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")) {
            while (rows.next()) {
                tables.add(rows.getString(1));
            }
        }
        for (String table : CORE_TABLES) {
            assertTrue(tables.contains(table), "missing table " + table + " in " + tables);
        }
    }

    @Test
    void flywayHistoryRecordsSuccess() throws SQLException {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(
                        "SELECT count(*) FILTER (WHERE NOT success), count(*) FROM flyway_schema_history WHERE version IS NOT NULL")) {
            rows.next();
            assertEquals(0, rows.getInt(1), "failed migrations recorded");
            assertTrue(rows.getInt(2) >= 1, "no migration applied");
        }
    }

    @Test
    void gradeOutsideScaleIsRejected() throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO image (sha256, size_bytes, media_type, storage_path, source, width, height)"
                    + " VALUES (repeat('e', 64), 1, 'image/png', 'x', 'schema test', 1, 1) ON CONFLICT DO NOTHING");
            SQLException error = assertThrows(SQLException.class, () -> statement.execute(
                    "INSERT INTO human_grade (image_id, grader, grade) SELECT id, 'schema test', 5 FROM image"
                            + " WHERE sha256 = repeat('e', 64)"));
            assertTrue(error.getMessage().contains("human_grade_grade_check"), error.getMessage());
        }
    }

    @Test
    void ungradableWithGradeIsRejected() throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO image (sha256, size_bytes, media_type, storage_path, source, width, height)"
                    + " VALUES (repeat('f', 64), 1, 'image/png', 'x', 'schema test', 1, 1) ON CONFLICT DO NOTHING");
            SQLException error = assertThrows(SQLException.class, () -> statement.execute(
                    "INSERT INTO human_grade (image_id, grader, grade, ungradable) SELECT id, 'schema test', 2, true"
                            + " FROM image WHERE sha256 = repeat('f', 64)"));
            assertTrue(error.getMessage().contains("check"), error.getMessage());
        }
    }
}
