package org.retinagrade.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;

@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class AbandonedWorkTest {

    @Inject
    AbandonedWork abandoned;

    @Inject
    EntityManager entityManager;

    @Test
    void runningWorkIsMarkedInterrupted() {
        long running = insert("INSERT INTO run (status, seed) VALUES ('running', 1) RETURNING id");
        long succeeded = insert("INSERT INTO run (status, seed) VALUES ('succeeded', 1) RETURNING id");
        long job = insert("INSERT INTO ingest_job (kind, source, status) VALUES ('pacs', 'test', 'running') RETURNING id");

        assertTrue(abandoned.markInterrupted() >= 2, "fewer than the two running items were marked");

        assertEquals("interrupted", status("run", running));
        assertEquals(AbandonedWork.REASON, text("SELECT error FROM run WHERE id = " + running));
        assertEquals("succeeded", status("run", succeeded));
        assertEquals("interrupted", status("ingest_job", job));
        assertEquals(1L, ((Number) QuarkusTransaction.requiringNew().call(() -> entityManager.createNativeQuery(
                "SELECT count(*) FROM audit_event WHERE entity = 'ingest_job' AND entity_id = '" + job
                        + "' AND action = 'ingest.interrupted'").getSingleResult())).longValue());
    }

    private long insert(String sql) {
        return QuarkusTransaction.requiringNew().call(() -> ((Number) entityManager.createNativeQuery(sql).getSingleResult()).longValue());
    }

    private String status(String table, long id) {
        return text("SELECT status FROM " + table + " WHERE id = " + id);
    }

    private String text(String sql) {
        return QuarkusTransaction.requiringNew().call(() -> (String) entityManager.createNativeQuery(sql).getSingleResult());
    }
}
