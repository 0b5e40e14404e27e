package org.retinagrade.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.retinagrade.Workspace;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.model.ModelArtifact;
import org.retinagrade.study.Cohort;
import org.retinagrade.study.Run;
import org.retinagrade.study.RunMetric;

/** Database side of training: the labelled data of a cohort, the run record, its metrics and artifacts. */
@ApplicationScoped
public class TrainingService {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    EntityManager entityManager;

    @Inject
    AuditTrail auditTrail;

    /** Training and validation samples and the SHA-256 of the data manifest (image hashes with labels and splits). */
    public record Dataset(long cohortId, List<Sample> train, List<Sample> validation, List<Sample> test,
            String manifestSha256, String splitSource) {
    }

    /**
     * Reads the labelled members of a cohort. Stored splits are used when any member has
     * one (train, validation and test). Otherwise patients (or images
     * without a patient) go to validation with probability {@code validationFraction},
     * decided by a hash of (seed, patient), so a patient's images are never on both sides.
     */
    public Dataset dataset(String cohortName, double validationFraction, long seed) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Cohort cohort = Cohort.findByName(cohortName);
            if (cohort == null) {
                throw new IllegalArgumentException("cohort '" + cohortName + "' not found; `retinagrade cohort list` lists cohorts");
            }
            @SuppressWarnings("unchecked")
            List<Object[]> rows = entityManager.createNativeQuery("SELECT i.id, i.sha256, i.storage_path, m.label, m.split,"
                    + " COALESCE(CAST(i.patient_id AS text), 'image:' || i.id) FROM cohort_member m JOIN image i"
                    + " ON i.id = m.image_id WHERE m.cohort_id = ?1 AND m.label IS NOT NULL ORDER BY i.sha256")
                    .setParameter(1, cohort.id).getResultList();
            boolean storedSplits = rows.stream().anyMatch(r -> r[4] != null);
            List<Sample> train = new ArrayList<>();
            List<Sample> validation = new ArrayList<>();
            List<Sample> test = new ArrayList<>();
            StringBuilder manifest = new StringBuilder();
            for (Object[] row : rows) {
                Sample sample = new Sample(((Number) row[0]).longValue(), ((String) row[1]).trim(),
                        Workspace.root().resolve((String) row[2]), ((Number) row[3]).intValue());
                String split;
                if (storedSplits) {
                    split = row[4] == null ? "unassigned" : (String) row[4];
                } else {
                    split = unitHash(seed, (String) row[5]) < validationFraction ? "validation" : "train";
                }
                if (split.equals("train")) {
                    train.add(sample);
                } else if (split.equals("validation")) {
                    validation.add(sample);
                } else if (split.equals("test")) {
                    test.add(sample);
                }
                manifest.append(sample.sha256()).append(',').append(sample.label()).append(',').append(split).append('\n');
            }
            train.sort(Comparator.comparing(Sample::sha256));
            validation.sort(Comparator.comparing(Sample::sha256));
            test.sort(Comparator.comparing(Sample::sha256));
            return new Dataset(cohort.id, train, validation, test, sha256(manifest.toString()),
                    storedSplits ? "stored splits" : "patient-level hash split, validation fraction " + validationFraction);
        });
    }

    /**
     * Rejects data that differs from what a run was trained on: the manifest (image hashes,
     * labels and splits) recomputed now must equal the one stored in the run's provenance.
     */
    public static void checkManifest(long runId, Map<String, Object> provenance, Dataset data) {
        Object stored = provenance.get("data_manifest_sha256");
        if (stored != null && !stored.equals(data.manifestSha256())) {
            throw new IllegalArgumentException("the images, labels or splits of cohort " + provenance.get("cohort")
                    + " changed since run " + runId + " was trained (data manifest " + stored + ", now "
                    + data.manifestSha256() + "), so its held-out images are no longer known; train a new run");
        }
    }

    public long createRun(long cohortId, long seed, Map<String, Object> provenance, String actor) {
        return createRun(cohortId, null, seed, provenance, actor);
    }

    public long createRun(long cohortId, Long protocolId, long seed, Map<String, Object> provenance, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Run run = new Run();
            run.cohortId = cohortId;
            run.protocolId = protocolId;
            run.seed = seed;
            run.status = "running";
            run.provenance = toJson(provenance);
            run.startedAt = Instant.now();
            run.persist();
            auditTrail.append(actor, "run.started", "run", run.id, Map.of("cohort", cohortId, "seed", seed));
            return run.id;
        });
    }

    /** Returns a run's stored provenance. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> provenanceOf(long runId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Run run = Run.findById(runId);
            if (run == null) {
                throw new IllegalArgumentException("run " + runId + " not found; `retinagrade runs` lists runs");
            }
            return (Map<String, Object>) JSON.readValue(run.provenance, LinkedHashMap.class);
        });
    }

    /** Marks an existing run as running again for a resume and returns its stored provenance. */
    public Map<String, Object> resumeRun(long runId, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Run run = Run.findById(runId);
            if (run == null) {
                throw new IllegalArgumentException("run " + runId + " not found");
            }
            if (run.status.equals("succeeded")) {
                throw new IllegalArgumentException("run " + runId + " already succeeded; nothing to resume");
            }
            run.status = "running";
            run.error = null;
            auditTrail.append(actor, "run.resumed", "run", run.id, Map.of());
            @SuppressWarnings("unchecked")
            Map<String, Object> provenance = JSON.readValue(run.provenance, LinkedHashMap.class);
            return provenance;
        });
    }

    /**
     * Creates a run derived from a finished one (pruned or otherwise changed weights): same
     * cohort, protocol and seed, the source's provenance plus {@code changes}, status
     * succeeded, and {@code weights} as its best weights.
     */
    public long createDerivedRun(long sourceRunId, Map<String, Object> changes, java.util.function.LongFunction<Path> weightsFor,
            WeightsWriter writer, long parameterCount, String actor) throws java.io.IOException {
        Run source = QuarkusTransaction.requiringNew().call(() -> Run.findById(sourceRunId));
        if (source == null) {
            throw new IllegalArgumentException("run " + sourceRunId + " not found; `retinagrade runs` lists runs");
        }
        long runId = QuarkusTransaction.requiringNew().call(() -> {
            Run run = new Run();
            run.cohortId = source.cohortId;
            run.protocolId = source.protocolId;
            run.seed = source.seed;
            run.status = "running";
            @SuppressWarnings("unchecked")
            Map<String, Object> provenance = JSON.readValue(source.provenance, LinkedHashMap.class);
            provenance.remove("evaluation");
            provenance.put("derived_from_run", sourceRunId);
            provenance.putAll(changes);
            run.provenance = toJson(provenance);
            run.startedAt = Instant.now();
            run.persist();
            Map<String, Object> details = new LinkedHashMap<>(changes);
            details.put("source_run", sourceRunId);
            auditTrail.append(actor, "run.derived", "run", run.id, details);
            return run.id;
        });
        Path weights = weightsFor.apply(runId);
        String sha;
        try {
            sha = writer.write(weights);
        } catch (java.io.IOException | RuntimeException e) {
            finishRun(runId, "failed", e.toString(), null, null, null, 0, actor);
            throw e;
        }
        QuarkusTransaction.requiringNew().run(() -> {
            Run run = Run.findById(runId);
            run.status = "succeeded";
            run.finishedAt = Instant.now();
            ModelArtifact artifact = new ModelArtifact();
            artifact.runId = runId;
            artifact.kind = "best-weights";
            artifact.path = Workspace.root().relativize(weights.toAbsolutePath()).toString();
            artifact.sha256 = sha;
            artifact.parameterCount = parameterCount;
            artifact.persist();
        });
        return runId;
    }

    /** Best weights of a finished run with its model settings, for use as a distillation teacher. */
    public record TrainedWeights(Path file, String variant, Map<String, Object> model) {
    }

    public TrainedWeights trainedWeights(long runId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Run run = Run.findById(runId);
            ModelArtifact artifact = ModelArtifact.find("runId = ?1 and kind = 'best-weights' ORDER BY id DESC", runId).firstResult();
            if (run == null || artifact == null) {
                throw new IllegalArgumentException("run " + runId + " not found or without trained weights; `retinagrade runs`"
                        + " lists runs");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> model = (Map<String, Object>) JSON.readValue(run.provenance, LinkedHashMap.class).get("model");
            return new TrainedWeights(Workspace.root().resolve(artifact.path), (String) model.get("variant"), model);
        });
    }

    /** Writes a derived run's weights file and returns its SHA-256. */
    public interface WeightsWriter {
        String write(Path file) throws java.io.IOException;
    }

    public void recordEpoch(long runId, GraderTrainer.EpochResult result) {
        QuarkusTransaction.requiringNew().run(() -> {
            RunMetric.delete("runId = ?1 and epoch = ?2", runId, result.epoch());
            RunMetric.of(runId, "train_loss", result.epoch(), result.trainLoss()).persist();
            RunMetric.of(runId, "validation_nll", result.epoch(), result.validationLoss()).persist();
            RunMetric.of(runId, "validation_quadratic_kappa", result.epoch(), result.validationKappa()).persist();
            RunMetric.of(runId, "validation_accuracy", result.epoch(), result.validationAccuracy()).persist();
            RunMetric.of(runId, "learning_rate", result.epoch(), result.learningRate()).persist();
            RunMetric.of(runId, "images_per_second", result.epoch(), result.imagesPerSecond()).persist();
        });
    }

    public void finishRun(long runId, String status, String error, GraderTrainer.Result result, Path bestWeights,
            String bestWeightsSha256, long parameterCount, String actor) {
        QuarkusTransaction.requiringNew().run(() -> {
            Run run = Run.findById(runId);
            run.status = status;
            run.error = error;
            run.finishedAt = Instant.now();
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("status", status);
            if (result != null) {
                ModelArtifact artifact = new ModelArtifact();
                artifact.runId = runId;
                artifact.kind = "best-weights";
                artifact.path = Workspace.root().relativize(bestWeights.toAbsolutePath()).toString();
                artifact.sha256 = bestWeightsSha256;
                artifact.parameterCount = parameterCount;
                artifact.epoch = result.bestEpoch();
                artifact.persist();
                details.put("best_epoch", result.bestEpoch());
                details.put("best_weights_sha256", bestWeightsSha256);
                details.put("final_weights_values_sha256", result.weightsSha256());
            }
            if (error != null) {
                details.put("error", error);
            }
            auditTrail.append(actor, "run.finished", "run", runId, details);
        });
    }

    static double unitHash(long seed, String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((seed + ":" + key).getBytes(StandardCharsets.UTF_8));
            return (ByteBuffer.wrap(digest).getLong() >>> 11) / (double) (1L << 53);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("provenance cannot be written as JSON: " + e.getMessage(), e);
        }
    }
}
