package org.retinagrade.study;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/** An image's membership in a cohort, with its reference grade (0-4, or null) and split. */
@Entity
@Table(name = "cohort_member")
public class CohortMember extends PanacheEntityBase {

    @EmbeddedId
    public Key key;

    /** "train", "validation", "test", or null before a split is assigned. */
    public String split;

    /** Reference DR grade 0-4 on the international clinical scale, or null when unlabelled. */
    public Short label;

    @Column(name = "added_at", nullable = false, insertable = false, updatable = false)
    public Instant addedAt;

    /** Composite key: cohort and image. */
    @Embeddable
    public static class Key implements Serializable {
        @Column(name = "cohort_id")
        public Long cohortId;

        @Column(name = "image_id")
        public Long imageId;

        public Key() {
        }

        public Key(Long cohortId, Long imageId) {
            this.cohortId = cohortId;
            this.imageId = imageId;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && Objects.equals(cohortId, key.cohortId) && Objects.equals(imageId, key.imageId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(cohortId, imageId);
        }
    }
}
