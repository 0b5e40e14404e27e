package org.retinagrade.evaluation;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.retinagrade.Workspace;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.imaging.PreparedImageCache;
import org.retinagrade.imaging.PreprocessConfig;
import org.retinagrade.model.EfficientNetV2;
import org.retinagrade.model.EfficientNetV2Config;
import org.retinagrade.model.ModelArtifact;
import org.retinagrade.study.Run;
import org.retinagrade.study.RunMetric;
import org.retinagrade.training.PreparedImages;
import org.retinagrade.training.Sample;
import org.retinagrade.training.TrainingService;

/**
 * Evaluates a trained run: its best weights on the cohort's test split (the validation
 * split when there is no test split), with test-time augmentation, metrics with
 * patient-level bootstrap intervals overall and per subgroup (laterality, the folder the
 * image was ingested from, camera model where known), predictions and metrics stored in the database.
 */
@ApplicationScoped
public class EvaluationService {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    TrainingService trainingService;

    @Inject
    AuditTrail auditTrail;

    @Inject
    EntityManager entityManager;

    /** Settings of one evaluation. */
    public record Options(List<TtaTransform> transforms, TtaPredictor.Combine combine, int resamples, long bootstrapSeed,
            GradeMetrics.OperatingPoints operatingPoints) {
    }

    /** Evaluated run, split and image count, and the metrics per subgroup ("" is the whole set). */
    public record Outcome(long runId, String split, int images, Map<String, Map<String, Metric>> metrics) {
    }

