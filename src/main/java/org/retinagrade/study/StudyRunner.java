package org.retinagrade.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.retinagrade.Workspace;
import org.retinagrade.cli.CodeVersion;
import org.retinagrade.evaluation.EvaluationService;
import org.retinagrade.evaluation.GradeMetrics;
import org.retinagrade.evaluation.Metric;
import org.retinagrade.evaluation.TtaPredictor;
import org.retinagrade.evaluation.TtaTransform;
import org.retinagrade.ingest.ImageProbe;
import org.retinagrade.imaging.PreparedImageCache;
import org.retinagrade.imaging.PreprocessConfig;
import org.retinagrade.imaging.augment.AugmentationPipeline;
import org.retinagrade.ingest.ContentStore;
import org.retinagrade.dicom.DicomDecoder;
import org.retinagrade.ingest.DicomIngestService;
import org.retinagrade.ingest.FolderIngestService;
import org.retinagrade.pacs.DicomWebClient;
import org.retinagrade.pacs.DicomWebSettings;
import org.retinagrade.pacs.PacsClient;
import org.retinagrade.pacs.PacsException;
import org.retinagrade.pacs.PacsRetrieveService;
import org.retinagrade.pacs.PacsSettings;
import org.retinagrade.model.EfficientNetV2;
import org.retinagrade.model.EfficientNetV2Config;
import org.retinagrade.report.ReportService;
import org.retinagrade.training.EngineThreads;
import org.retinagrade.training.EpochSampler;
import org.retinagrade.training.GraderTrainer;
import org.retinagrade.training.TrainingConfig;
import org.retinagrade.training.TrainingService;

/**
 * Carries a study protocol through its five stages: ingest the data folder into the
 * cohort, assign the patient-level split, train, evaluate with TTA, and write the report.
 * Each stage is recorded in the database. A run stopped during training resumes from its
 * last checkpoint.
 */
@ApplicationScoped
public class StudyRunner {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STAGES = 5;

    @Inject
    FolderIngestService ingestService;

    @Inject
    DicomIngestService dicomIngestService;

    @Inject
    PacsRetrieveService pacsRetrieveService;

    @Inject
    SplitAssigner splitAssigner;

    @Inject
    TrainingService trainingService;

    @Inject
    EvaluationService evaluationService;

    @Inject
    ReportService reportService;

    private int stopAfterEpoch = -1;

    /** Test hook: stop training after this epoch, as a kill would, leaving the run resumable. */
    public void stopAfterEpoch(int epoch) {
        this.stopAfterEpoch = epoch;
    }

    /** Outcome of a finished run: its id, report folder, overall metrics and best weights' SHA-256. */
    public record Result(long runId, Path reportFolder, Map<String, Metric> metrics, String bestWeightsSha256) {
    }

    public Result run(StudyProtocol protocol, String actor, PrintStream progress) throws IOException {
        String cohortName = protocol.textAt("/cohort/name", protocol.name());
        double[] ratios = {protocol.doubleAt("/split/train", 0.7), protocol.doubleAt("/split/validation", 0.15),
                protocol.doubleAt("/split/test", 0.15)};
        SplitAssigner.Filters filters = new SplitAssigner.Filters(textSet(protocol.at("/cohort/filters/laterality")),
                intSet(protocol.at("/cohort/filters/grades")), protocol.textAt("/cohort/filters/quality", "any").equals("gradable"));
        // A cohort split with other settings is rejected before the ingest writes anything.
        splitAssigner.check(cohortName, ratios, protocol.longAt("/split/seed", 1), filters);
        ingestSource(protocol, cohortName, actor, progress);

        stage(progress, 2, "assign the patient-level split");
        Map<String, int[]> counts = splitAssigner.assign(cohortName, ratios, protocol.longAt("/split/seed", 1), filters, actor);
        counts.forEach((split, perGrade) -> progress.printf("  %-10s %4d images, per grade %s%n", split,
                java.util.Arrays.stream(perGrade).sum(), java.util.Arrays.toString(perGrade)));

        long protocolId = storeProtocol(protocol);
        TrainingService.Dataset data = trainingService.dataset(cohortName, protocol.doubleAt("/split/validation", 0.15),
                protocol.longAt("/training/seed", 42));
        long seed = protocol.longAt("/training/seed", 42);
        long runId = trainingService.createRun(data.cohortId(), protocolId, seed, provenance(protocol, data), actor);
        progress.println("  run " + runId + " created");
        return continueRun(runId, protocol, actor, progress);
    }

