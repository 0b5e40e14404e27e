package org.retinagrade.dicom;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A DICOM series of a study, with the equipment that acquired it. */
@Entity
@Table(name = "series")
public class Series extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "study_id", nullable = false)
    public Long studyId;

    @Column(name = "series_instance_uid", unique = true)
    public String seriesInstanceUid;

    public String modality;

    /** "L" or "R", or null when unknown. */
    @Column(columnDefinition = "bpchar")
    public String laterality;

    public String manufacturer;

    @Column(name = "model_name")
    public String modelName;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;
}
