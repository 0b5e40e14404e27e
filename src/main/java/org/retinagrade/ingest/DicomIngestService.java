package org.retinagrade.ingest;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.TagFromName;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;
import org.retinagrade.Workspace;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.dicom.Deidentifier;
import org.retinagrade.dicom.DicomDecodeException;
import org.retinagrade.dicom.DicomDecoder;
import org.retinagrade.dicom.DicomInstance;
import org.retinagrade.dicom.DicomMetadata;
import org.retinagrade.dicom.Series;
import org.retinagrade.dicom.TransferSyntaxes;
import org.retinagrade.dicom.Study;
import org.retinagrade.imaging.OpenCv;
import org.retinagrade.study.Cohort;
import org.retinagrade.study.CohortMember;
import org.retinagrade.study.CohortService;

/**
 * Ingests DICOM instances, from a folder or as received from a PACS, into a cohort. Each
 * instance is one job item with its own transaction. The instance is decoded (see
 * {@link DicomDecoder}) and its metadata recorded. A de-identified copy (PS3.15 Basic Profile,
 * see {@link Deidentifier}) is written to the study's content-addressed store, and each frame
 * is stored as a lossless PNG image row. An instance already stored (same received bytes, or
 * same SOP Instance UID) is a duplicate, and one that cannot be decoded is quarantined with its
 * reason. A job whose process stopped continues with {@link #resumeFolder} or
 * {@link org.retinagrade.pacs.PacsRetrieveService#resume}, which skip items already finished.
 */
@ApplicationScoped
public class DicomIngestService {

    private static final Logger LOG = Logger.getLogger(DicomIngestService.class);
    private static final int PROGRESS_EVERY = 50;

    @Inject
    CohortService cohortService;

    @Inject
    AuditTrail auditTrail;

    /** Settings of a DICOM ingest: target cohort and study, UID handling, optional labels, actor. */
    public record Options(String cohortName, String studyName, boolean retainUids, Path labelsCsv, long maxPixels, String actor) {

        public Options {
            if (cohortName == null || !cohortName.matches(Cohort.NAME_PATTERN)) {
                throw new IllegalArgumentException("invalid cohort name '" + cohortName
                        + "': use 1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit");
            }
            if (studyName == null || !studyName.matches(Cohort.NAME_PATTERN)) {
                throw new IllegalArgumentException("invalid study name '" + studyName
                        + "': use 1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit");
            }
            if (maxPixels <= 0) {
                throw new IllegalArgumentException("invalid --max-pixels " + maxPixels + ": expected a positive number of pixels");
            }
        }
    }

    /** Result of ingesting one instance. */
    public enum Outcome { STORED, DUPLICATE, QUARANTINED }

    /** Everything needed to store instances for one job. */
    public final class Session {

        final long jobId;
        final Cohort cohort;
        final Options options;
        final ContentStore objects;
        final ContentStore quarantine;
        final Deidentifier deidentifier;
        final DicomDecoder decoder;
        final Map<String, Integer> labels;
        private final List<List<String>> labelRows;
        private final Set<String> usedLabelKeys = ConcurrentHashMap.newKeySet();
        private volatile Map<String, String> labelKeysByStoredUid;

        Session(long jobId, Cohort cohort, Options options) throws IOException {
            this.jobId = jobId;
            this.cohort = cohort;
            this.options = options;
            Path studyRoot = Workspace.studies().resolve(options.studyName());
            this.objects = new ContentStore(studyRoot.resolve("objects"));
            int stale = objects.removeStaleTemporaries(java.time.Duration.ofHours(1));
            if (stale > 0) {
                LOG.infof("removed %d unfinished temporary files older than an hour from %s", stale, objects.root());
            }
            this.quarantine = new ContentStore(studyRoot.resolve("quarantine"));
            this.deidentifier = new Deidentifier(Pseudonymizer.fromKeyFile(Workspace.keys().resolve("site.key")),
                    options.retainUids());
            this.decoder = new DicomDecoder(options.maxPixels(), DicomDecoder.DEFAULT_TIMEOUT);
            LabelTable table = readLabelTable(options.labelsCsv());
            this.labels = table.labels();
            this.labelRows = table.rowKeys();
        }

        public long jobId() {
            return jobId;
        }

        /** Stores one received or found file as an item of this job. */
        public Outcome ingest(String sourceRef, Path file) {
            RuntimeException conflict = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                try {
                    return ingestFile(this, sourceRef, file);
                } catch (jakarta.persistence.PersistenceException e) {
                    // Another thread or process inserted the same patient, study or series first:
                    // the next attempt finds and uses its row.
                    conflict = e;
                    LOG.debugf("ingest job %d: %s conflicted with a concurrent insert; retrying", jobId, sourceRef);
                } catch (RuntimeException | IOException e) {
                    return unexpected(sourceRef, file, e);
                }
            }
            return unexpected(sourceRef, file, conflict);
        }

