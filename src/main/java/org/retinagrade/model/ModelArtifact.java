package org.retinagrade.model;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A stored model file of a run (weights or checkpoint) with its hash and size in parameters. */
@Entity
@Table(name = "model_artifact")
public class ModelArtifact extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id")
    public Long runId;

    /** "best-weights" or "checkpoint". */
    @Column(nullable = false)
    public String kind;

    /** Path relative to the workspace. */
    @Column(nullable = false)
    public String path;

    @Column(nullable = false, columnDefinition = "bpchar")
    public String sha256;

    @Column(name = "parameter_count")
    public Long parameterCount;

    public Integer epoch;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;
}
