package org.retinagrade.ingest;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** One input of an ingest job (a file or a DICOM instance) and what became of it. */
@Entity
@Table(name = "ingest_job_item")
public class IngestJobItem extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "job_id", nullable = false)
    public Long jobId;

    @Column(name = "source_ref", nullable = false)
    public String sourceRef;

    /** "pending", "stored", "duplicate" or "quarantined". */
    @Column(nullable = false)
    public String status;

    @Column(name = "sop_instance_uid")
    public String sopInstanceUid;

    @Column(columnDefinition = "bpchar")
    public String sha256;

    @Column(name = "image_id")
    public Long imageId;

    public String message;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt = Instant.now();
}
