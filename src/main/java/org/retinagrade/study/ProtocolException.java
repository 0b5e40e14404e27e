package org.retinagrade.study;

import java.util.List;

/** Raised when a protocol is invalid; each problem names its YAML path and line. */
public class ProtocolException extends IllegalArgumentException {

    private final List<String> problems;

    public ProtocolException(String file, List<String> problems) {
        super("invalid protocol " + file + ":\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