    /** Stage 1: brings the protocol's images into the cohort from a folder, a DICOM folder or a PACS. */
    private void ingestSource(StudyProtocol protocol, String cohortName, String actor, PrintStream progress) throws IOException {
        String kind = protocol.textAt("/cohort/source/kind", "image-folder");
        JsonNode labels = protocol.at("/cohort/source/labels");
        Path labelsCsv = labels.isMissingNode() ? null : ProtocolLoader.resolve(protocol.file(), labels.asText());
        boolean retainUids = protocol.booleanAt("/cohort/source/retain_uids", false);
        switch (kind) {
            case "dicom-folder" -> {
                stage(progress, 1, "ingest DICOM files in " + protocol.dataFolder() + " into cohort " + cohortName);
                var job = dicomIngestService.ingestFolder(protocol.dataFolder(), new DicomIngestService.Options(cohortName,
                        protocol.name(), retainUids, labelsCsv, DicomDecoder.DEFAULT_MAX_PIXELS, actor), progress::println);
                progress.println("  " + job.summary());
            }
            case "pacs-query" -> {
                PacsSettings settings = PacsSettings.fromConfig().with(
                        nullableText(protocol, "/cohort/source/pacs/ae_title"),
                        nullableInt(protocol, "/cohort/source/pacs/listen_port"),
                        nullableText(protocol, "/cohort/source/pacs/host"),
                        nullableInt(protocol, "/cohort/source/pacs/port"),
                        nullableText(protocol, "/cohort/source/pacs/called_ae_title"),
                        nullableInt(protocol, "/cohort/source/pacs/timeout"));
                String methodName = protocol.textAt("/cohort/source/pacs/method", "move");
                DicomWebSettings web = !methodName.equals("dicomweb") ? null : DicomWebSettings.fromConfig().with(
                        nullableText(protocol, "/cohort/source/pacs/dicomweb_url"),
                        nullableText(protocol, "/cohort/source/pacs/dicomweb_user"),
                        nullableInt(protocol, "/cohort/source/pacs/timeout"));
                String peer = web != null ? web.url() : settings.peer();
                stage(progress, 1, "retrieve studies from " + peer + " into cohort " + cohortName);
                List<String> studies = new ArrayList<>();
                try {
                    PacsClient client = new PacsClient(settings);
                    DicomWebClient webClient = web == null ? null : new DicomWebClient(web);
                    JsonNode uids = protocol.at("/cohort/source/query/study_instance_uids");
                    List<String> requestedUids = new ArrayList<>();
                    uids.forEach(uid -> requestedUids.add(uid.asText()));
                    if (requestedUids.isEmpty()) {
                        requestedUids.add(null);
                    }
                    for (String uid : requestedUids) {
                        PacsClient.StudyQuery query = new PacsClient.StudyQuery(
                                nullableText(protocol, "/cohort/source/query/patient_id"),
                                nullableText(protocol, "/cohort/source/query/study_date"),
                                nullableText(protocol, "/cohort/source/query/modality"),
                                nullableText(protocol, "/cohort/source/query/accession_number"), uid);
                        for (var found : webClient != null ? webClient.searchStudies(query) : client.findStudies(query)) {
                            String study = com.pixelmed.dicom.Attribute.getSingleStringValueOrEmptyString(found,
                                    com.pixelmed.dicom.TagFromName.StudyInstanceUID);
                            if (!study.isEmpty() && !studies.contains(study)) {
                                studies.add(study);
                            }
                        }
                    }
                } catch (PacsException e) {
                    throw new IllegalStateException("cannot query the PACS: " + e.getMessage(), e);
                }
                if (studies.isEmpty()) {
                    throw new IllegalStateException("no study on " + peer + " matches cohort.source.query;"
                            + " nothing to run on");
                }
                var options = new DicomIngestService.Options(cohortName, protocol.name(), retainUids, labelsCsv,
                        DicomDecoder.DEFAULT_MAX_PIXELS, actor);
                var job = web != null
                        ? pacsRetrieveService.retrieve(web, studies, options, progress::println)
                        : pacsRetrieveService.retrieve(settings, studies, methodName.equals("get")
                                ? PacsRetrieveService.Method.GET : PacsRetrieveService.Method.MOVE, options, progress::println);
                progress.println("  " + job.summary());
                if (!job.status.equals("completed")) {
                    throw new IllegalStateException("the PACS retrieve (ingest job " + job.id + ") is " + job.status
                            + "; run `retinagrade ingest resume " + job.id + "`, then run the protocol again");
                }
            }
            default -> {
                stage(progress, 1, "ingest " + protocol.dataFolder() + " into cohort " + cohortName);
                ingestService.ingest(new FolderIngestService.Options(protocol.dataFolder(), labelsCsv, cohortName,
                        protocol.name(), ImageProbe.DEFAULT_MAX_PIXELS, null, actor), progress::println);
            }
        }
    }

