package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.retinagrade.dicom.DicomDecoder;
import org.retinagrade.ingest.DicomIngestService;
import org.retinagrade.ingest.FolderIngestService;
import org.retinagrade.ingest.IngestJob;
import org.retinagrade.ingest.ImageProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code retinagrade ingest ...}: bring images into the store and a cohort. */
@Command(name = "ingest", description = "Ingest images into the store and a cohort.",
        subcommands = {IngestCommand.Folder.class, IngestCommand.Dicom.class, IngestCommand.Resume.class, IngestCommand.Jobs.class}, mixinStandardHelpOptions = true)
public class IngestCommand {

    @Command(name = "folder", mixinStandardHelpOptions = true,
            description = {
                "Ingest a folder of fundus photographs into a cohort.",
                "Layouts: a Kaggle label CSV (image,level) in the folder or given with --labels, with the images in"
                        + " images/, train/ or the folder itself; ImageFolder DIR/<split>/<grade>/* or DIR/<grade>/*"
                        + " (grades 0-4; splits train, val, validation, test); or a flat folder of unlabelled images.",
                "Re-running adds nothing twice. A file that cannot be used (not decodable, over the pixel budget, an"
                        + " invalid grade, a CSV row without its file) is quarantined with its reason and the rest of the"
                        + " folder is still ingested. Labels belong to the cohort: the same image can carry another label"
                        + " in another cohort, but a label stored in this cohort is never replaced. Laterality and patient"
                        + " are read from EyePACS-style names such as 10_left.jpeg.",
                "Exit status: 0 when every file was stored or already present, 3 when some were quarantined, 2 for"
                        + " invalid arguments, 1 for an unexpected failure."
            })
    static class Folder implements Callable<Integer>, DatabaseCommand {

        @Parameters(index = "0", paramLabel = "DIR", description = "Folder to ingest.")
        Path folder;

        @Option(names = "--cohort", required = true, description = "Cohort to add the images to; created when new.")
        String cohort;

        @Option(names = "--study", defaultValue = "default",
                description = "Study whose store under studies/<study>/ receives the files (default: ${DEFAULT-VALUE}).")
        String study;

        @Option(names = "--labels", paramLabel = "CSV", description = "Label CSV in the Kaggle layout (image,level).")
        Path labels;

        @Option(names = "--max-pixels", defaultValue = "" + ImageProbe.DEFAULT_MAX_PIXELS,
                description = "Pixel budget per image (width x height); larger images are quarantined (default: ${DEFAULT-VALUE}).")
        long maxPixels;

        @Option(names = "--patient-namespace",
                description = "Namespace of the patient identifiers in file names, hashed into the pseudonym"
                        + " (default: the folder's name).")
        String patientNamespace;

        @Option(names = "--actor", defaultValue = "${sys:user.name}", description = "Name recorded in the audit trail (default: the OS user).")
        String actor;

        @Inject
        FolderIngestService service;

        @Override
        public Integer call() throws Exception {
            try {
                IngestJob job = service.ingest(new FolderIngestService.Options(folder, labels, cohort, study, maxPixels,
                        patientNamespace, actor), System.err::println);
                System.out.println(job.summary());
                return job.quarantined > 0 ? 3 : 0;
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade ingest folder: " + e.getMessage());
                return 2;
            }
        }
    }

    @Command(name = "dicom", mixinStandardHelpOptions = true,
            description = {
                "Ingest a folder of DICOM files (searched recursively) into a cohort.",
                "Each instance is decoded (every common transfer syntax; see the README), de-identified per DICOM PS3.15"
                        + " Annex E (Basic Profile: patient identifiers become a keyed pseudonym, UIDs are remapped unless"
                        + " --retain-uids) and stored; each frame becomes one image of the cohort. Files that cannot be"
                        + " decoded are quarantined with a reason that names the fault (for example the transfer syntax).",
                "DICOM objects carry no DR grade: give --labels with sop_instance_uid,image,level (as written by"
                        + " `dicom from-image`) or image,level columns.",
                "An interrupted job continues with `ingest resume JOB`. Exit status: 0 when every file was stored or"
                        + " already present, 3 when some were quarantined, 2 for invalid arguments."
            })
    static class Dicom implements Callable<Integer>, DatabaseCommand {

        @Parameters(index = "0", paramLabel = "DIR", description = "Folder of DICOM files.")
        Path folder;

        @Mixin
        DicomTarget target;

        @Option(names = "--max-pixels", defaultValue = "" + DicomDecoder.DEFAULT_MAX_PIXELS,
                description = "Pixel budget per file over all frames; larger files are quarantined (default: ${DEFAULT-VALUE}).")
        long maxPixels;

        @Inject
        DicomIngestService service;

        @Override
        public Integer call() throws Exception {
            try {
                IngestJob job = service.ingestFolder(folder, target.options(maxPixels), System.err::println);
                System.out.println(job.summary());
                return job.quarantined > 0 ? 3 : 0;
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade ingest dicom: " + e.getMessage());
                return 2;
            }
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = {
                "Continue an ingest job that stopped (process killed, PACS association lost).",
                "A DICOM folder job reads its folder again and skips files it already finished; a PACS retrieve job asks"
                        + " the PACS again for the instances still missing (by SOP Instance UID), so nothing is fetched or"
                        + " stored twice. A DICOMweb job reads its password from RETINAGRADE_PACS_DICOMWEB_PASSWORD again,"
                        + " because the job does not record it. Exit status: 0 when the job completed, 3 when items are still missing or"
                        + " quarantined, 2 for an unknown job."
            })
    static class Resume implements Callable<Integer>, DatabaseCommand {

