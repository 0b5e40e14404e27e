package org.retinagrade.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.retinagrade.evaluation.TtaTransform;
import org.retinagrade.imaging.augment.AugmentationPipeline;
import org.retinagrade.ingest.ContentStore;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads and validates a study protocol before anything is written: YAML syntax, the JSON
 * Schema {@code protocols/protocol.schema.json} (unknown keys, types, ranges, required
 * keys), then the checks a schema cannot express (split ratios summing to 1, augmentation
 * parameters, the data folder existing). Every problem is reported with its YAML path and
 * line. Thread-safe.
 */
public final class ProtocolLoader {

    private static final ObjectMapper YAML = new YAMLMapper();
    private static final JsonSchema SCHEMA = loadSchema();

    private ProtocolLoader() {
    }

    private static JsonSchema loadSchema() {
        try (InputStream in = ProtocolLoader.class.getResourceAsStream("/protocols/protocol.schema.json")) {
            if (in == null) {
                throw new IllegalStateException("protocols/protocol.schema.json is missing from the application");
            }
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new IllegalStateException("protocols/protocol.schema.json cannot be read: " + e.getMessage(), e);
        }
    }

    /** Loads a protocol file; {@code dataOverride}, when not null, replaces {@code cohort.source.path}. */
    public static StudyProtocol load(Path file, Path dataOverride) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ProtocolException(file.toString(), List.of("file not found"));
        }
        return parse(Files.readString(file, StandardCharsets.UTF_8), file, dataOverride);
    }

    /** Validates protocol text read from {@code file} (used for messages and relative paths). */
    public static StudyProtocol parse(String text, Path file, Path dataOverride) {
        return parse(text, file, dataOverride, true);
    }

    /**
     * Validates the stored text of a protocol that already ran; its data folder, label CSV
     * and pretrained file are not checked again, because the run no longer reads them.
     */
    public static StudyProtocol parseStored(String text, Path file, Path dataFolder) {
        return parse(text, file, dataFolder, false);
    }

    private static StudyProtocol parse(String text, Path file, Path dataOverride, boolean checkFiles) {
        Map<String, Integer> lines = new HashMap<>();
        JsonNode content;
        try {
            org.yaml.snakeyaml.LoaderOptions options = new org.yaml.snakeyaml.LoaderOptions();
            options.setAllowDuplicateKeys(false);
            Node root = new Yaml(options).compose(new StringReader(text));
            if (root == null) {
                throw new ProtocolException(file.toString(), List.of("(line 1): the file is empty"));
            }
            collectLines(root, "", lines);
            content = YAML.readTree(text);
        } catch (DuplicateKey e) {
            throw new ProtocolException(file.toString(), List.of("YAML syntax (line " + e.line + "): duplicate key '" + e.key
                    + "'; each key may appear once in a mapping"));
        } catch (org.yaml.snakeyaml.error.MarkedYAMLException e) {
            throw new ProtocolException(file.toString(), List.of("YAML syntax (line " + (e.getProblemMark().getLine() + 1)
                    + "): " + e.getProblem()));
        } catch (IOException e) {
            throw new ProtocolException(file.toString(), List.of("invalid YAML: " + e.getMessage()));
        }

        List<String> problems = new ArrayList<>();
        Set<ValidationMessage> messages = SCHEMA.validate(content);
        for (ValidationMessage message : messages) {
            String pointer = pointer(message.getInstanceLocation());
            if (message.getProperty() != null && "additionalProperties".equals(message.getType())) {
                pointer = pointer + "/" + message.getProperty();
            }
            problems.add(describe(pointer, lines) + ": " + explain(message));
        }
        if (problems.isEmpty()) {
            semanticChecks(content, file, dataOverride, lines, problems, checkFiles);
        }
        if (!problems.isEmpty()) {
            problems.sort(String::compareTo);
            throw new ProtocolException(file.toString(), problems);
        }
        Path data = dataFolder(content, file, dataOverride);
        return new StudyProtocol(content.get("name").asText(), text, ContentStore.sha256(text.getBytes(StandardCharsets.UTF_8)),
                content, file.toAbsolutePath(), data, dataOverride != null);
    }

    private static void semanticChecks(JsonNode content, Path file, Path dataOverride, Map<String, Integer> lines,
            List<String> problems, boolean checkFiles) {
        JsonNode split = content.get("split");
        double sum = split.get("train").asDouble() + split.get("validation").asDouble() + split.get("test").asDouble();
        if (Math.abs(sum - 1) > 1e-9) {
            problems.add(describe("/split", lines) + ": train, validation and test add up to " + sum + ", expected 1");
        }
        JsonNode augmentation = content.get("augmentation");
        if (augmentation != null) {
            int resolution = content.at("/preprocessing/resolution").asInt(224);
            for (int i = 0; i < augmentation.size(); i++) {
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> step = new ObjectMapper().convertValue(augmentation.get(i), Map.class);
                    AugmentationPipeline.fromSpec(List.of(step), resolution, "augmentation");
                } catch (IllegalArgumentException e) {
                    String reason = e.getMessage().replaceFirst("^augmentation\\[0\\](: | \\([^)]*\\): )", "");
                    problems.add(describe("/augmentation/" + i, lines) + ": " + reason);
                }
            }
        }
        JsonNode tta = content.at("/evaluation/tta");
        for (int i = 0; i < tta.size(); i++) {
            try {
                TtaTransform.parse(tta.get(i).asText());
            } catch (IllegalArgumentException e) {
                problems.add(describe("/evaluation/tta/" + i, lines) + ": " + e.getMessage());
            }
        }
        if (!checkFiles) {
            return;
        }
        String kind = content.at("/cohort/source/kind").asText("");
        boolean pacs = kind.equals("pacs-query");
        if (!pacs && !content.at("/cohort/source/pacs").isMissingNode()) {
            problems.add(describe("/cohort/source/pacs", lines) + ": applies only to kind pacs-query, not " + kind);
        }
        if (!pacs && !content.at("/cohort/source/query").isMissingNode()) {
            problems.add(describe("/cohort/source/query", lines) + ": applies only to kind pacs-query, not " + kind);
        }
        if (pacs) {
            if (content.at("/cohort/source/query").isMissingNode()) {
                problems.add(describe("/cohort/source", lines) + ": a pacs-query source needs query keys"
                        + " (patient_id, study_date, modality, accession_number or study_instance_uids)");
            }
            if (dataOverride != null) {
                problems.add("--data: a pacs-query source reads from the PACS, not from a folder; leave --data out");
            }
        }
        Path data = dataFolder(content, file, dataOverride);
        if (pacs) {
            // Nothing to check on disk: the PACS is asked when the run starts.
        } else if (data == null) {
            problems.add(describe("/cohort/source", lines) + ": no data folder: set cohort.source.path or pass --data DIR");
        } else if (!Files.isDirectory(data)) {
            problems.add(describe(dataOverride != null ? "--data" : "/cohort/source/path", lines) + ": data folder "
                    + data + " not found");
        }
        JsonNode labels = content.at("/cohort/source/labels");
        if (!labels.isMissingNode() && !Files.isRegularFile(resolve(file, labels.asText()))) {
            problems.add(describe("/cohort/source/labels", lines) + ": label CSV " + resolve(file, labels.asText()) + " not found");
        }
        JsonNode pretrained = content.at("/model/pretrained");
        if (!pretrained.isMissingNode() && !pretrained.isNull() && !Files.isRegularFile(resolve(file, pretrained.asText()))) {
            problems.add(describe("/model/pretrained", lines) + ": pretrained weights " + resolve(file, pretrained.asText())
                    + " not found");
        }
    }

    static Path dataFolder(JsonNode content, Path file, Path dataOverride) {
        if (dataOverride != null) {
            return dataOverride.toAbsolutePath().normalize();
        }
        JsonNode path = content.at("/cohort/source/path");
        return path.isMissingNode() ? null : resolve(file, path.asText());
    }

    /** Resolves a path written in a protocol relative to the protocol's folder. */
    public static Path resolve(Path protocolFile, String path) {
        Path parent = protocolFile.toAbsolutePath().getParent();
        return parent.resolve(path).normalize();
    }

    private static String pointer(JsonNodePath path) {
        StringBuilder pointer = new StringBuilder();
        for (int i = 0; i < path.getNameCount(); i++) {
            pointer.append('/').append(path.getElement(i));
        }
        return pointer.toString();
    }

    /** "training.epochs (line 12)": the YAML path in dotted form and the line of the nearest key that exists. */
    private static String describe(String pointer, Map<String, Integer> lines) {
        if (pointer.startsWith("--")) {
            return pointer;
        }
        String dotted = pointer.isEmpty() ? "(top level)" : pointer.substring(1).replaceAll("/(\\d+)(?=/|$)", "[$1]").replace('/', '.');
        String probe = pointer;
        while (!lines.containsKey(probe) && !probe.isEmpty()) {
            probe = probe.substring(0, probe.lastIndexOf('/'));
        }
        Integer line = lines.getOrDefault(probe, 1);
        return dotted + " (line " + line + ")";
    }

    /** Rewords the validator's message in the project's usual form where it has one. */
    private static String explain(ValidationMessage message) {
        if ("additionalProperties".equals(message.getType())) {
            return "unknown key '" + message.getProperty() + "'; see protocols/protocol.schema.json for the keys allowed here";
        }
        if ("enum".equals(message.getType()) || "const".equals(message.getType())) {
            return "invalid value " + message.getInstanceNode() + ": expected one of " + message.getSchemaNode();
        }
        if ("required".equals(message.getType())) {
            return "missing key '" + message.getProperty() + "'";
        }
        if ("type".equals(message.getType()) && message.getInstanceNode() != null && message.getInstanceNode().isNumber()
                && message.getMessage().endsWith("string expected")) {
            // YAML reads an unquoted date or number as a number, where the protocol wants text.
            return "the number " + message.getInstanceNode() + " must be text here: quote it, for example '"
                    + message.getInstanceNode() + "'";
        }
        String text = message.getMessage();
        int colon = text.indexOf(": ");
        return colon >= 0 && text.startsWith("$") ? text.substring(colon + 2) : text;
    }

    /** A key that appears twice in one mapping. */
    private static final class DuplicateKey extends RuntimeException {
        final String key;
        final int line;

        DuplicateKey(String key, int line) {
            super("duplicate key " + key, null, false, false);
            this.key = key;
            this.line = line;
        }
    }

    private static void collectLines(Node node, String pointer, Map<String, Integer> lines) {
        lines.putIfAbsent(pointer, node.getStartMark().getLine() + 1);
        if (node instanceof MappingNode mapping) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (NodeTuple tuple : mapping.getValue()) {
                if (tuple.getKeyNode() instanceof ScalarNode key) {
                    if (!seen.add(key.getValue())) {
                        // SnakeYAML's composer keeps both entries, and the parsed tree would keep only the last one.
                        throw new DuplicateKey(key.getValue(), key.getStartMark().getLine() + 1);
                    }
                    String child = pointer + "/" + key.getValue();
                    lines.put(child, key.getStartMark().getLine() + 1);
                    collectLines(tuple.getValueNode(), child, lines);
                }
            }
        } else if (node instanceof SequenceNode sequence) {
            List<Node> items = sequence.getValue();
            for (int i = 0; i < items.size(); i++) {
                String child = pointer + "/" + i;
                lines.put(child, items.get(i).getStartMark().getLine() + 1);
                collectLines(items.get(i), child, lines);
            }
        }
    }
}
