package org.retinagrade.ingest;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.jboss.logging.Logger;
import org.retinagrade.Workspace;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.study.Cohort;
import org.retinagrade.study.CohortMember;
import org.retinagrade.study.CohortService;

/**
 * Ingests a folder of fundus photographs into a cohort. Each file is handled in its own
 * transaction: it is hashed, skipped as a duplicate when its SHA-256 is already stored,
 * decoded within a pixel budget, written to the study's content-addressed store and
 * recorded with its label, patient pseudonym and laterality. A file that fails is
 * quarantined with its reason and the job goes on with the next one. Nothing stored is
 * overwritten: a duplicate with a different label keeps the stored label, and its job item
 * records the label that was not applied.
 */
@ApplicationScoped
public class FolderIngestService {

    /** Files above this size are rejected before they are read: 512 MiB. */
    public static final long MAX_FILE_BYTES = 512L * 1024 * 1024;

    private static final Logger LOG = Logger.getLogger(FolderIngestService.class);
    private static final int PROGRESS_EVERY = 50;

    @Inject
    CohortService cohortService;

    @Inject
    AuditTrail auditTrail;

    /** Ingestion settings: source folder and label CSV, target cohort and study, pixel budget, pseudonym namespace, actor. */
    public record Options(Path folder, Path labelsCsv, String cohortName, String studyName, long maxPixels,
            String patientNamespace, String actor) {

        public Options {
            Objects.requireNonNull(folder, "folder");
            if (cohortName == null || !cohortName.matches(Cohort.NAME_PATTERN)) {
                throw new IllegalArgumentException("invalid cohort name '" + cohortName
                        + "': use 1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit");
            }
            if (maxPixels <= 0) {
                throw new IllegalArgumentException("invalid --max-pixels " + maxPixels + ": expected a positive number of pixels");
            }
            if (studyName == null || !studyName.matches(Cohort.NAME_PATTERN)) {
                throw new IllegalArgumentException("invalid study name '" + studyName
                        + "': use 1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit");
            }
        }
    }

    private enum Outcome { STORED, DUPLICATE, QUARANTINED }

    /** Runs one ingest job and returns it with its final counts. */
    public IngestJob ingest(Options options, Consumer<String> progress) throws IOException {
        Path folder = options.folder().toAbsolutePath().normalize();
        FolderLayout.Scan scan = FolderLayout.scan(folder, options.labelsCsv());
        if (scan.entries().isEmpty()) {
            throw new IllegalArgumentException("no images found in " + folder + " (layout: " + scan.layout()
                    + "); nothing was ingested");
        }
        progress.accept(String.format("found %d %s in %s (layout: %s)", scan.entries().size(),
                scan.entries().size() == 1 ? "entry" : "entries", folder, scan.layout()));
        scan.notes().forEach(progress);

        Cohort cohort = cohortService.findOrCreate(options.cohortName(), options.actor());
        String kind = scan.layout().startsWith("Kaggle") ? "csv" : "folder";
        IngestJob job = QuarkusTransaction.requiringNew().call(() -> {
            IngestJob created = new IngestJob();
            created.kind = kind;
            created.source = folder.toString();
            created.cohortId = cohort.id;
            created.status = "running";
            created.persist();
            auditTrail.append(options.actor(), "ingest.started", "ingest_job", created.id,
                    Map.of("source", created.source, "cohort", cohort.name, "layout", scan.layout(),
                            "entries", scan.entries().size()));
            return created;
        });
        LOG.infof("ingest job %d started: %s into cohort %s", job.id, folder, cohort.name);

        Path studyRoot = Workspace.studies().resolve(options.studyName());
        ContentStore objects = new ContentStore(studyRoot.resolve("objects"));
        ContentStore quarantine = new ContentStore(studyRoot.resolve("quarantine"));
        Pseudonymizer pseudonymizer = Pseudonymizer.fromKeyFile(Workspace.keys().resolve("site.key"));
        String namespace = options.patientNamespace() != null ? options.patientNamespace() : folder.getFileName().toString();
        ImageProbe probe = new ImageProbe(options.maxPixels());

        int read = 0;
        int stored = 0;
        int duplicates = 0;
        int quarantined = 0;
        for (FolderLayout.Entry entry : scan.entries()) {
            read++;
            Outcome outcome;
            try {
                outcome = ingestEntry(entry, job.id, cohort, options.actor(), objects, quarantine, pseudonymizer, namespace, probe);
            } catch (RuntimeException | IOException e) {
                LOG.errorf(e, "ingest job %d: unexpected failure on %s; quarantining it", job.id, entry.reference());
                quarantineEntry(entry, job.id, "unexpected failure: " + e, null, quarantine, options.actor());
                outcome = Outcome.QUARANTINED;
            }
            switch (outcome) {
                case STORED -> stored++;
                case DUPLICATE -> duplicates++;
                case QUARANTINED -> quarantined++;
            }
            if (read % PROGRESS_EVERY == 0) {
                progress.accept(String.format("  %d/%d read: stored %d, duplicates %d, quarantined %d",
                        read, scan.entries().size(), stored, duplicates, quarantined));
            }
        }

        int finalRead = read;
        int finalStored = stored;
        int finalDuplicates = duplicates;
        int finalQuarantined = quarantined;
        IngestJob finished = QuarkusTransaction.requiringNew().call(() -> {
            IngestJob managed = IngestJob.findById(job.id);
            managed.readCount = finalRead;
            managed.stored = finalStored;
            managed.duplicates = finalDuplicates;
            managed.quarantined = finalQuarantined;
            managed.status = "completed";
            managed.finishedAt = Instant.now();
            auditTrail.append(options.actor(), "ingest.completed", "ingest_job", managed.id,
                    Map.of("read", finalRead, "stored", finalStored, "duplicates", finalDuplicates,
                            "quarantined", finalQuarantined));
            return managed;
        });
        LOG.debug(finished.summary());
        return finished;
    }

