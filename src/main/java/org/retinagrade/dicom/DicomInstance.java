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

/** Stored, de-identified DICOM instance. Each of its frames is a row of the image table. */
@Entity
@Table(name = "dicom_instance")
public class DicomInstance extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "series_id", nullable = false)
    public Long seriesId;

    /** The UID as stored: the original when UIDs are retained, otherwise its keyed remapping. */
    @Column(name = "sop_instance_uid", nullable = false, unique = true)
    public String sopInstanceUid;

    @Column(name = "sop_class_uid")
    public String sopClassUid;

    @Column(name = "transfer_syntax_uid", nullable = false)
    public String transferSyntaxUid;

    public String photometric;

    @Column(name = "rows")
    public Integer rows;

    @Column(name = "columns")
    public Integer columns;

    @Column(nullable = false)
    public int frames;

    @Column(name = "pixel_spacing")
    public String pixelSpacing;

    @Column(name = "acquisition_date")
    public LocalDate acquisitionDate;

    @Column(columnDefinition = "bpchar", nullable = false)
    public String sha256;

    @Column(name = "source_sha256", columnDefinition = "bpchar", nullable = false, unique = true)
    public String sourceSha256;

    @Column(name = "storage_path", nullable = false)
    public String storagePath;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;

    public static DicomInstance findBySopInstanceUid(String uid) {
        return find("sopInstanceUid", uid).firstResult();
    }

    public static DicomInstance findBySourceSha256(String sha256) {
        return find("sourceSha256", sha256).firstResult();
    }
}