        private Outcome unexpected(String sourceRef, Path file, Exception e) {
            LOG.errorf(e, "ingest job %d: unexpected failure on %s; quarantining it", jobId, sourceRef);
            byte[] copy = null;
            try {
                copy = file != null && Files.isRegularFile(file) && Files.size(file) <= FolderIngestService.MAX_FILE_BYTES
                        ? Files.readAllBytes(file) : null;
            } catch (IOException readFailure) {
                LOG.errorf("ingest job %d: cannot read %s to keep a quarantine copy: %s", jobId, sourceRef, readFailure.getMessage());
            }
            return quarantine(this, sourceRef, file, "unexpected failure: " + e, copy);
        }

        /**
         * Returns the label for an instance stored under this UID. It comes from the label CSV row of
         * the original SOP Instance UID, or else of the file's name without extension (null when none).
         */
        public Integer labelOf(String storedUid, Path file) {
            if (labelKeysByStoredUid == null) {
                Map<String, String> mapped = new HashMap<>();
                labels.keySet().forEach(key -> mapped.put(deidentifier.mapUid(key), key));
                labelKeysByStoredUid = mapped;
            }
            String key = labelKeysByStoredUid.get(storedUid);
            if (key == null && file != null) {
                String name = file.getFileName().toString();
                String stem = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
                key = labels.containsKey(stem) ? stem : labels.containsKey(name) ? name : null;
            }
            if (key == null) {
                return null;
            }
            usedLabelKeys.add(key);
            return labels.get(key);
        }

        /**
         * Reports the label CSV rows that matched no file or instance of this run, with a
         * progress line and a warning. A resumed run does not see the files finished before,
         * so it reports nothing.
         */
        public void reportUnmatchedLabels(Consumer<String> progress, boolean resumed) {
            if (resumed) {
                return;
            }
            List<String> unmatched = new ArrayList<>();
            for (List<String> keys : labelRows) {
                if (keys.stream().noneMatch(usedLabelKeys::contains)) {
                    unmatched.add(keys.get(keys.size() - 1));
                }
            }
            if (unmatched.isEmpty()) {
                return;
            }
            String message = String.format("%d of %d label rows matched no file or instance (%s%s): the image column is"
                    + " matched against file names with or without extension, sop_instance_uid against the original SOP"
                    + " Instance UID", unmatched.size(), labelRows.size(), String.join(", ", unmatched.subList(0,
                    Math.min(5, unmatched.size()))), unmatched.size() > 5 ? ", ..." : "");
            LOG.warnf("ingest job %d: %s", jobId, message);
            progress.accept(message);
        }

