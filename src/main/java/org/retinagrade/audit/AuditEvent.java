package org.retinagrade.audit;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** One row of the append-only audit trail; see {@link AuditTrail} for the hash chain. */
@Entity
@Table(name = "audit_event")
public class AuditEvent extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String actor;

    @Column(nullable = false)
    public String action;

    @Column(nullable = false)
    public String entity;

    @Column(name = "entity_id")
    public String entityId;

    @Column(name = "occurred_at", nullable = false)
    public Instant occurredAt;

    /** Canonical JSON object with keys in sorted order. */
    @Column(nullable = false)
    public String details;

    @Column(name = "prev_hash", nullable = false, columnDefinition = "bpchar")
    public String prevHash;

    @Column(nullable = false, columnDefinition = "bpchar")
    public String hash;
}