        @Parameters(index = "0", paramLabel = "JOB", description = "Ingest job id (see `ingest jobs`).")
        long jobId;

        @Option(names = "--actor", defaultValue = "${sys:user.name}", description = "Name recorded in the audit trail (default: the OS user).")
        String actor;

        @Option(names = "--listen-port", paramLabel = "PORT", description = "For a PACS C-MOVE job: receive on this port"
                + " instead of the job's own (the PACS must have our AE title registered at it).")
        Integer listenPort;

        @Inject
        DicomIngestService dicomService;

        @Inject
        org.retinagrade.pacs.PacsRetrieveService pacsService;

        @Override
        public Integer call() throws Exception {
            IngestJob job = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() -> IngestJob.<IngestJob>findById(jobId));
            if (job == null) {
                System.err.println("retinagrade ingest resume: no ingest job " + jobId + "; list jobs with `retinagrade ingest jobs`");
                return 2;
            }
            try {
                IngestJob finished = switch (job.kind) {
                    case "dicom-folder" -> dicomService.resumeFolder(jobId, dicomService.optionsOf(job, actor), System.err::println);
                    case "pacs" -> pacsService.resume(jobId, actor, listenPort, System.err::println);
                    default -> throw new IllegalArgumentException("ingest job " + jobId + " is a '" + job.kind
                            + "' job; re-run `ingest folder` instead, which skips what is stored");
                };
                System.out.println(finished.summary());
                return finished.status.equals("completed") && finished.quarantined == 0 ? 0 : 3;
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade ingest resume: " + e.getMessage());
                return 2;
            }
        }
    }

    @Command(name = "jobs", mixinStandardHelpOptions = true,
            description = {"List ingest jobs, newest last, with their cohort and counts.",
                "With a JOB id, list that job's items instead: each file or instance with its status and message"
                        + " (why it was quarantined, which stored image it duplicates)."})
    static class Jobs implements Callable<Integer>, DatabaseCommand {

        @Parameters(index = "0", arity = "0..1", paramLabel = "JOB", description = "Ingest job whose items to list.")
        Long jobId;

        @Option(names = "--limit", defaultValue = "20", description = "Number of jobs or items to show (default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--status", description = "Only items with this status: pending, stored, duplicate or quarantined.")
        String status;

        @Override
        public Integer call() {
            if (jobId != null) {
                return items();
            }
            java.util.List<Object[]> rows = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() ->
                    IngestJob.getEntityManager().createQuery("select j, c.name from IngestJob j left join"
                            + " org.retinagrade.study.Cohort c on c.id = j.cohortId order by j.id desc", Object[].class)
                            .setMaxResults(Math.max(1, limit)).getResultList());
            System.out.printf("%-6s %-12s %-11s %-20s %6s %6s %6s %6s  %s%n", "job", "kind", "status", "cohort", "items",
                    "stored", "dup", "quar", "source");
            for (int i = rows.size() - 1; i >= 0; i--) {
                IngestJob job = (IngestJob) rows.get(i)[0];
                String cohort = rows.get(i)[1] == null ? "-" : (String) rows.get(i)[1];
                System.out.printf("%-6d %-12s %-11s %-20s %6d %6d %6d %6d  %s%n", job.id, job.kind, job.status, cohort,
                        job.readCount, job.stored, job.duplicates, job.quarantined, job.source);
            }
            return 0;
        }

        private int items() {
            if (status != null && !java.util.Set.of("pending", "stored", "duplicate", "quarantined").contains(status)) {
                System.err.println("retinagrade ingest jobs: invalid --status '" + status
                        + "': use pending, stored, duplicate or quarantined");
                return 2;
            }
            IngestJob job = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() -> IngestJob.<IngestJob>findById(jobId));
            if (job == null) {
                System.err.println("retinagrade ingest jobs: no ingest job " + jobId + "; list jobs with `retinagrade ingest jobs`");
                return 2;
            }
            java.util.List<org.retinagrade.ingest.IngestJobItem> items = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                    .call(() -> (status == null
                            ? org.retinagrade.ingest.IngestJobItem.<org.retinagrade.ingest.IngestJobItem>find("jobId = ?1 order by id", jobId)
                            : org.retinagrade.ingest.IngestJobItem.<org.retinagrade.ingest.IngestJobItem>find(
                                    "jobId = ?1 and status = ?2 order by id", jobId, status))
                            .page(0, Math.max(1, limit)).list());
            System.out.println(job.summary());
            System.out.printf("%-11s %-8s  %-60s %s%n", "status", "image", "source", "message");
            for (org.retinagrade.ingest.IngestJobItem item : items) {
                System.out.printf("%-11s %-8s  %-60s %s%n", item.status, item.imageId == null ? "-" : item.imageId,
                        item.sourceRef, item.message == null ? "" : item.message);
            }
            long total = io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().call(() -> status == null
                    ? org.retinagrade.ingest.IngestJobItem.count("jobId = ?1", jobId)
                    : org.retinagrade.ingest.IngestJobItem.count("jobId = ?1 and status = ?2", jobId, status));
            if (total > items.size()) {
                System.err.printf("%d of %d items shown; --limit %d shows them all%n", items.size(), total, total);
            }
            return 0;
        }
    }
}