    public Outcome evaluate(long runId, Options options, PrintStream progress) throws IOException {
        Run run = QuarkusTransaction.requiringNew().call(() -> Run.findById(runId));
        if (run == null) {
            throw new IllegalArgumentException("run " + runId + " not found; `retinagrade runs` lists runs");
        }
        if (!"succeeded".equals(run.status)) {
            throw new IllegalArgumentException("run " + runId + " has status " + run.status + "; only a run whose training"
                    + " succeeded can be evaluated");
        }
        ModelArtifact weights = QuarkusTransaction.requiringNew().call(() ->
                ModelArtifact.<ModelArtifact>find("runId = ?1 and kind = 'best-weights' ORDER BY id DESC", runId).firstResult());
        if (weights == null) {
            throw new IllegalArgumentException("run " + runId + " has no stored weights");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> provenance = JSON.readValue(run.provenance, LinkedHashMap.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> model = (Map<String, Object>) provenance.get("model");
        String cohort = (String) provenance.get("cohort");
        double fraction = ((Number) provenance.get("validation_fraction")).doubleValue();
        int resolution = ((Number) model.get("resolution")).intValue();
        PreprocessConfig preprocess = new PreprocessConfig(resolution, (Boolean) model.get("ben_graham"),
                (Boolean) model.get("clahe"), 2.0, 8);

        TrainingService.Dataset data = trainingService.dataset(cohort, fraction, run.seed);
        TrainingService.checkManifest(runId, provenance, data);
        String split = data.test().isEmpty() ? "validation" : "test";
        if (data.test().isEmpty()) {
            progress.println("NOTE: cohort " + cohort + " has no test split, so this evaluates the validation split that chose"
                    + " the best epoch; expect optimistic metrics");
        }
        List<Sample> samples = data.test().isEmpty() ? data.validation() : data.test();
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("cohort " + cohort + " has no " + split + " images to evaluate");
        }
        PreparedImageCache cache = new PreparedImageCache(Workspace.root().resolve("cache").resolve("prepared"), 1L << 30);
        List<byte[]> prepared = PreparedImages.prepareAll(samples, preprocess, cache, progress, split);
        List<Sample> usable = new ArrayList<>();
        List<byte[]> usableImages = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            if (prepared.get(i) != null) {
                usable.add(samples.get(i));
                usableImages.add(prepared.get(i));
            }
        }
        progress.printf("evaluating run %d on %d %s images with TTA %s%n", runId, usable.size(), split,
                options.transforms().stream().map(TtaTransform::label).toList());

        TtaPredictor.Predictions predictions;
        try (NDManager manager = NDManager.newBaseManager()) {
            EfficientNetV2 network = new EfficientNetV2(EfficientNetV2Config.named((String) model.get("variant")),
                    ((Number) model.get("classes")).intValue());
            network.initialize(manager, DataType.FLOAT32, new Shape(1, 3, resolution, resolution));
            try (DataInputStream in = new DataInputStream(Files.newInputStream(Workspace.root().resolve(weights.path)))) {
                network.loadParameters(manager, in);
            } catch (ai.djl.MalformedModelException e) {
                throw new IOException("invalid weights " + weights.path + ": " + e.getMessage(), e);
            }
            predictions = new TtaPredictor(network, manager, resolution, ((Number) model.get("batch_size")).intValue())
                    .predict(usableImages, options.transforms(), options.combine());
        }

        int n = usable.size();
        int[] truth = new int[n];
        int[] predicted = new int[n];
        double[][] probabilities = new double[n][];
        for (int i = 0; i < n; i++) {
            truth[i] = usable.get(i).label();
            probabilities[i] = new double[predictions.probabilities()[i].length];
            for (int c = 0; c < probabilities[i].length; c++) {
                probabilities[i][c] = predictions.probabilities()[i][c];
            }
            predicted[i] = argmax(probabilities[i]);
        }
        Map<Long, String[]> attributes = imageAttributes(usable);
        String[] patients = usable.stream().map(s -> attributes.get(s.imageId())[0]).toArray(String[]::new);

        GradeMetrics.Input input = new GradeMetrics.Input(truth, predicted, probabilities);
        GradeMetrics.Thresholds thresholds = GradeMetrics.thresholds(input, options.operatingPoints());
        Map<String, Map<String, Metric>> metrics = new LinkedHashMap<>();
        metrics.put("", Bootstrap.withIntervals(input, patients, thresholds, options.resamples(), options.bootstrapSeed()));
        for (Map.Entry<String, List<Integer>> group : subgroups(usable, attributes).entrySet()) {
            List<Integer> members = group.getValue();
            GradeMetrics.Input subset = new GradeMetrics.Input(members.stream().mapToInt(i -> truth[i]).toArray(),
                    members.stream().mapToInt(i -> predicted[i]).toArray(),
                    members.stream().map(i -> probabilities[i]).toArray(double[][]::new));
            String[] subsetPatients = members.stream().map(i -> patients[i]).toArray(String[]::new);
            metrics.put(group.getKey(), Bootstrap.withIntervals(subset, subsetPatients, thresholds, options.resamples(),
                    options.bootstrapSeed()));
        }

        store(runId, usable, truth, predicted, predictions, metrics, options, split);
        return new Outcome(runId, split, n, metrics);
    }

