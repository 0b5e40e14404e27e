package org.retinagrade.ingest;

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

/** A stored image (or one frame of a multi-frame DICOM object), named by the SHA-256 of its bytes. */
@Entity
@Table(name = "image")
public class Image extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, unique = true, columnDefinition = "bpchar")
    public String sha256;

    @Column(name = "size_bytes", nullable = false)
    public long sizeBytes;

    @Column(name = "media_type", nullable = false)
    public String mediaType;

    /** Path of the stored file relative to the workspace. */
    @Column(name = "storage_path", nullable = false)
    public String storagePath;

    /** Where the image came from: a file path, or a PACS AE title and SOP Instance UID. */
    @Column(nullable = false)
    public String source;

    @Column(name = "original_name")
    public String originalName;

    @Column(name = "patient_id")
    public Long patientId;

    @Column(name = "series_id")
    public Long seriesId;

    @Column(name = "sop_instance_uid")
    public String sopInstanceUid;

    @Column(name = "sop_class_uid")
    public String sopClassUid;

    @Column(name = "frame_number")
    public Integer frameNumber;

    @Column(name = "dicom_instance_id")
    public Long dicomInstanceId;

    /** "L" or "R", or null when unknown. */
    @Column(columnDefinition = "bpchar")
    public String laterality;

    @Column(nullable = false)
    public int width;

    @Column(nullable = false)
    public int height;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "quality_flags", nullable = false)
    public String[] qualityFlags = new String[0];

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;

    public static Image findBySha256(String sha256) {
        return find("sha256", sha256).firstResult();
    }
}