    private static String nullableText(StudyProtocol protocol, String pointer) {
        JsonNode node = protocol.at(pointer);
        return node.isMissingNode() || node.isNull() ? null : node.asText();
    }

    private static Integer nullableInt(StudyProtocol protocol, String pointer) {
        JsonNode node = protocol.at(pointer);
        return node.isMissingNode() || node.isNull() ? null : node.asInt();
    }

    /** Continues a stopped run from its last checkpoint, with its stored protocol and data folder. */
    public Result resume(long runId, String actor, PrintStream progress) throws IOException {
        // The stored protocol is checked before the run is marked running again.
        StudyProtocol protocol = storedProtocol(runId, trainingService.provenanceOf(runId));
        Run run = QuarkusTransaction.requiringNew().call(() -> Run.findById(runId));
        long predictions = QuarkusTransaction.requiringNew().call(() -> org.retinagrade.evaluation.Prediction.count("runId", runId));
        if ("succeeded".equals(run.status) && predictions == 0) {
            progress.println("resuming run " + runId + " of protocol " + protocol.name() + " at evaluation (training is done)");
            String bestSha = QuarkusTransaction.requiringNew().call(() -> org.retinagrade.model.ModelArtifact
                    .<org.retinagrade.model.ModelArtifact>find("runId = ?1 and kind = 'best-weights' ORDER BY id DESC", runId)
                    .firstResult().sha256.trim());
            return evaluateAndReport(runId, protocol, bestSha, progress);
        }
        trainingService.resumeRun(runId, actor);
        progress.println("resuming run " + runId + " of protocol " + protocol.name() + " (stages 1-2 are done)");
        return continueRun(runId, protocol, actor, progress);
    }

    /** Loads the stored protocol of a run, checked again, on the data folder the run used. */
    public StudyProtocol storedProtocol(long runId, Map<String, Object> provenance) {
        Run run = QuarkusTransaction.requiringNew().call(() -> Run.findById(runId));
        if (run == null || run.protocolId == null) {
            throw new IllegalArgumentException("run " + runId + " was not started from a protocol; continue it with"
                    + " retinagrade train --resume " + runId);
        }
        Protocol stored = QuarkusTransaction.requiringNew().call(() -> Protocol.findById(run.protocolId));
        Path file = Path.of((String) provenance.get("protocol_file"));
        Object folder = provenance.get("data_folder");
        return ProtocolLoader.parseStored(stored.body, file, folder == null ? null : Path.of((String) folder));
    }

    private Result continueRun(long runId, StudyProtocol protocol, String actor, PrintStream progress) throws IOException {
        String cohortName = protocol.textAt("/cohort/name", protocol.name());
        stage(progress, 3, "train EfficientNetV2-" + protocol.textAt("/model/variant", "small"));
        TrainingConfig config = trainingConfig(protocol);
        EngineThreads.set(config.threads());
        TrainingService.Dataset data = trainingService.dataset(cohortName, protocol.doubleAt("/split/validation", 0.15),
                config.seed());
        TrainingService.checkManifest(runId, trainingService.provenanceOf(runId), data);
        PreparedImageCache cache = new PreparedImageCache(Workspace.root().resolve("cache").resolve("prepared"), 1L << 30);
        GraderTrainer trainer = new GraderTrainer(config, cache, progress);
        if (stopAfterEpoch > 0) {
            trainer.stopAfterEpoch(stopAfterEpoch);
        }
        Path runFolder = Workspace.root().resolve("runs").resolve(Long.toString(runId));
        GraderTrainer.Result trained;
        try {
            trained = trainer.train(data.train(), data.validation(), runFolder, epoch -> trainingService.recordEpoch(runId, epoch));
        } catch (GraderTrainer.Interrupted e) {
            trainingService.finishRun(runId, "interrupted", e.getMessage(), null, null, null, 0, actor);
            progress.println("run " + runId + " is interrupted; continue with: retinagrade run --resume " + runId);
            throw e;
        } catch (IOException | RuntimeException e) {
            trainingService.finishRun(runId, "failed", e.toString(), null, null, null, 0, actor);
            throw e;
        }
        String bestSha = ContentStore.sha256(Files.readAllBytes(trained.bestWeights()));
        trainingService.finishRun(runId, "succeeded", null, trained, trained.bestWeights(), bestSha,
                EfficientNetV2.countParameters(EfficientNetV2Config.named(config.variant()), 5), actor);

        return evaluateAndReport(runId, protocol, bestSha, progress);
    }

