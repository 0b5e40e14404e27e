package org.retinagrade.ingest;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A patient known only by a keyed pseudonym (see {@link Pseudonymizer}). */
@Entity
@Table(name = "patient")
public class Patient extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, unique = true)
    public String pseudonym;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;

    /** Returns the patient with this pseudonym, inserting it first when it is new. */
    public static Patient findOrCreate(String pseudonym) {
        Patient existing = find("pseudonym", pseudonym).firstResult();
        if (existing != null) {
            return existing;
        }
        Patient patient = new Patient();
        patient.pseudonym = pseudonym;
        patient.persist();
        return patient;
    }
}
