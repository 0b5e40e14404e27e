package org.retinagrade.study;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A named set of images with labels and split assignments; members are {@link CohortMember}s. */
@Entity
@Table(name = "cohort")
public class Cohort extends PanacheEntityBase {

    /** Cohort names: a letter or digit, then up to 63 letters, digits, dots, underscores or hyphens. */
    public static final String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, unique = true)
    public String name;

    public String description;

    @Column(name = "created_at", nullable = false, insertable = false, updatable = false)
    public Instant createdAt;

    public static Cohort findByName(String name) {
        return find("name", name).firstResult();
    }
}
