package org.retinagrade.ingest;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the images of a folder and their labels. Recognised layouts, tried in this order:
 * <ol>
 *   <li>a Kaggle label CSV ({@code image,level}, where {@code image} is the file name with or
 *       without extension), given explicitly or found as a {@code *.csv} file in the folder,
 *       with the images in {@code images/}, {@code train/} or the folder itself;</li>
 *   <li>ImageFolder with splits: {@code DIR/<split>/<grade>/*}, split one of train, val,
 *       validation, test;</li>
 *   <li>ImageFolder: {@code DIR/<grade>/*} with grades 0-4;</li>
 *   <li>a flat folder of unlabelled images.</li>
 * </ol>
 * Hidden files are skipped; every other regular file is an entry, so that a stray non-image
 * file is quarantined rather than silently ignored.
 */
public final class FolderLayout {

    private static final List<String> IMAGE_EXTENSIONS = List.of(".jpeg", ".jpg", ".png", ".tif", ".tiff", ".bmp");
    private static final Map<String, String> SPLIT_NAMES = Map.of(
            "train", "train", "val", "validation", "validation", "validation", "test", "test");
    private static final Pattern GRADE_FOLDER = Pattern.compile("[0-4]");
    private static final Pattern EYEPACS_NAME = Pattern.compile("(?i)^(.+?)[_-](left|right)$");

    private FolderLayout() {
    }

    /**
     * One input: a file, or a CSV row whose file is missing ({@code file} absent, with the
     * problem in {@code problem}).
     */
    public record Entry(String reference, Optional<Path> file, Integer label, String split, String problem) {
    }

    /** The layout found and its entries, in a stable order. */
    public record Scan(String layout, List<Entry> entries, List<String> notes) {
    }

    /** Laterality ("L"/"R") and patient key parsed from an EyePACS-style name such as {@code 10_left}. */
    public record NameParts(String patientKey, String laterality) {
    }

    public static Scan scan(Path folder, Path labelsCsv) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("image folder not found: " + folder + " (expected a directory)");
        }
        if (labelsCsv != null) {
            return scanCsv(folder, labelsCsv);
        }
        Optional<Path> csv = findLabelCsv(folder);
        if (csv.isPresent()) {
            return scanCsv(folder, csv.get());
        }
        List<Path> children = listChildren(folder);
        boolean hasSplits = children.stream().anyMatch(p -> Files.isDirectory(p) && SPLIT_NAMES.containsKey(lower(p)));
        boolean hasGrades = children.stream().anyMatch(p -> Files.isDirectory(p) && GRADE_FOLDER.matcher(lower(p)).matches());
        if (hasSplits) {
            List<Entry> entries = new ArrayList<>();
            for (Path splitFolder : children) {
                if (Files.isDirectory(splitFolder) && SPLIT_NAMES.containsKey(lower(splitFolder))) {
                    entries.addAll(scanGradeFolders(folder, splitFolder, SPLIT_NAMES.get(lower(splitFolder))));
                }
            }
            return new Scan("ImageFolder with splits", entries, List.of());
        }
        if (hasGrades) {
            return new Scan("ImageFolder", scanGradeFolders(folder, folder, null), List.of());
        }
        List<Entry> entries = new ArrayList<>();
        for (Path file : listFiles(folder)) {
            entries.add(new Entry(folder.relativize(file).toString(), Optional.of(file), null, null, null));
        }
        return new Scan("unlabelled images", entries, List.of());
    }

    private static List<Entry> scanGradeFolders(Path base, Path parent, String split) throws IOException {
        List<Entry> entries = new ArrayList<>();
        for (Path gradeFolder : listChildren(parent)) {
            if (!Files.isDirectory(gradeFolder)) {
                continue;
            }
            if (!GRADE_FOLDER.matcher(lower(gradeFolder)).matches()) {
                if (parent.equals(base) && SPLIT_NAMES.containsKey(lower(gradeFolder))) {
                    continue;
                }
                for (Path file : listFiles(gradeFolder)) {
                    entries.add(new Entry(base.relativize(file).toString(), Optional.of(file), null, split,
                            "file is in folder '" + gradeFolder.getFileName() + "', which is not a DR grade 0-4"));
                }
                continue;
            }
            int grade = Integer.parseInt(gradeFolder.getFileName().toString());
            for (Path file : listFiles(gradeFolder)) {
                entries.add(new Entry(base.relativize(file).toString(), Optional.of(file), grade, split, null));
            }
        }
        return entries;
    }

    private static Scan scanCsv(Path folder, Path csv) throws IOException {
        if (!Files.isRegularFile(csv)) {
            throw new IllegalArgumentException("label CSV not found: " + csv);
        }
        Path imageFolder = folder;
        for (String candidate : List.of("images", "train")) {
            if (Files.isDirectory(folder.resolve(candidate))) {
                imageFolder = folder.resolve(candidate);
                break;
            }
        }

        List<Entry> entries = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Set<Path> listed = new HashSet<>();
        try (BufferedReader reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            String header = reader.readLine();
            List<String> columns = header == null ? List.of() : splitCsvLine(stripBom(header));
            int imageColumn = columns.indexOf("image");
            int levelColumn = columns.indexOf("level");
            if (imageColumn < 0 || levelColumn < 0) {
                throw new IllegalArgumentException("invalid label CSV " + csv + ": header " + columns
                        + " lacks the columns 'image' and 'level' (Kaggle layout: image,level)");
            }
            String line;
            int lineNumber = 1;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                List<String> cells = splitCsvLine(line);
                String reference = csv.getFileName() + ":" + lineNumber;
                if (cells.size() <= Math.max(imageColumn, levelColumn)) {
                    entries.add(new Entry(reference, Optional.empty(), null, null,
                            "line " + lineNumber + " of " + csv + " has " + cells.size() + " cells, expected " + columns.size()));
                    continue;
                }
                String name = cells.get(imageColumn).trim();
                String levelText = cells.get(levelColumn).trim();
                Integer level = parseGrade(levelText);
                Optional<Path> file = resolveImage(imageFolder, name);
                file.ifPresent(listed::add);
                if (level == null) {
                    entries.add(new Entry(file.map(p -> folder.relativize(p).toString()).orElse(reference), file, null, null,
                            "invalid level '" + levelText + "' on line " + lineNumber + " of " + csv + ": expected a grade 0-4"));
                } else if (file.isEmpty()) {
                    entries.add(new Entry(reference, Optional.empty(), level, null,
                            "image '" + name + "' listed on line " + lineNumber + " of " + csv + " was not found in " + imageFolder));
                } else {
                    entries.add(new Entry(folder.relativize(file.get()).toString(), file, level, null, null));
                }
            }
        }
        List<Path> unlisted = listFiles(imageFolder).stream().filter(p -> !listed.contains(p))
                .filter(FolderLayout::isImageName).toList();
        if (!unlisted.isEmpty()) {
            String examples = String.join(", ", unlisted.stream().limit(3).map(p -> p.getFileName().toString()).toList());
            notes.add(unlisted.size() == 1
                    ? "1 image file in " + imageFolder + " is not listed in " + csv.getFileName() + " and was skipped: " + examples
                    : unlisted.size() + " image files in " + imageFolder + " are not listed in " + csv.getFileName()
                            + " and were skipped, for example " + examples);
        }
        return new Scan("Kaggle label CSV " + csv.getFileName(), entries, notes);
    }

    /** Parses laterality and patient key from names such as {@code 10_left.jpeg}; empty when the name has neither. */
    public static Optional<NameParts> parseEyePacsName(String fileName) {
        String stem = fileName;
        int dot = stem.lastIndexOf('.');
        if (dot > 0) {
            stem = stem.substring(0, dot);
        }
        Matcher matcher = EYEPACS_NAME.matcher(stem);
        if (!matcher.matches()) {
            return Optional.empty();
        }
        String side = matcher.group(2).toLowerCase(Locale.ROOT);
        return Optional.of(new NameParts(matcher.group(1), side.equals("left") ? "L" : "R"));
    }

    private static Optional<Path> findLabelCsv(Path folder) throws IOException {
        Path kaggle = folder.resolve("trainLabels.csv");
        if (Files.isRegularFile(kaggle)) {
            return Optional.of(kaggle);
        }
        for (Path child : listChildren(folder)) {
            if (Files.isRegularFile(child) && lower(child).endsWith(".csv")) {
                try (BufferedReader reader = Files.newBufferedReader(child, StandardCharsets.UTF_8)) {
                    String header = reader.readLine();
                    if (header != null) {
                        List<String> columns = splitCsvLine(stripBom(header));
                        if (columns.contains("image") && columns.contains("level")) {
                            return Optional.of(child);
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> resolveImage(Path imageFolder, String name) {
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..")) {
            return Optional.empty();
        }
        Path direct = imageFolder.resolve(name);
        if (Files.isRegularFile(direct)) {
            return Optional.of(direct);
        }
        for (String extension : IMAGE_EXTENSIONS) {
            for (String candidate : List.of(name + extension, name + extension.toUpperCase(Locale.ROOT))) {
                Path path = imageFolder.resolve(candidate);
                if (Files.isRegularFile(path)) {
                    return Optional.of(path);
                }
            }
        }
        return Optional.empty();
    }

    private static Integer parseGrade(String text) {
        try {
            int grade = Integer.parseInt(text);
            return grade >= 0 && grade <= 4 ? grade : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static boolean isImageName(Path path) {
        String name = lower(path);
        return IMAGE_EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    private static List<Path> listChildren(Path folder) throws IOException {
        try (Stream<Path> children = Files.list(folder)) {
            return children.filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted(Comparator.comparing(Path::toString)).toList();
        }
    }

    private static List<Path> listFiles(Path folder) throws IOException {
        return listChildren(folder).stream().filter(Files::isRegularFile).toList();
    }

    private static String lower(Path path) {
        return path.getFileName().toString().toLowerCase(Locale.ROOT);
    }

    private static String stripBom(String line) {
        return line.startsWith("\uFEFF") ? line.substring(1) : line;
    }

    /** Splits one CSV line on commas, honouring double-quoted cells with doubled quotes inside. */
    static List<String> splitCsvLine(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                cells.add(cell.toString().trim());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString().trim());
        return cells;
    }
}
