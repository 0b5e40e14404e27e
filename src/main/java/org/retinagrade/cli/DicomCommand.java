package org.retinagrade.cli;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.opencv.core.Mat;
import org.retinagrade.dicom.OphthalmicPhotography;
import org.retinagrade.imaging.Preprocessor;
import org.retinagrade.ingest.FolderLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code retinagrade dicom ...} commands, which write DICOM objects from fundus images. */
@Command(name = "dicom", description = "Write DICOM objects from fundus images.", mixinStandardHelpOptions = true,
        subcommands = DicomCommand.FromImage.class)
public class DicomCommand {

    @Command(name = "from-image", mixinStandardHelpOptions = true,
            description = {
                "Wrap fundus JPEG/PNG images as DICOM Ophthalmic Photography 8 Bit Image Storage objects"
                        + " (uncompressed RGB, Explicit VR Little Endian), for example to push a phantom or folder cohort"
                        + " to a PACS.",
                "The folder is read like `ingest folder` reads it (Kaggle CSV, ImageFolder or flat). Patient and laterality"
                        + " come from EyePACS-style names (10_left.jpeg); other names become their own patient with"
                        + " laterality U. Each patient gets one study, each eye one series. UIDs are derived from"
                        + " --uid-key and the names, so the same input gives the same objects.",
                "The objects carry no grade. Grades found in the folder go to DIR_OUT/labels.csv"
                        + " (sop_instance_uid,image,level), which `ingest dicom --labels` reads.",
                "Output: DIR_OUT/<patient>/<image>.dcm. Exit status: 0 when every image was written, 3 when some"
                        + " were skipped, 2 for invalid arguments."
            })
    static class FromImage implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "DIR", description = "Folder of fundus images.")
        Path folder;

        @Option(names = "--out", required = true, paramLabel = "DIR_OUT", description = "Folder to write the DICOM files into.")
        Path out;

        @Option(names = "--labels", paramLabel = "CSV", description = "Label CSV in the Kaggle layout (image,level).")
        Path labels;

        @Option(names = "--study-date", defaultValue = "2026-01-01", paramLabel = "DATE",
                description = "Study date, YYYY-MM-DD or YYYYMMDD (default: ${DEFAULT-VALUE}).")
        String studyDateText;

        @Option(names = "--patient-id", paramLabel = "ID",
                description = "Put every image into one study of this patient (one series per eye), instead of a study per"
                        + " patient named in the file names.")
        String patientId;

        @Option(names = "--uid-key", defaultValue = "retinagrade",
                description = "Key mixed into the derived UIDs. Change it to get new UIDs for the same images (default: ${DEFAULT-VALUE}).")
        String uidKey;

        @Override
        public Integer call() throws Exception {
            if (!Files.isDirectory(folder)) {
                System.err.println("retinagrade dicom from-image: " + folder + " is not a folder; give a folder of images");
                return 2;
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                System.err.println("retinagrade dicom from-image: --out " + out + " is an existing file; choose a folder");
                return 2;
            }

            FolderLayout.Scan scan;
            try {
                scan = FolderLayout.scan(folder, labels);
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade dicom from-image: " + e.getMessage());
                return 2;
            }

            if (scan.entries().isEmpty()) {
                System.err.println("retinagrade dicom from-image: no images found in " + folder + "; nothing was written");
                return 2;
            }
            LocalDate studyDate;
            try {
                studyDate = parseDate(studyDateText);
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade dicom from-image: " + e.getMessage());
                return 2;
            }

            Files.createDirectories(out);
            List<String> csv = new ArrayList<>(List.of("sop_instance_uid,image,level"));
            int written = 0;
            int skipped = 0;
            int instance = 0;
            for (FolderLayout.Entry entry : scan.entries()) {
                if (entry.file().isEmpty() || entry.problem() != null) {
                    System.err.println("skipped " + entry.reference() + ": " + (entry.problem() == null ? "no file" : entry.problem()));
                    skipped++;
                    continue;
                }
                Path file = entry.file().get();
                String name = file.getFileName().toString();
                String stem = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
                Optional<FolderLayout.NameParts> parts = FolderLayout.parseEyePacsName(name);
                String patient = patientId != null ? patientId : parts.map(FolderLayout.NameParts::patientKey).orElse(stem);
                String laterality = parts.map(FolderLayout.NameParts::laterality).orElse("U");

                Mat rgb;
                try {
                    rgb = Preprocessor.decode(Files.readAllBytes(file));
                } catch (IllegalArgumentException e) {
                    System.err.println("skipped " + file + ": " + e.getMessage());
                    skipped++;
                    continue;
                }

                instance++;
                AttributeList list;
                try {
                    boolean lossy = name.toLowerCase(java.util.Locale.ROOT).matches(".*\\.(jpe?g)$");
                    list = OphthalmicPhotography.build(rgb, new OphthalmicPhotography.Identity(patient, "PHANTOM^" + patient,
                            uidKey + ":" + patient, studyDate, "A" + Math.abs((uidKey + patient).hashCode() % 1_000_000),
                            laterality, uidKey + ":" + patient + ":" + laterality, uidKey + ":" + stem, instance), lossy);
                } finally {
                    rgb.release();
                }

                Path target = out.resolve(safe(patient)).resolve(safe(stem) + ".dcm");
                Files.createDirectories(target.getParent());
                Path temporary = Files.createTempFile(target.getParent(), ".writing-", ".tmp");
                try (OutputStream stream = new BufferedOutputStream(Files.newOutputStream(temporary))) {
                    OphthalmicPhotography.write(list, stream, "RETINAGRADE");
                }
                Files.move(temporary, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);

                String uid = com.pixelmed.dicom.Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPInstanceUID);
                csv.add(uid + "," + stem + "," + (entry.label() == null ? "" : entry.label()));
                written++;
            }

            Files.write(out.resolve("labels.csv"), csv);
            System.out.printf("wrote %d Ophthalmic Photography objects to %s (%d skipped); grades in %s%n", written, out,
                    skipped, out.resolve("labels.csv"));
            return skipped > 0 ? 3 : 0;
        }

        /** Parses YYYY-MM-DD or YYYYMMDD. */
        static LocalDate parseDate(String text) {
            try {
                return text.matches("\\d{8}") ? LocalDate.parse(text, java.time.format.DateTimeFormatter.BASIC_ISO_DATE)
                        : LocalDate.parse(text);
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalArgumentException("invalid --study-date '" + text + "': expected a date as YYYY-MM-DD or YYYYMMDD");
            }
        }

        private static String safe(String name) {
            return name.replaceAll("[^A-Za-z0-9._-]", "_");
        }
    }
}
