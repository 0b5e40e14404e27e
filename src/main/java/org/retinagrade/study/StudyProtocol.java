package org.retinagrade.study;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * A validated study protocol: its exact text and SHA-256, its parsed content, the file it
 * came from and the data folder it runs on (from the protocol, or from {@code --data}).
 */
public record StudyProtocol(String name, String text, String sha256, JsonNode content, Path file, Path dataFolder,
        boolean dataGiven) {

    /** The command line that runs this protocol on this data, as a user would type it. */
    public java.util.List<String> arguments() {
        return dataGiven ? java.util.List.of("run", file.toString(), "--data", dataFolder.toString())
                : java.util.List.of("run", file.toString());
    }

    /** Returns the value at a JSON pointer such as {@code /training/epochs}, or the missing node. */
    public JsonNode at(String pointer) {
        return content.at(pointer);
    }

    public int intAt(String pointer, int fallback) {
        JsonNode node = at(pointer);
        return node.isMissingNode() || node.isNull() ? fallback : node.asInt();
    }

    public long longAt(String pointer, long fallback) {
        JsonNode node = at(pointer);
        return node.isMissingNode() || node.isNull() ? fallback : node.asLong();
    }

    public double doubleAt(String pointer, double fallback) {
        JsonNode node = at(pointer);
        return node.isMissingNode() || node.isNull() ? fallback : node.asDouble();
    }

    public boolean booleanAt(String pointer, boolean fallback) {
        JsonNode node = at(pointer);
        return node.isMissingNode() || node.isNull() ? fallback : node.asBoolean();
    }

    public String textAt(String pointer, String fallback) {
        JsonNode node = at(pointer);
        return node.isMissingNode() || node.isNull() ? fallback : node.asText();
    }
}
