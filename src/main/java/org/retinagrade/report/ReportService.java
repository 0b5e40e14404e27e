package org.retinagrade.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.retinagrade.AtomicFiles;
import org.retinagrade.Workspace;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.evaluation.GradeMetrics;
import org.retinagrade.evaluation.Metric;
import org.retinagrade.study.Run;

/**
 * Writes a run's report folder {@code reports/<run-id>/}: {@code report.html}
 * (self-contained, charts inline), {@code report.pdf} with the same content,
 * {@code metrics.json} and {@code predictions.csv}. Each file is written to a temporary
 * name and moved into place.
 */
@ApplicationScoped
public class ReportService {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final int WORST_CASES = 8;

    @Inject
    EntityManager entityManager;

    @Inject
    AuditTrail auditTrail;

    /** The rendered charts and thumbnails, shared by the HTML and the PDF. */
    record Rendered(byte[] confusion, byte[] roc, byte[] reliability, byte[] training, byte[] perGrade,
            List<ReportData.PredictionRow> worst, List<byte[]> worstThumbnails) {
    }

    public Path write(long runId) throws IOException {
        ReportData data = load(runId);
        if (data.predictions().isEmpty()) {
            throw new IllegalArgumentException("run " + runId + " has no predictions; run `retinagrade evaluate --run "
                    + runId + "` first");
        }
        GradeMetrics.Input input = input(data);
        Rendered rendered = new Rendered(Charts.confusion(data.confusion()), Charts.roc(data.predictions(), data.overall()),
                Charts.reliability(GradeMetrics.reliability(input, null)), Charts.training(data.history()),
                Charts.perGrade(data.overall()), worst(data), thumbnails(worst(data)));

        Path folder = Workspace.reports().resolve(Long.toString(runId));
        Files.createDirectories(folder);
        AtomicFiles.write(folder.resolve("metrics.json"), metricsJson(data).getBytes(StandardCharsets.UTF_8), true);
        AtomicFiles.write(folder.resolve("predictions.csv"), predictionsCsv(data).getBytes(StandardCharsets.UTF_8), true);
        AtomicFiles.write(folder.resolve("report.html"), HtmlReport.render(data, rendered).getBytes(StandardCharsets.UTF_8), true);
        AtomicFiles.write(folder.resolve("report.pdf"), PdfReport.render(data, rendered), true);
        QuarkusTransaction.requiringNew().run(() -> auditTrail.append(System.getProperty("user.name"), "report.written", "run", runId,
                Map.of("folder", Workspace.root().relativize(folder).toString())));
        return folder;
    }