    private Outcome ingestEntry(FolderLayout.Entry entry, long jobId, Cohort cohort, String actor, ContentStore objects,
            ContentStore quarantine, Pseudonymizer pseudonymizer, String namespace, ImageProbe probe) throws IOException {
        if (entry.file().isEmpty()) {
            return quarantineEntry(entry, jobId, entry.problem(), null, quarantine, actor);
        }
        Path file = entry.file().get();
        long size = Files.size(file);
        if (entry.problem() != null) {
            byte[] quarantineCopy = size <= MAX_FILE_BYTES ? Files.readAllBytes(file) : null;
            return quarantineEntry(entry, jobId, entry.problem(), quarantineCopy, quarantine, actor);
        }
        if (size > MAX_FILE_BYTES) {
            return quarantineEntry(entry, jobId, "file of " + size + " bytes exceeds the limit of " + MAX_FILE_BYTES
                    + " bytes", null, quarantine, actor);
        }
        byte[] content = Files.readAllBytes(file);
        String sha256 = ContentStore.sha256(content);

        Image existing = QuarkusTransaction.requiringNew().call(() -> Image.findBySha256(sha256));
        if (existing != null) {
            return recordDuplicate(entry, jobId, cohort, actor, existing,
                    FolderLayout.parseEyePacsName(file.getFileName().toString()), pseudonymizer, namespace);
        }

        ImageProbe.Result decoded;
        try {
            decoded = probe.probe(content);
        } catch (ImageProbe.InvalidImageException e) {
            return quarantineEntry(entry, jobId, e.getMessage(), content, quarantine, actor);
        }

        String[] qualityFlags = qualityFlags(content);
        Path storedPath = objects.put(sha256, content);
        Optional<FolderLayout.NameParts> nameParts = FolderLayout.parseEyePacsName(file.getFileName().toString());
        return QuarkusTransaction.requiringNew().call(() -> {
            Image image = new Image();
            image.sha256 = sha256;
            image.sizeBytes = content.length;
            image.mediaType = decoded.mediaType();
            image.storagePath = Workspace.root().relativize(storedPath).toString();
            image.source = file.toString();
            image.originalName = file.getFileName().toString();
            image.width = decoded.width();
            image.height = decoded.height();
            image.qualityFlags = qualityFlags;
            nameParts.ifPresent(parts -> {
                image.laterality = parts.laterality();
                image.patientId = Patient.findOrCreate(pseudonymizer.pseudonym(namespace, parts.patientKey())).id;
            });
            image.persist();

            CohortMember member = new CohortMember();
            member.key = new CohortMember.Key(cohort.id, image.id);
            member.label = entry.label() == null ? null : entry.label().shortValue();
            member.split = entry.split();
            member.persist();

            recordItem(jobId, entry.reference(), "stored", sha256, image.id, null);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("sha256", sha256);
            details.put("source", image.source);
            details.put("cohort", cohort.name);
            details.put("label", entry.label() == null ? "none" : entry.label().toString());
            auditTrail.append(actor, "image.stored", "image", image.id, details);
            return Outcome.STORED;
        });
    }

    /**
     * Returns "ungradable: reason" when no usable fundus field is found (see
     * {@link org.retinagrade.imaging.FundusRegion}), otherwise no flags. The image is stored
     * either way; protocols can leave flagged images out.
     */
    static String[] qualityFlags(byte[] content) {
        org.opencv.core.Mat rgb;
        try {
            rgb = org.retinagrade.imaging.Preprocessor.decode(content);
        } catch (IllegalArgumentException e) {
            return new String[] {"undecodable-by-opencv"};
        }
        try {
            return qualityFlags(rgb);
        } finally {
            rgb.release();
        }
    }

