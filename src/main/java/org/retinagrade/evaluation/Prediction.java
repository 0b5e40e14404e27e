package org.retinagrade.evaluation;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A run's prediction for one image: grade probabilities and, as JSON, the per-transform predictions of TTA. */
@Entity
@Table(name = "prediction")
public class Prediction extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id", nullable = false)
    public Long runId;

    @Column(name = "image_id", nullable = false)
    public Long imageId;

    @Column(name = "true_grade")
    public Short trueGrade;

    @Column(name = "predicted_grade", nullable = false)
    public short predictedGrade;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(nullable = false)
    public double[] probabilities;

    @JdbcTypeCode(SqlTypes.JSON)
    public String tta;
}
