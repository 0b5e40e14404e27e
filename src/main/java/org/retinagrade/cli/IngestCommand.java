package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.retinagrade.ingest.FolderIngestService;
import org.retinagrade.ingest.IngestJob;
import org.retinagrade.ingest.ImageProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code retinagrade ingest ...}: bring images into the store and a cohort. */
@Command(name = "ingest", description = "Ingest images into the store and a cohort.",
        subcommands = IngestCommand.Folder.class, mixinStandardHelpOptions = true)
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
}