    private Result evaluateAndReport(long runId, StudyProtocol protocol, String bestSha, PrintStream progress)
            throws IOException {
        stage(progress, 4, "evaluate with TTA");
        List<TtaTransform> tta = new ArrayList<>();
        JsonNode ttaNode = protocol.at("/evaluation/tta");
        if (ttaNode.isMissingNode()) {
            tta = List.of(TtaTransform.IDENTITY, TtaTransform.HORIZONTAL_FLIP, TtaTransform.VERTICAL_FLIP);
        } else {
            for (JsonNode t : ttaNode) {
                tta.add(TtaTransform.parse(t.asText()));
            }
        }
        EvaluationService.Outcome outcome = evaluationService.evaluate(runId, new EvaluationService.Options(tta,
                protocol.textAt("/evaluation/combine", "probabilities").equals("logits")
                        ? TtaPredictor.Combine.MEAN_LOGITS : TtaPredictor.Combine.MEAN_PROBABILITIES,
                protocol.intAt("/evaluation/bootstrap", 2000), protocol.longAt("/evaluation/bootstrap_seed", 2026),
                new GradeMetrics.OperatingPoints(protocol.doubleAt("/evaluation/sensitivity_target", 0.9),
                        protocol.doubleAt("/evaluation/specificity_target", 0.9), protocol.doubleAt("/evaluation/threshold", 0.5))),
                progress);
        Map<String, Metric> overall = outcome.metrics().get("");
        for (String name : List.of("accuracy", "quadratic_kappa", "referable_auc")) {
            progress.println("  " + org.retinagrade.cli.EvaluateCommand.format(overall.get(name)));
        }

        Path reportFolder = null;
        if (protocol.booleanAt("/report/enabled", true)) {
            stage(progress, 5, "write the report");
            reportFolder = reportService.write(runId);
            progress.println("  " + reportFolder.resolve("report.html"));
        } else {
            stage(progress, 5, "report disabled by the protocol");
        }
        return new Result(runId, reportFolder, overall, bestSha);
    }

    static TrainingConfig trainingConfig(StudyProtocol p) {
        int resolution = p.intAt("/preprocessing/resolution", 224);
        AugmentationPipeline augmentation;
        JsonNode steps = p.at("/augmentation");
        if (steps.isMissingNode()) {
            augmentation = AugmentationPipeline.standardTraining(resolution);
        } else {
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> spec = JSON.convertValue(steps, List.class);
            augmentation = AugmentationPipeline.fromSpec(spec, resolution, "augmentation");
        }
        float[] alpha = null;
        JsonNode alphaNode = p.at("/training/loss/alpha");
        if (alphaNode.isArray()) {
            alpha = new float[alphaNode.size()];
            for (int i = 0; i < alpha.length; i++) {
                alpha[i] = (float) alphaNode.get(i).asDouble();
            }
        }
        boolean crossEntropy = p.textAt("/training/loss/type", "focal").equals("cross-entropy");
        List<TrainingConfig.Unfreeze> unfreeze = new ArrayList<>();
        for (JsonNode step : p.at("/training/unfreeze")) {
            JsonNode stages = step.get("stages");
            unfreeze.add(new TrainingConfig.Unfreeze(step.get("epoch").asInt(), stages.isTextual() ? -1 : stages.asInt()));
        }
        JsonNode pretrained = p.at("/model/pretrained");
        return new TrainingConfig(p.textAt("/model/variant", "small"), 5,
                new PreprocessConfig(resolution, p.booleanAt("/preprocessing/ben_graham", false),
                        p.booleanAt("/preprocessing/clahe", false), 2.0, 8),
                augmentation, p.intAt("/training/epochs", 10), p.intAt("/training/batch_size", 8),
                p.intAt("/training/draws_per_epoch", 0),
                p.textAt("/training/sampler", "shuffle").equals("balanced") ? EpochSampler.Kind.BALANCED : EpochSampler.Kind.SHUFFLE,
                p.doubleAt("/training/lr_features", 3e-4), p.doubleAt("/training/lr_classifier", 1e-3),
                p.doubleAt("/training/weight_decay", 0.05), p.doubleAt("/training/warmup_epochs", 1), 0.01,
                p.doubleAt("/training/clip_norm", 1.0), crossEntropy ? 0f : (float) p.doubleAt("/training/loss/gamma", 2.0),
                alpha, (float) p.doubleAt("/training/loss/label_smoothing", 0), p.booleanAt("/training/freeze_features", false),
                unfreeze, p.intAt("/training/early_stopping", 0), p.longAt("/training/seed", 42), p.intAt("/training/threads", 2),
                pretrained.isMissingNode() || pretrained.isNull() ? null : ProtocolLoader.resolve(p.file(), pretrained.asText()),
                p.intAt("/training/accumulation_steps", 1), null, progressive(p));
    }

