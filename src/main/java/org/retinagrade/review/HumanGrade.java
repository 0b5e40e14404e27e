package org.retinagrade.review;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A grader's reading of an image: a DR grade 0-4, or ungradable (then no grade). */
@Entity
@Table(name = "human_grade")
public class HumanGrade extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "image_id", nullable = false)
    public Long imageId;

    @Column(nullable = false)
    public String grader;

    /** Grade 0-4 on the international clinical DR scale; null when {@link #ungradable}. */
    public Short grade;

    @Column(nullable = false)
    public boolean ungradable;

    public String comment;

    @Column(name = "graded_at", nullable = false)
    public Instant gradedAt = Instant.now();
}