    /** Returns the quality flags of an image already decoded to 8-bit RGB (see {@link #qualityFlags(byte[])}). */
    static String[] qualityFlags(org.opencv.core.Mat rgb) {
        org.retinagrade.imaging.FundusRegion region = org.retinagrade.imaging.FundusRegion.detect(rgb);
        return region.gradable() ? new String[0] : new String[] {"ungradable: " + region.reason()};
    }

    private Outcome recordDuplicate(FolderLayout.Entry entry, long jobId, Cohort cohort, String actor, Image existing,
            Optional<FolderLayout.NameParts> nameParts, Pseudonymizer pseudonymizer, String namespace) {
        return QuarkusTransaction.requiringNew().call(() -> {
            // A name that gives laterality and patient fills them in when the stored image lacks them;
            // values already stored are never replaced.
            Image image = Image.findById(existing.id);
            if (nameParts.isPresent() && image.laterality == null && image.patientId == null) {
                image.laterality = nameParts.get().laterality();
                image.patientId = Patient.findOrCreate(pseudonymizer.pseudonym(namespace, nameParts.get().patientKey())).id;
                auditTrail.append(actor, "image.metadata.added", "image", image.id,
                        Map.of("laterality", image.laterality, "source", entry.reference()));
            }
            CohortMember member = CohortMember.findById(new CohortMember.Key(cohort.id, existing.id));
            String message;
            if (member == null) {
                CohortMember added = new CohortMember();
                added.key = new CohortMember.Key(cohort.id, existing.id);
                added.label = entry.label() == null ? null : entry.label().shortValue();
                added.split = entry.split();
                added.persist();
                auditTrail.append(actor, "cohort.member.added", "cohort", cohort.id,
                        Map.of("image", existing.id, "label", entry.label() == null ? "none" : entry.label().toString()));
                message = "already stored as image " + existing.id + "; added to cohort " + cohort.name;
            } else if (entry.label() != null && member.label == null) {
                // Filling a missing label overwrites nothing.
                member.label = entry.label().shortValue();
                if (member.split == null) {
                    member.split = entry.split();
                }
                auditTrail.append(actor, "cohort.member.labelled", "cohort", cohort.id,
                        Map.of("image", existing.id, "label", entry.label().toString()));
                message = "already stored as image " + existing.id + "; label " + entry.label() + " added";
            } else if (entry.label() != null && member.label != null && member.label.intValue() != entry.label()) {
                message = "already stored as image " + existing.id + " with label " + member.label
                        + "; the label " + entry.label() + " given here was not applied";
                LOG.warnf("ingest job %d: %s: %s", jobId, entry.reference(), message);
            } else {
                message = "already stored as image " + existing.id;
            }
            recordItem(jobId, entry.reference(), "duplicate", existing.sha256, existing.id, message);
            return Outcome.DUPLICATE;
        });
    }

    private Outcome quarantineEntry(FolderLayout.Entry entry, long jobId, String reason, byte[] content,
            ContentStore quarantine, String actor) {
        String sha256 = content == null ? null : ContentStore.sha256(content);
        String keptPath = null;
        if (content != null && content.length > 0) {
            try {
                keptPath = Workspace.root().relativize(quarantine.put(sha256, content)).toString();
            } catch (IOException e) {
                LOG.errorf(e, "ingest job %d: failed to keep a copy of quarantined %s", jobId, entry.reference());
            }
        }
        String sourcePath = entry.file().map(Path::toString).orElse(entry.reference());
        String finalKeptPath = keptPath;
        LOG.warnf("ingest job %d: quarantined %s: %s", jobId, sourcePath, reason);
        return QuarkusTransaction.requiringNew().call(() -> {
            QuarantineEntry quarantined = new QuarantineEntry();
            quarantined.jobId = jobId;
            quarantined.sourcePath = sourcePath;
            quarantined.reason = reason;
            quarantined.sha256 = sha256;
            quarantined.sizeBytes = content == null ? null : (long) content.length;
            quarantined.storedPath = finalKeptPath;
            quarantined.persist();
            recordItem(jobId, entry.reference(), "quarantined", sha256, null, reason);
            auditTrail.append(actor, "image.quarantined", "quarantine_entry", quarantined.id,
                    Map.of("source", sourcePath, "reason", reason));
            return Outcome.QUARANTINED;
        });
    }

    private static void recordItem(long jobId, String reference, String status, String sha256, Long imageId, String message) {
        IngestJobItem item = new IngestJobItem();
        item.jobId = jobId;
        item.sourceRef = reference;
        item.status = status;
        item.sha256 = sha256;
        item.imageId = imageId;
        item.message = message;
        item.persist();
    }
}
