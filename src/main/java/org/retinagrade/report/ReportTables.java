package org.retinagrade.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.retinagrade.evaluation.Metric;

/** The report's tables as rows of text, shared by the HTML and PDF renderers. */
final class ReportTables {

    static final List<String> HEADLINE = List.of("accuracy", "quadratic_kappa", "linear_kappa", "macro_f1", "weighted_f1",
            "referable_auc", "ece");

    private ReportTables() {
    }

    static String value(Metric metric) {
        if (metric == null) {
            return "-";
        }
        return metric.defined() ? String.format(Locale.ROOT, "%.3f", metric.value()) : "undefined";
    }

    static String interval(Metric metric) {
        if (metric == null || !metric.defined() || Double.isNaN(metric.ciLow())) {
            return "";
        }
        return String.format(Locale.ROOT, "%.3f - %.3f", metric.ciLow(), metric.ciHigh());
    }

    static List<String[]> headline(Map<String, Metric> metrics) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"metric", "value", "95 % CI", "note"});
        for (String name : HEADLINE) {
            Metric metric = metrics.get(name);
            rows.add(new String[] {name.replace('_', ' '), value(metric), interval(metric), metric == null ? "" : metric.reason()});
        }
        return rows;
    }

    static List<String[]> operatingPoints(Map<String, Metric> metrics) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"operating point", "threshold", "sensitivity", "specificity", "PPV", "NPV"});
        for (String point : List.of("high_sensitivity", "high_specificity", "threshold")) {
            String[] row = new String[6];
            row[0] = point.equals("threshold") ? "protocol threshold" : point.replace('_', ' ');
            row[1] = value(metrics.get("referable_threshold_" + point));
            int k = 2;
            for (String name : List.of("sensitivity", "specificity", "ppv", "npv")) {
                Metric metric = metrics.get("referable_" + name + "_" + point);
                String ci = interval(metric);
                row[k++] = value(metric) + (ci.isEmpty() ? "" : " (" + ci + ")");
            }
            rows.add(row);
        }
        return rows;
    }

    static List<String[]> perGrade(Map<String, Metric> metrics) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"grade", "precision", "recall", "F1", "support"});
        String[] names = {"0 no DR", "1 mild", "2 moderate", "3 severe NPDR", "4 proliferative"};
        for (int g = 0; g < 5; g++) {
            Metric support = metrics.get("support_grade_" + g);
            rows.add(new String[] {names[g], value(metrics.get("precision_grade_" + g)), value(metrics.get("recall_grade_" + g)),
                    value(metrics.get("f1_grade_" + g)),
                    support == null ? "-" : String.format(Locale.ROOT, "%.0f", support.value())});
        }
        return rows;
    }

    static List<String[]> subgroups(Map<String, Map<String, Metric>> all) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"subgroup", "images", "accuracy", "quadratic kappa", "referable AUC"});
        all.forEach((group, metrics) -> {
            double images = 0;
            for (int g = 0; g < 5; g++) {
                Metric support = metrics.get("support_grade_" + g);
                images += support == null || !support.defined() ? 0 : support.value();
            }
            rows.add(new String[] {group.isEmpty() ? "all" : group, String.format(Locale.ROOT, "%.0f", images),
                    withInterval(metrics.get("accuracy")), withInterval(metrics.get("quadratic_kappa")),
                    withInterval(metrics.get("referable_auc"))});
        });
        return rows;
    }

    private static String withInterval(Metric metric) {
        String ci = interval(metric);
        String text = value(metric);
        if (metric != null && !metric.defined() && !metric.reason().isEmpty()) {
            return text + " (" + metric.reason() + ")";
        }
        return ci.isEmpty() ? text : text + " (" + ci + ")";
    }

    /** Renders maps as "key value, key value" and lists as comma-separated values, for people rather than parsers. */
    static String readable(Object value) {
        if (value instanceof Map<?, ?> map) {
            List<String> parts = new ArrayList<>();
            map.forEach((k, v) -> parts.add(String.valueOf(k).replace('_', ' ') + " " + readable(v)));
            return String.join(", ", parts);
        }
        if (value instanceof List<?> list) {
            return String.join(", ", list.stream().map(ReportTables::readable).toList());
        }
        return String.valueOf(value);
    }

    @SuppressWarnings("unchecked")
    static List<String[]> provenance(Map<String, Object> provenance, long seed) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"item", "value"});
        rows.add(new String[] {"protocol", String.valueOf(provenance.getOrDefault("protocol", "none (run started by `retinagrade "
                + provenance.getOrDefault("command", "train") + "`)"))});
        rows.add(new String[] {"command arguments", String.join(" ", (List<String>) provenance.getOrDefault("arguments", List.of()))});
        rows.add(new String[] {"cohort", String.valueOf(provenance.get("cohort"))});
        rows.add(new String[] {"data manifest SHA-256", String.valueOf(provenance.get("data_manifest_sha256"))});
        rows.add(new String[] {"split", String.valueOf(provenance.get("split"))});
        rows.add(new String[] {"training / validation images", provenance.get("train_images") + " / " + provenance.get("validation_images")});
        rows.add(new String[] {"model", readable(provenance.get("model"))});
        rows.add(new String[] {"evaluation", readable(provenance.get("evaluation"))});
        rows.add(new String[] {"seed", Long.toString(seed)});
        rows.add(new String[] {"threads", readable(provenance.get("threads"))});
        rows.add(new String[] {"code version", String.valueOf(provenance.get("code_version"))});
        rows.add(new String[] {"libraries", readable(provenance.get("libraries"))});
        return rows;
    }

    /** Reporting items of CLAIM 2024 and TRIPOD+AI (2024) and whether this report covers them. */
    static List<String[]> checklist() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"item", "guideline", "covered here"});
        rows.add(new String[] {"Data source, cohort and image counts", "CLAIM 7-9, TRIPOD+AI 5-6", "yes (provenance)"});
        rows.add(new String[] {"Reference standard and grading scale", "CLAIM 14-17, TRIPOD+AI 7", "partly: labels of the cohort on the international clinical DR scale; graders not described"});
        rows.add(new String[] {"Data partitions at patient level", "CLAIM 21, TRIPOD+AI 8", "yes (split, manifest hash)"});
        rows.add(new String[] {"Preprocessing and augmentation", "CLAIM 12-13", "yes (protocol text, or command arguments of a train run)"});
        rows.add(new String[] {"Model architecture and initialisation", "CLAIM 22-24, TRIPOD+AI 12", "yes (model, arguments)"});
        rows.add(new String[] {"Training procedure and hyperparameters", "CLAIM 25", "yes (protocol text or command arguments, training curves)"});
        rows.add(new String[] {"Performance metrics with 95 % confidence intervals", "CLAIM 28-29, TRIPOD+AI 23", "yes (patient-level bootstrap)"});
        rows.add(new String[] {"Calibration", "TRIPOD+AI 23", "yes (ECE, reliability diagram)"});
        rows.add(new String[] {"Subgroup performance", "CLAIM 36, TRIPOD+AI 23", "yes (laterality, source folder, camera where known)"});
        rows.add(new String[] {"Failure analysis", "CLAIM 37", "yes (worst misclassifications)"});
        rows.add(new String[] {"Missing and ungradable data", "CLAIM 10, TRIPOD+AI 9", "partly: ungradable images are left out and counted in the log"});
        rows.add(new String[] {"Sample size justification", "TRIPOD+AI 10", "no"});
        rows.add(new String[] {"External validation", "CLAIM 32, TRIPOD+AI 15", "no"});
        rows.add(new String[] {"Software versions and code availability", "CLAIM 42, TRIPOD+AI 18", "yes (code version, libraries)"});
        return rows;
    }
}
