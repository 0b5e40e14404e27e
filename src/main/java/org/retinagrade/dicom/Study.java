package org.retinagrade.dicom;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.time.LocalDate;

/** A DICOM study of a patient (or, for folder ingestion, one imaging visit). */
@Entity
@Table(name = "study")
public class Study extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "patient_id", nullable = false)
    public Long patientId;

    @Column(name = "study_instance_uid", unique = true)
    public String studyInstanceUid;

    @Column(name = "study_date")
    public LocalDate studyDate;

    @Column(name = "accession_number")
    public String accessionNumber;

    public String description;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;
}
