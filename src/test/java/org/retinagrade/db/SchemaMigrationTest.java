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
    @jakarta.transaction.Transactional
    void entitiesRoundTripThroughSchema() {
        org.retinagrade.ingest.Patient patient = org.retinagrade.ingest.Patient.findOrCreate("schema-test-patient");
        org.retinagrade.dicom.Study study = new org.retinagrade.dicom.Study();
        study.patientId = patient.id;
        study.studyInstanceUid = "1.2.826.0.1.3680043.10.1234.1";
        study.persist();
        org.retinagrade.dicom.Series series = new org.retinagrade.dicom.Series();
        series.studyId = study.id;
        series.laterality = "L";
        series.modality = "OP";
        series.persist();
        org.retinagrade.study.Protocol protocol = new org.retinagrade.study.Protocol();
        protocol.name = "schema-test";
        protocol.body = "name: schema-test";
        protocol.sha256 = "a".repeat(64);
        protocol.persist();
        org.retinagrade.ingest.Image image = new org.retinagrade.ingest.Image();
        image.sha256 = "b".repeat(64);
        image.sizeBytes = 1;
        image.mediaType = "image/png";
        image.storagePath = "x";
        image.source = "schema test";
        image.width = 1;
        image.height = 1;
        image.seriesId = series.id;
        image.persist();
        org.retinagrade.review.HumanGrade grade = new org.retinagrade.review.HumanGrade();
        grade.imageId = image.id;
        grade.grader = "schema test";
        grade.grade = 3;
        grade.persist();
        org.retinagrade.study.Run run = new org.retinagrade.study.Run();
        run.status = "created";
        run.protocolId = protocol.id;
        run.provenance = "{\"test\": true}";
        run.persist();
        org.retinagrade.evaluation.Prediction prediction = new org.retinagrade.evaluation.Prediction();
        prediction.runId = run.id;
        prediction.imageId = image.id;
        prediction.trueGrade = 3;
        prediction.predictedGrade = 2;
        prediction.probabilities = new double[] {0.1, 0.1, 0.5, 0.2, 0.1};
        prediction.tta = "{\"identity\": [0.1, 0.1, 0.5, 0.2, 0.1]}";
        prediction.persist();
        org.retinagrade.evaluation.Prediction.getEntityManager().flush();
        org.retinagrade.evaluation.Prediction.getEntityManager().clear();

        org.retinagrade.evaluation.Prediction read = org.retinagrade.evaluation.Prediction.findById(prediction.id);
        assertEquals(0.5, read.probabilities[2]);
        assertEquals(Short.valueOf((short) 3), ((org.retinagrade.review.HumanGrade) org.retinagrade.review.HumanGrade
                .findById(grade.id)).grade);
        assertEquals("OP", ((org.retinagrade.dicom.Series) org.retinagrade.dicom.Series.findById(series.id)).modality);
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
