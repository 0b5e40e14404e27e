package org.retinagrade.ingest;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** One ingestion run over a source; its items are {@link IngestJobItem}s. */
@Entity
@Table(name = "ingest_job")
public class IngestJob extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    /** "folder", "csv", "dicom-folder" or "pacs". */
    @Column(nullable = false)
    public String kind;

    @Column(nullable = false)
    public String source;

    @Column(name = "cohort_id")
    public Long cohortId;

    /** "running", "completed", "failed" or "interrupted". */
    @Column(nullable = false)
    public String status;

    @Column(name = "read_count", nullable = false)
    public int readCount;

    @Column(nullable = false)
    public int stored;

    @Column(nullable = false)
    public int duplicates;

    @Column(nullable = false)
    public int quarantined;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;

    @Column(name = "finished_at")
    public Instant finishedAt;

    /** JSON object with what a resume needs (study, UID handling, labels; PACS peer and studies). */
    @org.hibernate.annotations.JdbcTypeCode(org.hibernate.type.SqlTypes.JSON)
    @Column(nullable = false)
    public String options = "{}";

    /** Returns the one-line summary printed at the end of a job. */
    public String summary() {
        return String.format("ingest job %d (%s %s): %s; read %d, stored %d, duplicates %d, quarantined %d",
                id, kind, source, status, readCount, stored, duplicates, quarantined);
    }
}
