package org.retinagrade.study;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A training or study run, with what is needed to repeat it in {@link #provenance}. */
@Entity
@Table(name = "run")
public class Run extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "protocol_id")
    public Long protocolId;

    @Column(name = "cohort_id")
    public Long cohortId;

    /** "created", "running", "succeeded", "failed" or "interrupted". */
    @Column(nullable = false)
    public String status;

    @Column(nullable = false)
    public long seed;

    /** JSON object: settings, data manifest hash, code and library versions, thread counts. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    public String provenance;

    public String error;

    @Column(name = "started_at")
    public Instant startedAt;

    @Column(name = "finished_at")
    public Instant finishedAt;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;
}