    private static TrainingConfig.Progressive progressive(StudyProtocol p) {
        if (p.at("/training/progressive").isMissingNode()) {
            return null;
        }
        return new TrainingConfig.Progressive(p.intAt("/training/progressive/stages", 3),
                p.intAt("/training/progressive/start_resolution", 128),
                (float) p.doubleAt("/training/progressive/start_dropout", 0.1),
                p.doubleAt("/training/progressive/start_magnitude", 0.3));
    }

    private Map<String, Object> provenance(StudyProtocol protocol, TrainingService.Dataset data) {
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("command", "run");
        provenance.put("protocol", protocol.name() + " (SHA-256 " + protocol.sha256() + ")");
        provenance.put("protocol_file", protocol.file().toString());
        // A PACS query has no data folder: its data are identified by the manifest hash alone.
        provenance.put("data_folder", protocol.dataFolder() == null ? null : protocol.dataFolder().toString());
        provenance.put("arguments", protocol.arguments());
        provenance.put("cohort", protocol.textAt("/cohort/name", protocol.name()));
        provenance.put("data_manifest_sha256", data.manifestSha256());
        provenance.put("split", data.splitSource());
        provenance.put("train_images", data.train().size());
        provenance.put("validation_images", data.validation().size());
        provenance.put("test_images", data.test().size());
        provenance.put("seed", protocol.longAt("/training/seed", 42));
        provenance.put("model", Map.of("variant", protocol.textAt("/model/variant", "small"),
                "resolution", protocol.intAt("/preprocessing/resolution", 224), "classes", 5,
                "ben_graham", protocol.booleanAt("/preprocessing/ben_graham", false),
                "clahe", protocol.booleanAt("/preprocessing/clahe", false),
                "batch_size", protocol.intAt("/training/batch_size", 8)));
        provenance.put("validation_fraction", protocol.doubleAt("/split/validation", 0.15));
        provenance.put("threads", Map.of("libtorch_intra_op", protocol.intAt("/training/threads", 2), "libtorch_inter_op", 1,
                "image_preparation", 0));
        provenance.put("code_version", CodeVersion.describe());
        provenance.put("libraries", CodeVersion.libraries());
        return provenance;
    }

    private static long storeProtocol(StudyProtocol protocol) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Protocol existing = Protocol.find("sha256", protocol.sha256()).firstResult();
            if (existing != null) {
                return existing.id;
            }
            Protocol stored = new Protocol();
            stored.name = protocol.name();
            stored.body = protocol.text();
            stored.sha256 = protocol.sha256();
            stored.persist();
            return stored.id;
        });
    }

    private static void stage(PrintStream progress, int number, String what) {
        progress.printf("[%d/%d] %s%n", number, STAGES, what);
    }

    private static Set<String> textSet(JsonNode node) {
        if (!node.isArray()) {
            return null;
        }
        Set<String> values = new HashSet<>();
        node.forEach(v -> values.add(v.asText()));
        return values;
    }

    private static Set<Integer> intSet(JsonNode node) {
        if (!node.isArray()) {
            return null;
        }
        Set<Integer> values = new HashSet<>();
        node.forEach(v -> values.add(v.asInt()));
        return values;
    }
}