        /** Returns the UID under which an instance with this original SOP Instance UID is stored. */
        public String storedUid(String originalUid) {
            return deidentifier.mapUid(originalUid);
        }
    }

    /** Creates a running job of the given kind ("dicom-folder" or "pacs") and returns its session. */
    public Session startJob(String kind, String source, Options options, Map<String, Object> details) throws IOException {
        readLabelTable(options.labelsCsv()); // an invalid label CSV is rejected before a job exists
        Cohort cohort = cohortService.findOrCreate(options.cohortName(), options.actor());
        IngestJob job = QuarkusTransaction.requiringNew().call(() -> {
            IngestJob created = new IngestJob();
            created.kind = kind;
            created.source = source;
            created.cohortId = cohort.id;
            created.status = "running";
            created.options = optionsJson(options, details);
            created.persist();
            Map<String, Object> audited = new LinkedHashMap<>(details);
            audited.put("source", source);
            audited.put("cohort", cohort.name);
            audited.put("study", options.studyName());
            audited.put("retain_uids", options.retainUids());
            if (options.labelsCsv() != null) {
                audited.put("labels", options.labelsCsv().toAbsolutePath().toString());
            }
            auditTrail.append(options.actor(), "ingest.started", "ingest_job", created.id, audited);
            return created;
        });
        LOG.infof("ingest job %d started: %s %s into cohort %s", job.id, kind, source, cohort.name);
        return new Session(job.id, cohort, options);
    }

    /** Returns the job's stored options as JSON: the ingest options merged with the job's details. */
    static String optionsJson(Options options, Map<String, Object> details) {
        com.fasterxml.jackson.databind.node.ObjectNode node = JSON.createObjectNode();
        node.put("study", options.studyName());
        node.put("retain_uids", options.retainUids());
        node.put("max_pixels", options.maxPixels());
        if (options.labelsCsv() != null) {
            node.put("labels", options.labelsCsv().toAbsolutePath().toString());
        }
        details.forEach((key, value) -> node.set(key, JSON.valueToTree(value)));
        return node.toString();
    }

    /** Rebuilds the ingest options of a stored job for the given actor. */
    public Options optionsOf(IngestJob job, String actor) {
        try {
            com.fasterxml.jackson.databind.JsonNode node = JSON.readTree(job.options);
            Cohort cohort = QuarkusTransaction.requiringNew().call(() -> Cohort.findById(job.cohortId));
            return new Options(cohort.name, node.path("study").asText("default"), node.path("retain_uids").asBoolean(false),
                    node.hasNonNull("labels") ? Path.of(node.get("labels").asText()) : null,
                    node.path("max_pixels").asLong(DicomDecoder.DEFAULT_MAX_PIXELS), actor);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("ingest job " + job.id + " has unreadable options: " + e.getMessage(), e);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Re-opens a job that stopped before it finished and returns its session. */
    public Session reopen(long jobId, Options options) throws IOException {
        IngestJob job = QuarkusTransaction.requiringNew().call(() -> {
            IngestJob found = IngestJob.findById(jobId);
            if (found == null) {
                throw new IllegalArgumentException("no ingest job " + jobId + "; list jobs with `retinagrade ingest jobs`");
            }
            found.status = "running";
            found.finishedAt = null;
            auditTrail.append(options.actor(), "ingest.resumed", "ingest_job", found.id, Map.of("source", found.source));
            return found;
        });
        Cohort cohort = QuarkusTransaction.requiringNew().call(() -> Cohort.findById(job.cohortId));
        return new Session(job.id, cohort, options);
    }

    /** Ingests every file under the folder (recursively, skipping DICOMDIR and hidden files). */
    public IngestJob ingestFolder(Path folder, Options options, Consumer<String> progress) throws IOException {
        Path root = folder.toAbsolutePath().normalize();
        List<Path> files = listFiles(root);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no DICOM files found in " + root + " (hidden files, DICOMDIR and .csv, .tsv,"
                    + " .txt, .md and .json files are skipped); nothing was ingested");
        }
        Session session = startJob("dicom-folder", root.toString(), options, Map.of("files", files.size()));
        progress.accept(String.format("found %d %s in %s (ingest job %d)", files.size(), files.size() == 1 ? "file" : "files",
                root, session.jobId));
        return runFolder(session, root, files, progress, false);
    }

    /** Continues a stopped DICOM folder job and skips the files whose item already finished. */
    public IngestJob resumeFolder(long jobId, Options options, Consumer<String> progress) throws IOException {
        IngestJob job = QuarkusTransaction.requiringNew().call(() -> IngestJob.<IngestJob>findById(jobId));
        if (job == null) {
            throw new IllegalArgumentException("no ingest job " + jobId);
        }
        Path root = Path.of(job.source);
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("ingest job " + jobId + " read " + root + ", which is no longer a folder");
        }
        Session session = reopen(jobId, options);
        List<Path> files = listFiles(root);
        progress.accept(String.format("resuming ingest job %d: %d files in %s", jobId, files.size(), root));
        return runFolder(session, root, files, progress, true);
    }

    private IngestJob runFolder(Session session, Path root, List<Path> files, Consumer<String> progress, boolean resumed) {
        Map<String, String> finished = finishedItems(session.jobId);
        int done = 0;
        int skipped = 0;
        for (Path file : files) {
            String reference = root.relativize(file).toString();
            done++;
            if (finished.containsKey(reference)) {
                skipped++;
                continue;
            }
            session.ingest(reference, file);
            if (done % PROGRESS_EVERY == 0) {
                progress.accept(String.format("  %d/%d files", done, files.size()));
            }
        }
        if (skipped > 0) {
            progress.accept(String.format("  %d files were already finished by this job and were skipped", skipped));
        }
        session.reportUnmatchedLabels(progress, resumed);
        return finish(session.jobId, "completed", session.options.actor());
    }

    /** Returns a map from source reference to status for the items of a job that are no longer pending. */
    public Map<String, String> finishedItems(long jobId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Map<String, String> result = new HashMap<>();
            IngestJobItem.<IngestJobItem>list("jobId = ?1 and status <> 'pending'", jobId)
                    .forEach(item -> result.put(item.sourceRef, item.status));
            return result;
        });
    }

    /** Recounts the job's items and marks it with the given status ("completed", "failed" or "interrupted"). */
    public IngestJob finish(long jobId, String status, String actor) {
        return QuarkusTransaction.requiringNew().call(() -> {
            IngestJob job = IngestJob.findById(jobId);
            job.readCount = (int) IngestJobItem.count("jobId", jobId);
            job.stored = (int) IngestJobItem.count("jobId = ?1 and status = 'stored'", jobId);
            job.duplicates = (int) IngestJobItem.count("jobId = ?1 and status = 'duplicate'", jobId);
            job.quarantined = (int) IngestJobItem.count("jobId = ?1 and status = 'quarantined'", jobId);
            job.status = status;
            job.finishedAt = Instant.now();
            long unapplied = IngestJobItem.count("jobId = ?1 and message like '%given here was not applied%'", jobId);
            if (unapplied > 0) {
                LOG.warnf("ingest job %d: %s a label that was not applied because the image already had a different one;"
                        + " list the items with `retinagrade ingest jobs %d`", jobId,
                        unapplied == 1 ? "1 item has" : unapplied + " items have", jobId);
            }
            auditTrail.append(actor, "ingest." + status, "ingest_job", job.id, Map.of("items", job.readCount,
                    "stored", job.stored, "duplicates", job.duplicates, "quarantined", job.quarantined));
            return job;
        });
    }

    private Outcome ingestFile(Session session, String sourceRef, Path file) throws IOException {
        long size = Files.size(file);
        if (size > FolderIngestService.MAX_FILE_BYTES) {
            return quarantine(session, sourceRef, file, "file of " + size + " bytes exceeds the limit of "
                    + FolderIngestService.MAX_FILE_BYTES + " bytes", null);
        }

        byte[] content = Files.readAllBytes(file);
        String sourceSha = ContentStore.sha256(content);
        DicomInstance known = QuarkusTransaction.requiringNew().call(() -> DicomInstance.findBySourceSha256(sourceSha));
        if (known != null) {
            return duplicate(session, sourceRef, known, session.labelOf(known.sopInstanceUid, file),
                    "the same bytes are stored as instance " + known.sopInstanceUid);
        }

        DicomDecoder.Decoded decoded;
        try {
            decoded = session.decoder.decode(file);
        } catch (DicomDecodeException e) {
            return quarantine(session, sourceRef, file, e.getMessage(), content);
        }
        AttributeList list = decoded.attributes();
        DicomMetadata metadata = DicomMetadata.of(list);
        if (metadata.sopInstanceUid() == null) {
            return quarantine(session, sourceRef, file, "no SOP Instance UID (0008,0018)", content);
        }

        String storedUid = session.deidentifier.mapUid(metadata.sopInstanceUid());
        DicomInstance sameUid = QuarkusTransaction.requiringNew().call(() -> DicomInstance.findBySopInstanceUid(storedUid));
        if (sameUid != null) {
            return duplicate(session, sourceRef, sameUid, session.labelOf(sameUid.sopInstanceUid, file),
                    "SOP Instance UID already stored from a file with other bytes (SHA-256 " + sameUid.sourceSha256.substring(0, 12)
                            + "...); the stored copy is kept and this file was not decoded");
        }

        Integer label = session.labelOf(storedUid, file);

        byte[] deidentified;
        try {
            session.deidentifier.apply(list, metadata);
            String storedSyntax = decoded.transferSyntax();
            if (!TransferSyntaxes.isNative(storedSyntax)) {
                // PixelMed decompressed the pixel data while reading: store it uncompressed, with the
                // pixel description of the decompressed data and, for lossy sources, their history.
                list.correctDecompressedImagePixelModule();
                list.insertLossyImageCompressionHistoryIfDecompressed();
                storedSyntax = TransferSyntaxes.EXPLICIT_LITTLE;
            }
            deidentified = writePart10(list, storedSyntax);
        } catch (DicomException | RuntimeException e) {
            return quarantine(session, sourceRef, file, "de-identification failed: " + e.getMessage(), content);
        }
        String storedSha = ContentStore.sha256(deidentified);
        Path storedPath = session.objects.put(storedSha, deidentified);

        List<byte[]> frames = new ArrayList<>();
        for (BufferedImage frame : decoded.frames()) {
            frames.add(encodePng(frame));
        }

        List<String[]> flags = new ArrayList<>();
        for (BufferedImage frame : decoded.frames()) {
            flags.add(isOphthalmic(metadata) ? qualityFlags(frame) : new String[0]);
        }

        List<Path> framePaths = new ArrayList<>();
        for (byte[] png : frames) {
            framePaths.add(session.objects.put(ContentStore.sha256(png), png));
        }

        Integer finalLabel = label;
        String pseudonym = session.deidentifier.patientPseudonym(metadata);
        return QuarkusTransaction.requiringNew().call(() -> {
            // Storing workers and concurrent senders may create the same patient, study or series at
            // once. INSERT ... ON CONFLICT DO NOTHING waits for the other transaction and adds nothing,
            // where a plain insert would fail with a unique violation and retry.
            jakarta.persistence.EntityManager entityManager = Patient.getEntityManager();
            entityManager.createNativeQuery("INSERT INTO patient (pseudonym) VALUES (?1) ON CONFLICT (pseudonym) DO NOTHING")
                    .setParameter(1, pseudonym).executeUpdate();
            Patient patient = Patient.find("pseudonym", pseudonym).firstResult();
            String studyUid = session.deidentifier.mapUid(metadata.studyInstanceUid() == null
                    ? "unknown-study:" + metadata.sopInstanceUid() : metadata.studyInstanceUid());
            // Study Date and Accession Number stay empty: the profile empties them, and the
            // acquisition date is kept per instance.
            entityManager.createNativeQuery("INSERT INTO study (patient_id, study_instance_uid) VALUES (?1, ?2)"
                    + " ON CONFLICT (study_instance_uid) DO NOTHING")
                    .setParameter(1, patient.id).setParameter(2, studyUid).executeUpdate();
            Study study = Study.find("studyInstanceUid", studyUid).firstResult();
            String seriesUid = session.deidentifier.mapUid(metadata.seriesInstanceUid() == null
                    ? "unknown-series:" + metadata.sopInstanceUid() : metadata.seriesInstanceUid());
            entityManager.createNativeQuery("INSERT INTO series (study_id, series_instance_uid, modality, laterality,"
                    + " manufacturer, model_name) VALUES (?1, ?2, CAST(?3 AS text), CAST(?4 AS char(1)), CAST(?5 AS text),"
                    + " CAST(?6 AS text)) ON CONFLICT (series_instance_uid) DO NOTHING")
                    .setParameter(1, study.id).setParameter(2, seriesUid).setParameter(3, metadata.modality())
                    .setParameter(4, metadata.laterality()).setParameter(5, metadata.manufacturer())
                    .setParameter(6, metadata.modelName()).executeUpdate();
            Series series = Series.find("seriesInstanceUid", seriesUid).firstResult();
            DicomInstance instance = new DicomInstance();
            instance.seriesId = series.id;
            instance.sopInstanceUid = storedUid;
            instance.sopClassUid = metadata.sopClassUid();
            instance.transferSyntaxUid = decoded.transferSyntax();
            instance.photometric = decoded.photometric();
            instance.rows = metadata.rows();
            instance.columns = metadata.columns();
            instance.frames = frames.size();
            instance.pixelSpacing = metadata.pixelSpacing();
            instance.acquisitionDate = metadata.acquisitionDate();
            instance.sha256 = storedSha;
            instance.sourceSha256 = sourceSha;
            instance.storagePath = Workspace.root().relativize(storedPath).toString();
            instance.persist();

            Long firstImage = null;
            List<String> notes = new ArrayList<>();
            if (frames.size() > 1) {
                notes.add(frames.size() + " frames");
            }
            List<String> shared = new ArrayList<>();
            List<String> labelNotes = new ArrayList<>();
            for (int i = 0; i < frames.size(); i++) {
                String sha = ContentStore.sha256(frames.get(i));
                Image image = Image.findBySha256(sha);
                if (image != null) {
                    // One image row per distinct pixel content: this frame joins the cohort as that image.
                    shared.add(frames.size() == 1 ? "image " + image.id + " (" + image.sopInstanceUid + ")"
                            : "frame " + (i + 1) + " as image " + image.id);
                } else {
                    image = new Image();
                    image.sha256 = sha;
                    image.sizeBytes = frames.get(i).length;
                    image.mediaType = "image/png";
                    image.storagePath = Workspace.root().relativize(framePaths.get(i)).toString();
                    // A PACS reference or received file name contains the original UIDs: keep only the stored UID.
                    boolean network = isNetworkReference(sourceRef);
                    image.source = network ? "pacs:" + storedUid : "dicom:" + sourceRef;
                    image.originalName = network ? null : file.getFileName().toString();
                    image.patientId = patient.id;
                    image.seriesId = series.id;
                    image.sopInstanceUid = storedUid;
                    image.sopClassUid = metadata.sopClassUid();
                    image.frameNumber = i + 1;
                    image.dicomInstanceId = instance.id;
                    image.laterality = metadata.laterality();
                    image.width = decoded.frames().get(i).getWidth();
                    image.height = decoded.frames().get(i).getHeight();
                    image.qualityFlags = flags.get(i);
                    image.persist();
                }
                if (firstImage == null) {
                    firstImage = image.id;
                }
                String note = addMember(session, image.id, finalLabel);
                if (note != null) {
                    labelNotes.add(note);
                }
            }
            if (frames.size() == 1 && !shared.isEmpty()) {
                notes.add("same pixels as the stored " + shared.get(0) + ", so the cohort uses that image");
            } else if (!shared.isEmpty()) {
                notes.add(shared.size() + " of " + frames.size() + " frames have the same pixels as stored images, so the"
                        + " cohort uses those (" + firstFew(shared) + ")");
            }
            if (!labelNotes.isEmpty()) {
                // A label that was not applied comes first, so that the summary keeps it and the job's count finds it.
                labelNotes.sort(java.util.Comparator.comparing(note -> !note.contains("not applied")));
                notes.add(firstFew(labelNotes));
            }
            recordItem(session, sourceRef, "stored", storedUid, sourceSha, firstImage,
                    notes.isEmpty() ? null : String.join("; ", notes));
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("sop_instance_uid", storedUid);
            details.put("sha256", storedSha);
            details.put("source_sha256", sourceSha);
            details.put("frames", frames.size());
            details.put("transfer_syntax", decoded.transferSyntax());
            details.put("cohort", session.cohort.name);
            details.put("label", finalLabel == null ? "none" : finalLabel.toString());
            auditTrail.append(session.options.actor(), "dicom.stored", "dicom_instance", instance.id, details);
            return Outcome.STORED;
        });
    }

    private static boolean isOphthalmic(DicomMetadata metadata) {
        return "OP".equals(metadata.modality()) || (metadata.sopClassUid() != null
                && metadata.sopClassUid().startsWith("1.2.840.10008.5.1.4.1.1.77.1.5"));
    }

    /**
     * Adds the image to the session's cohort with the label. A stored label is never overwritten:
     * returns a note when a missing label was filled in or a different label was not applied, else null.
     */
    private String addMember(Session session, long imageId, Integer label) {
        Cohort cohort = session.cohort;
        CohortMember member = CohortMember.findById(new CohortMember.Key(cohort.id, imageId));
        if (member == null) {
            member = new CohortMember();
            member.key = new CohortMember.Key(cohort.id, imageId);
            member.label = label == null ? null : label.shortValue();
            member.persist();
            return null;
        }
        if (label == null || (member.label != null && member.label.intValue() == label)) {
            return null;
        }
        if (member.label == null) {
            member.label = label.shortValue();
            auditTrail.append(session.options.actor(), "cohort.member.labelled", "cohort", cohort.id,
                    Map.of("image", imageId, "label", label.toString()));
            return "label " + label + " added to image " + imageId;
        }
        return "image " + imageId + " keeps its label " + member.label + " in cohort " + cohort.name + "; the label " + label
                + " given here was not applied";
    }

    /**
     * Returns the image rows of a stored instance: those made from its frames or, when its pixels
     * were identical to an earlier instance's, the image that its stored item points to.
     */
    private static List<Image> imagesOf(DicomInstance known) {
        List<Image> images = Image.list("dicomInstanceId", known.id);
        if (!images.isEmpty()) {
            return images;
        }
        // NOTE: a multi-frame instance records only its first image on the item, so its other shared frames are not found.
        IngestJobItem item = IngestJobItem.find("sopInstanceUid = ?1 and status = 'stored' and imageId is not null",
                known.sopInstanceUid).firstResult();
        return item == null ? List.of() : List.of(Image.<Image>findById(item.imageId));
    }

    /** Adds the instance's images to the session's cohort and returns the message joined with any label notes. */
    private String addMembers(Session session, List<Image> images, Integer label, String message) {
        List<String> notes = new ArrayList<>();
        for (Image image : images) {
            String note = addMember(session, image.id, label);
            if (note != null) {
                notes.add(note);
            }
        }
        return notes.isEmpty() ? message : message + "; " + firstFew(notes);
    }

    /** Joins the first three notes with "; " and counts the rest, so that a multi-frame item keeps a short message. */
    private static String firstFew(List<String> notes) {
        String joined = String.join("; ", notes.subList(0, Math.min(3, notes.size())));
        return notes.size() <= 3 ? joined : joined + "; and " + (notes.size() - 3) + " more";
    }

    private Outcome duplicate(Session session, String sourceRef, DicomInstance known, Integer label, String message) {
        return QuarkusTransaction.requiringNew().call(() -> {
            List<Image> images = imagesOf(known);
            String noted = addMembers(session, images, label, message);
            recordItem(session, sourceRef, "duplicate", known.sopInstanceUid, known.sourceSha256,
                    images.isEmpty() ? null : images.get(0).id, noted);
            return Outcome.DUPLICATE;
        });
    }

    private Outcome quarantine(Session session, String sourceRef, Path file, String reason, byte[] content) {
        if (file != null) {
            session.labelOf(null, file); // the file was found, so its label row is not reported as unmatched
        }
        String sha256 = content == null ? null : ContentStore.sha256(content);
        String copyPath = null;
        if (content != null && content.length > 0) {
            try {
                copyPath = Workspace.root().relativize(session.quarantine.put(sha256, content)).toString();
            } catch (IOException e) {
                LOG.errorf(e, "ingest job %d: failed to keep a copy of quarantined %s", session.jobId, sourceRef);
            }
        }
        String finalCopyPath = copyPath;
        LOG.warnf("ingest job %d: quarantined %s: %s", session.jobId, sourceRef, reason);
        return QuarkusTransaction.requiringNew().call(() -> {
            QuarantineEntry entry = new QuarantineEntry();
            entry.jobId = session.jobId;
            entry.sourcePath = file == null || isNetworkReference(sourceRef) ? auditReference(sourceRef) : file.toString();
            entry.reason = reason;
            entry.sha256 = sha256;
            entry.sizeBytes = content == null ? null : (long) content.length;
            entry.storedPath = finalCopyPath;
            entry.persist();
            recordItem(session, sourceRef, "quarantined", null, sha256, null, reason);
            auditTrail.append(session.options.actor(), "image.quarantined", "quarantine_entry", entry.id,
                    Map.of("source", auditReference(sourceRef), "reason", reason));
            return Outcome.QUARANTINED;
        });
    }

    /** Records the item's final state. Updates its pending row when there is one, otherwise adds a row. */
    private void recordItem(Session session, String sourceRef, String status, String sopUid, String sha256, Long imageId,
            String message) {
        long jobId = session.jobId;
        IngestJobItem item = IngestJobItem.find("jobId = ?1 and sourceRef = ?2 and status = 'pending'", jobId, sourceRef)
                .firstResult();
        if (item == null) {
            // A finished item is never changed: a re-sent or re-read instance gets a row of its own.
            item = new IngestJobItem();
            item.jobId = jobId;
            item.sourceRef = sourceRef;
        }
        item.status = status;
        item.sopInstanceUid = sopUid != null ? sopUid : item.sopInstanceUid;
        item.sha256 = sha256;
        item.imageId = imageId;
        item.message = message;
        item.updatedAt = Instant.now();
        item.persist();
        if (item.id != null) {
            auditTrail.append(session.options.actor(), "ingest.item." + status, "ingest_job_item", item.id,
                    Map.of("job", jobId, "source", auditReference(sourceRef)));
        }
    }

    /** Returns true for references of instances that came over the network (they name the original UIDs). */
    static boolean isNetworkReference(String sourceRef) {
        return sourceRef.startsWith("pacs:") || sourceRef.startsWith("c-store:");
    }

    /** Returns the reference written to the append-only audit trail: network references without their UIDs. */
    static String auditReference(String sourceRef) {
        if (sourceRef.startsWith("pacs:")) {
            return "pacs instance";
        }
        if (sourceRef.startsWith("c-store:")) {
            int slash = sourceRef.indexOf('/');
            return slash < 0 ? "c-store instance" : sourceRef.substring(0, slash) + " instance";
        }
        return sourceRef;
    }

    /** Marks a pending item as a duplicate of an instance stored earlier (not fetched again). */
    public void markStored(Session session, String sourceRef, String storedUid) {
        QuarkusTransaction.requiringNew().run(() -> {
            DicomInstance known = DicomInstance.findBySopInstanceUid(storedUid);
            List<Image> images = imagesOf(known);
            String noted = addMembers(session, images, session.labelOf(storedUid, null), "already stored; not fetched again");
            recordItem(session, sourceRef, "duplicate", storedUid, known.sourceSha256,
                    images.isEmpty() ? null : images.get(0).id, noted);
        });
    }

    /** Counts the items of a job that are still pending. */
    public long pendingCount(long jobId) {
        return QuarkusTransaction.requiringNew().call(() -> IngestJobItem.count("jobId = ?1 and status = 'pending'", jobId));
    }

    /** Counts the items per series for references of the form PREFIX + study/series/sop. */
    public Map<String, Long> itemsPerSeries(long jobId, String prefix) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Map<String, Long> counts = new HashMap<>();
            for (IngestJobItem item : IngestJobItem.<IngestJobItem>list("jobId", jobId)) {
                if (item.sourceRef.startsWith(prefix)) {
                    String[] parts = item.sourceRef.substring(prefix.length()).split("/");
                    if (parts.length == 3) {
                        counts.merge(parts[1], 1L, Long::sum);
                    }
                }
            }
            return counts;
        });
    }

    /** Adds pending items (one per expected instance) so that a stopped job records which instances are missing. */
    public void addPendingItems(Session session, List<String[]> referencesAndUids) {
        long jobId = session.jobId;
        QuarkusTransaction.requiringNew().run(() -> {
            for (String[] entry : referencesAndUids) {
                if (IngestJobItem.count("jobId = ?1 and sourceRef = ?2", jobId, entry[0]) > 0) {
                    continue;
                }
                IngestJobItem item = new IngestJobItem();
                item.jobId = jobId;
                item.sourceRef = entry[0];
                item.sopInstanceUid = entry[1];
                item.status = "pending";
                item.persist();
            }
            auditTrail.append(session.options.actor(), "ingest.items.expected", "ingest_job", jobId,
                    Map.of("count", referencesAndUids.size()));
        });
    }

    static byte[] writePart10(AttributeList list, String transferSyntax) throws DicomException, IOException {
        list.remove(TagFromName.FileMetaInformationGroupLength);
        list.remove(TagFromName.TransferSyntaxUID);
        list.remove(TagFromName.MediaStorageSOPClassUID);
        list.remove(TagFromName.MediaStorageSOPInstanceUID);
        FileMetaInformation.addFileMetaInformation(list, transferSyntax, "RETINAGRADE");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        list.write(out, transferSyntax, true, true);
        return out.toByteArray();
    }

    /** Returns the quality flags of a decoded frame, as `ingest folder` sets them for photographs. */
    static String[] qualityFlags(BufferedImage frame) {
        OpenCv.load();
        byte[] data = ((DataBufferByte) frame.getRaster().getDataBuffer()).getData();
        boolean grey = frame.getType() == BufferedImage.TYPE_BYTE_GRAY;
        Mat stored = new Mat(frame.getHeight(), frame.getWidth(), grey ? CvType.CV_8UC1 : CvType.CV_8UC3);
        Mat rgb = new Mat();
        try {
            stored.put(0, 0, data);
            org.opencv.imgproc.Imgproc.cvtColor(stored, rgb,
                    grey ? org.opencv.imgproc.Imgproc.COLOR_GRAY2RGB : org.opencv.imgproc.Imgproc.COLOR_BGR2RGB);
            return FolderIngestService.qualityFlags(rgb);
        } finally {
            stored.release();
            rgb.release();
        }
    }

    /** Encodes an 8-bit grey or RGB frame as PNG (lossless) with OpenCV. */
    static byte[] encodePng(BufferedImage frame) {
        OpenCv.load();
        byte[] data = ((DataBufferByte) frame.getRaster().getDataBuffer()).getData();
        boolean grey = frame.getType() == BufferedImage.TYPE_BYTE_GRAY;
        Mat mat = new Mat(frame.getHeight(), frame.getWidth(), grey ? CvType.CV_8UC1 : CvType.CV_8UC3);
        MatOfByte encoded = new MatOfByte();
        try {
            mat.put(0, 0, data); // TYPE_3BYTE_BGR is already in OpenCV's channel order
            if (!Imgcodecs.imencode(".png", mat, encoded)) {
                throw new IllegalStateException("OpenCV failed to encode a " + frame.getWidth() + "x" + frame.getHeight() + " frame as PNG");
            }
            return encoded.toArray();
        } finally {
            mat.release();
            encoded.release();
        }
    }

    /** Labels keyed by SOP Instance UID or image name, and the keys of each CSV row in order. */
    record LabelTable(Map<String, Integer> labels, List<List<String>> rowKeys) {
    }

    /** Reads the labels of a CSV, keyed by SOP Instance UID or image name (see {@link #readLabelTable}). */
    static Map<String, Integer> readLabels(Path csv) throws IOException {
        return readLabelTable(csv).labels();
    }

    /**
     * Reads a label CSV with columns sop_instance_uid,image,level (as written by `dicom
     * from-image`) or image,level (Kaggle). A key given two different levels is rejected.
     */
    static LabelTable readLabelTable(Path csv) throws IOException {
        Map<String, Integer> labels = new HashMap<>();
        List<List<String>> rowKeys = new ArrayList<>();
        if (csv == null) {
            return new LabelTable(labels, rowKeys);
        }

        if (!Files.isRegularFile(csv)) {
            throw new IllegalArgumentException("label CSV " + csv + " does not exist; give a CSV with image,level or"
                    + " sop_instance_uid,image,level columns");
        }

        List<String> lines;
        try {
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException("label CSV " + csv + " is not UTF-8 text; save it as UTF-8 (or plain ASCII)"
                    + " and give it again");
        }
        if (lines.isEmpty()) {
            return new LabelTable(labels, rowKeys);
        }
        if (lines.stream().anyMatch(line -> line.indexOf('\0') >= 0)) {
            throw new IllegalArgumentException("label CSV " + csv + " is not UTF-8 text (it contains NUL bytes, as UTF-16 files"
                    + " do); save it as UTF-8 (or plain ASCII) and give it again");
        }
        if (lines.get(0).startsWith("\uFEFF")) {
            lines.set(0, lines.get(0).substring(1)); // the byte order mark that spreadsheet programs write
        }

        List<String> header = List.of(lines.get(0).strip().toLowerCase(Locale.ROOT).split(","));
        int level = header.indexOf("level");
        if (level < 0) {
            throw new IllegalArgumentException("label CSV " + csv + " has no 'level' column; its header is " + lines.get(0));
        }

        List<Integer> keys = new ArrayList<>();
        for (String name : List.of("sop_instance_uid", "image")) {
            if (header.contains(name)) {
                keys.add(header.indexOf(name));
            }
        }

        for (int row = 1; row < lines.size(); row++) {
            String[] fields = lines.get(row).split(",", -1);
            if (fields.length <= level || fields[level].isBlank()) {
                continue;
            }

            int value;
            try {
                value = Integer.parseInt(fields[level].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("label CSV " + csv + " line " + (row + 1) + ": invalid level '"
                        + fields[level] + "': expected a grade 0-4");
            }
            if (value < 0 || value > 4) {
                throw new IllegalArgumentException("label CSV " + csv + " line " + (row + 1) + ": invalid level "
                        + value + ": expected a grade 0-4");
            }

            List<String> rowKey = new ArrayList<>();
            for (int key : keys) {
                if (key < fields.length && !fields[key].isBlank()) {
                    String name = fields[key].strip();
                    Integer earlier = labels.put(name, value);
                    if (earlier != null && earlier != value) {
                        throw new IllegalArgumentException("label CSV " + csv + " line " + (row + 1) + ": '" + name
                                + "' has level " + value + " here and " + earlier + " on an earlier line; keep one row per"
                                + " image");
                    }
                    rowKey.add(name);
                }
            }
            if (!rowKey.isEmpty()) {
                rowKeys.add(rowKey);
            }
        }
        return new LabelTable(labels, rowKeys);
    }

    static List<Path> listFiles(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(root + " is not a folder; give a folder of DICOM files");
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> !p.getFileName().toString().equalsIgnoreCase("DICOMDIR"))
                    .filter(p -> !p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(csv|tsv|txt|md|json)$"))
                    .sorted()
                    .toList();
        }
    }

    /** Returns a short status line for a job. */
    public static String describe(IngestJob job) {
        return Objects.requireNonNull(job).summary();
    }
}
