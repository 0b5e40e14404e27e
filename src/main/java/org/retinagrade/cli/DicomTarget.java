package org.retinagrade.cli;

import java.nio.file.Path;
import org.retinagrade.dicom.DicomDecoder;
import org.retinagrade.ingest.DicomIngestService;
import picocli.CommandLine.Option;

/** Options shared by the commands that store DICOM instances: target cohort and study, labels, UIDs, actor. */
class DicomTarget {

    @Option(names = "--cohort", required = true, description = "Cohort to add the images to. It is created when it does not exist.")
    String cohort;

    @Option(names = "--study", defaultValue = "default",
            description = "Study whose store under studies/<study>/ receives the files (default: ${DEFAULT-VALUE}).")
    String study;

    @Option(names = "--labels", paramLabel = "CSV", description = "Grades: sop_instance_uid,image,level or image,level.")
    Path labels;

    @Option(names = "--retain-uids", description = "Keep the original Study, Series and SOP Instance UIDs (PS3.15 Retain UIDs Option).")
    boolean retainUids;

    @Option(names = "--actor", defaultValue = "${sys:user.name}", description = "Name recorded in the audit trail (default: the OS user).")
    String actor;

    /** Returns the ingest options for these settings and the default pixel budget. */
    DicomIngestService.Options options() {
        return options(DicomDecoder.DEFAULT_MAX_PIXELS);
    }

    /** Returns the ingest options for these settings and a pixel budget per file. */
    DicomIngestService.Options options(long maxPixels) {
        return new DicomIngestService.Options(cohort, study, retainUids, labels, maxPixels, actor);
    }
}
