package org.retinagrade;

import java.nio.file.Path;

/**
 * The folder under which RetinaGrade keeps its state: the study stores under
 * {@code studies/}, reports under {@code reports/}, run checkpoints and weights under
 * {@code runs/}, prepared images under {@code cache/}, the embedded database under
 * {@code db/} and the site key under {@code keys/}. Set by the
 * {@code retinagrade.workspace} system property or the {@code RETINAGRADE_WORKSPACE}
 * environment variable; the current directory otherwise.
 */
public final class Workspace {

    private Workspace() {
    }

    public static Path root() {
        String configured = System.getProperty("retinagrade.workspace");
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("RETINAGRADE_WORKSPACE");
        }
        if (configured == null || configured.isBlank()) {
            configured = ".";
        }
        return Path.of(configured).toAbsolutePath().normalize();
    }

    public static Path studies() {
        return root().resolve("studies");
    }

    public static Path reports() {
        return root().resolve("reports");
    }

    public static Path keys() {
        return root().resolve("keys");
    }
}
