package org.retinagrade.evaluation;

/**
 * A metric value with its 95 % confidence interval (NaN when not computed) and, when the
 * value is undefined (NaN), the reason.
 */
public record Metric(String name, double value, double ciLow, double ciHigh, String reason) {

    public static Metric of(String name, double value) {
        return new Metric(name, value, Double.NaN, Double.NaN, "");
    }

    public static Metric undefined(String name, String reason) {
        return new Metric(name, Double.NaN, Double.NaN, Double.NaN, reason);
    }

    public Metric withInterval(double low, double high) {
        return new Metric(name, value, low, high, reason);
    }

    public boolean defined() {
        return !Double.isNaN(value);
    }
}
