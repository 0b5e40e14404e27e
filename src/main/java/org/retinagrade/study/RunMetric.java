package org.retinagrade.study;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One metric value of a run: per epoch during training (epoch set) or of the final evaluation. */
@Entity
@Table(name = "run_metric")
public class RunMetric extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "run_id", nullable = false)
    public Long runId;

    @Column(nullable = false)
    public String name;

    /** Empty for the whole evaluation set. */
    @Column(nullable = false)
    public String subgroup = "";

    public Integer epoch;

    /** Null where the value is undefined; {@link #note} then gives the reason. */
    public Double value;

    @Column(name = "ci_low")
    public Double ciLow;

    @Column(name = "ci_high")
    public Double ciHigh;

    public String note;

    public static RunMetric of(long runId, String name, Integer epoch, double value) {
        RunMetric metric = new RunMetric();
        metric.runId = runId;
        metric.name = name;
        metric.epoch = epoch;
        if (Double.isNaN(value)) {
            metric.note = "undefined";
        } else {
            metric.value = value;
        }
        return metric;
    }
}