    /** Returns {patient key, laterality, camera model, source folder} per image id. */
    private Map<Long, String[]> imageAttributes(List<Sample> samples) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Map<Long, String[]> attributes = new HashMap<>();
            @SuppressWarnings("unchecked")
            List<Object[]> rows = entityManager.createNativeQuery("SELECT i.id, COALESCE(CAST(i.patient_id AS text),"
                    + " 'image:' || i.id), COALESCE(CAST(i.laterality AS text), 'unknown'), s.model_name,"
                    + " (SELECT j.source FROM ingest_job_item it JOIN ingest_job j ON j.id = it.job_id"
                    + "  WHERE it.image_id = i.id AND it.status = 'stored' ORDER BY it.id LIMIT 1)"
                    + " FROM image i LEFT JOIN series s ON s.id = i.series_id WHERE i.id = ANY(?1)")
                    .setParameter(1, samples.stream().map(Sample::imageId).toArray(Long[]::new)).getResultList();
            for (Object[] row : rows) {
                attributes.put(((Number) row[0]).longValue(),
                        new String[] {(String) row[1], (String) row[2], (String) row[3], (String) row[4]});
            }
            return attributes;
        });
    }

    private static Map<String, List<Integer>> subgroups(List<Sample> samples, Map<Long, String[]> attributes) {
        Map<String, List<Integer>> groups = new TreeMap<>();
        for (int i = 0; i < samples.size(); i++) {
            String[] a = attributes.get(samples.get(i).imageId());
            groups.computeIfAbsent("laterality=" + a[1], k -> new ArrayList<>()).add(i);
            if (a[2] != null) {
                groups.computeIfAbsent("camera=" + a[2], k -> new ArrayList<>()).add(i);
            }
            if (a[3] != null) {
                groups.computeIfAbsent("source=" + Path.of(a[3]).getFileName(), k -> new ArrayList<>()).add(i);
            }
        }
        return groups;
    }

    private void store(long runId, List<Sample> samples, int[] truth, int[] predicted, TtaPredictor.Predictions predictions,
            Map<String, Map<String, Metric>> metrics, Options options, String split) {
        QuarkusTransaction.requiringNew().run(() -> {
            Prediction.delete("runId", runId);
            RunMetric.delete("runId = ?1 and epoch is null", runId);
            for (int i = 0; i < samples.size(); i++) {
                Prediction prediction = new Prediction();
                prediction.runId = runId;
                prediction.imageId = samples.get(i).imageId();
                prediction.trueGrade = (short) truth[i];
                prediction.predictedGrade = (short) predicted[i];
                prediction.probabilities = toDoubles(predictions.probabilities()[i]);
                Map<String, double[]> perTransform = new LinkedHashMap<>();
                for (int t = 0; t < predictions.transforms().size(); t++) {
                    perTransform.put(predictions.transforms().get(t).label(), toDoubles(predictions.perTransform()[t][i]));
                }
                try {
                    prediction.tta = JSON.writeValueAsString(perTransform);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
                prediction.persist();
            }
            for (Map.Entry<String, Map<String, Metric>> group : metrics.entrySet()) {
                for (Metric metric : group.getValue().values()) {
                    RunMetric row = new RunMetric();
                    row.runId = runId;
                    row.name = metric.name();
                    row.subgroup = group.getKey();
                    row.value = metric.defined() ? metric.value() : null;
                    row.ciLow = Double.isNaN(metric.ciLow()) ? null : metric.ciLow();
                    row.ciHigh = Double.isNaN(metric.ciHigh()) ? null : metric.ciHigh();
                    row.note = metric.reason().isEmpty() ? null : metric.reason();
                    row.persist();
                }
            }
            Run stored = Run.findById(runId);
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> provenance = JSON.readValue(stored.provenance, LinkedHashMap.class);
                Map<String, Object> evaluation = new LinkedHashMap<>();
                evaluation.put("split", split);
                evaluation.put("images", samples.size());
                evaluation.put("tta", options.transforms().stream().map(TtaTransform::label).toList());
                evaluation.put("combine", options.combine().name().toLowerCase(java.util.Locale.ROOT));
                evaluation.put("bootstrap_resamples", options.resamples());
                evaluation.put("bootstrap_seed", options.bootstrapSeed());
                evaluation.put("operating_points", Map.of("sensitivity_target", options.operatingPoints().sensitivityTarget(),
                        "specificity_target", options.operatingPoints().specificityTarget(),
                        "threshold", options.operatingPoints().threshold()));
                provenance.put("evaluation", evaluation);
                stored.provenance = JSON.writeValueAsString(provenance);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("run " + runId + " has invalid provenance JSON: " + e.getMessage(), e);
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("split", split);
            details.put("images", samples.size());
            details.put("tta", options.transforms().stream().map(TtaTransform::label).toList().toString());
            details.put("resamples", options.resamples());
            auditTrail.append(System.getProperty("user.name"), "run.evaluated", "run", runId, details);
        });
    }

    private static double[] toDoubles(float[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }

    private static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