    ReportData load(long runId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Run run = Run.findById(runId);
            if (run == null) {
                throw new IllegalArgumentException("run " + runId + " not found; `retinagrade runs` lists runs");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> provenance = JSON.readValue(run.provenance, LinkedHashMap.class);

            Map<Integer, double[]> epochs = new java.util.TreeMap<>();
            @SuppressWarnings("unchecked")
            List<Object[]> epochRows = entityManager.createNativeQuery("SELECT epoch, name, value FROM run_metric"
                    + " WHERE run_id = ?1 AND epoch IS NOT NULL").setParameter(1, runId).getResultList();
            for (Object[] row : epochRows) {
                double[] values = epochs.computeIfAbsent(((Number) row[0]).intValue(),
                        k -> new double[] {Double.NaN, Double.NaN, Double.NaN});
                double value = row[2] == null ? Double.NaN : ((Number) row[2]).doubleValue();
                switch ((String) row[1]) {
                    case "train_loss" -> values[0] = value;
                    case "validation_nll", "validation_loss" -> values[1] = value;
                    case "validation_quadratic_kappa" -> values[2] = value;
                    default -> { }
                }
            }
            List<ReportData.EpochRow> history = new ArrayList<>();
            epochs.forEach((epoch, v) -> history.add(new ReportData.EpochRow(epoch, v[0], v[1], v[2])));

            Map<String, Map<String, Metric>> metrics = new LinkedHashMap<>();
            @SuppressWarnings("unchecked")
            List<Object[]> metricRows = entityManager.createNativeQuery("SELECT subgroup, name, value, ci_low, ci_high, note"
                    + " FROM run_metric WHERE run_id = ?1 AND epoch IS NULL ORDER BY subgroup, id")
                    .setParameter(1, runId).getResultList();
            for (Object[] row : metricRows) {
                String name = (String) row[1];
                metrics.computeIfAbsent((String) row[0], k -> new LinkedHashMap<>()).put(name, new Metric(name,
                        number(row[2]), number(row[3]), number(row[4]), row[5] == null ? "" : (String) row[5]));
            }

            List<ReportData.PredictionRow> predictions = new ArrayList<>();
            @SuppressWarnings("unchecked")
            List<Object[]> predictionRows = entityManager.createNativeQuery("SELECT p.image_id, i.original_name,"
                    + " COALESCE(pa.pseudonym, ''), COALESCE(CAST(i.laterality AS text), ''), i.storage_path, p.true_grade,"
                    + " p.predicted_grade, p.probabilities, CAST(p.tta AS text) FROM prediction p JOIN image i ON i.id = p.image_id"
                    + " LEFT JOIN patient pa ON pa.id = i.patient_id WHERE p.run_id = ?1 ORDER BY p.image_id")
                    .setParameter(1, runId).getResultList();
            for (Object[] row : predictionRows) {
                @SuppressWarnings("unchecked")
                Map<String, List<Number>> tta = row[8] == null ? Map.of() : JSON.readValue((String) row[8], LinkedHashMap.class);
                Map<String, double[]> perTransform = new LinkedHashMap<>();
                tta.forEach((k, v) -> perTransform.put(k, v.stream().mapToDouble(Number::doubleValue).toArray()));
                predictions.add(new ReportData.PredictionRow(((Number) row[0]).longValue(), (String) row[1], (String) row[2],
                        (String) row[3], Workspace.root().resolve((String) row[4]), ((Number) row[5]).intValue(),
                        ((Number) row[6]).intValue(), toDoubles(row[7]), perTransform));
            }
            String protocolText = run.protocolId == null ? null
                    : ((org.retinagrade.study.Protocol) org.retinagrade.study.Protocol.findById(run.protocolId)).body;
            return new ReportData(runId, run.status, run.seed, provenance, history, metrics, predictions, protocolText);
        });
    }

    private static double[] toDoubles(Object array) {
        if (array instanceof double[] doubles) {
            return doubles;
        }
        Object[] values = (Object[]) array;
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = ((Number) values[i]).doubleValue();
        }
        return result;
    }

    private static double number(Object value) {
        return value == null ? Double.NaN : ((Number) value).doubleValue();
    }

    static GradeMetrics.Input input(ReportData data) {
        return new GradeMetrics.Input(data.predictions().stream().mapToInt(ReportData.PredictionRow::trueGrade).toArray(),
                data.predictions().stream().mapToInt(ReportData.PredictionRow::predictedGrade).toArray(),
                data.predictions().stream().map(ReportData.PredictionRow::probabilities).toArray(double[][]::new));
    }

    /** The worst misclassifications: largest grade error first, then highest confidence in the wrong grade. */
    static List<ReportData.PredictionRow> worst(ReportData data) {
        return data.predictions().stream().filter(r -> r.trueGrade() != r.predictedGrade())
                .sorted(Comparator.comparingInt((ReportData.PredictionRow r) -> Math.abs(r.trueGrade() - r.predictedGrade()))
                        .thenComparingDouble(r -> r.probabilities()[r.predictedGrade()]).reversed())
                .limit(WORST_CASES).toList();
    }

    /** JPEG thumbnails (200 px on the long side) decoded with OpenCV; null where the stored file is missing. */
    private static List<byte[]> thumbnails(List<ReportData.PredictionRow> rows) throws IOException {
        List<byte[]> thumbnails = new ArrayList<>();
        for (ReportData.PredictionRow row : rows) {
            if (!Files.exists(row.file())) {
                thumbnails.add(null);
                continue;
            }
            org.opencv.core.Mat rgb = org.retinagrade.imaging.Preprocessor.decode(Files.readAllBytes(row.file()));
            double scale = 200.0 / Math.max(rgb.cols(), rgb.rows());
            org.opencv.core.Mat small = new org.opencv.core.Mat();
            org.opencv.imgproc.Imgproc.resize(rgb, small, new org.opencv.core.Size(Math.round(rgb.cols() * scale),
                    Math.round(rgb.rows() * scale)), 0, 0, org.opencv.imgproc.Imgproc.INTER_AREA);
            org.opencv.imgproc.Imgproc.cvtColor(small, small, org.opencv.imgproc.Imgproc.COLOR_RGB2BGR);
            org.opencv.core.MatOfByte jpeg = new org.opencv.core.MatOfByte();
            org.opencv.imgcodecs.Imgcodecs.imencode(".jpg", small, jpeg);
            thumbnails.add(jpeg.toArray());
            rgb.release();
            small.release();
            jpeg.release();
        }
        return thumbnails;
    }

    static String metricsJson(ReportData data) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("run", data.runId());
        json.put("evaluation", data.provenance().get("evaluation"));
        Map<String, Object> groups = new LinkedHashMap<>();
        data.metrics().forEach((group, metrics) -> {
            Map<String, Object> values = new LinkedHashMap<>();
            metrics.forEach((name, metric) -> {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("value", metric.defined() ? metric.value() : null);
                entry.put("ci_low", Double.isNaN(metric.ciLow()) ? null : metric.ciLow());
                entry.put("ci_high", Double.isNaN(metric.ciHigh()) ? null : metric.ciHigh());
                if (!metric.reason().isEmpty()) {
                    entry.put("undefined_because", metric.reason());
                }
                values.put(name, entry);
            });
            groups.put(group.isEmpty() ? "all" : group, values);
        });
        json.put("metrics", groups);
        json.put("confusion_matrix_rows_reference_columns_predicted", data.confusion());
        json.put("provenance", data.provenance());
        return JSON.writeValueAsString(json);
    }

    static String predictionsCsv(ReportData data) {
        StringBuilder csv = new StringBuilder("image_id,image,patient,laterality,true_grade,predicted_grade,p0,p1,p2,p3,p4");
        // jsonb does not keep key order, so the columns follow the evaluation's transform list.
        List<String> transforms = new ArrayList<>();
        if (data.provenance().get("evaluation") instanceof Map<?, ?> evaluation && evaluation.get("tta") instanceof List<?> tta) {
            tta.forEach(t -> transforms.add(String.valueOf(t)));
        } else if (!data.predictions().isEmpty()) {
            transforms.addAll(data.predictions().get(0).tta().keySet());
        }
        for (String t : transforms) {
            csv.append(',').append(t).append("_predicted");
            for (int g = 0; g < 5; g++) {
                csv.append(',').append(t).append("_p").append(g);
            }
        }
        csv.append('\n');
        for (ReportData.PredictionRow row : data.predictions()) {
            csv.append(row.imageId()).append(',').append(quote(row.imageName())).append(',').append(row.patient()).append(',')
                    .append(row.laterality()).append(',').append(row.trueGrade()).append(',').append(row.predictedGrade());
            for (double p : row.probabilities()) {
                csv.append(',').append(String.format(Locale.ROOT, "%.6f", p));
            }
            for (String t : transforms) {
                double[] p = row.tta().get(t);
                int best = 0;
                for (int g = 1; g < p.length; g++) {
                    best = p[g] > p[best] ? g : best;
                }
                csv.append(',').append(best);
                for (double v : p) {
                    csv.append(',').append(String.format(Locale.ROOT, "%.6f", v));
                }
            }
            csv.append('\n');
        }
        return csv.toString();
    }

    private static String quote(String value) {
        if (value == null) {
            return "";
        }
        return value.contains(",") || value.contains("\"") ? "\"" + value.replace("\"", "\"\"") + "\"" : value;
    }

}
