package org.retinagrade.ingest;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A rejected input with its reason; the file's bytes are kept at {@link #storedPath} when readable. */
@Entity
@Table(name = "quarantine_entry")
public class QuarantineEntry extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "job_id")
    public Long jobId;

    @Column(name = "source_path", nullable = false)
    public String sourcePath;

    @Column(nullable = false)
    public String reason;

    @Column(columnDefinition = "bpchar")
    public String sha256;

    @Column(name = "size_bytes")
    public Long sizeBytes;

    /** Path of the kept copy relative to the workspace, or null when the file could not be read. */
    @Column(name = "stored_path")
    public String storedPath;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;
}
