package org.retinagrade.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.retinagrade.Workspace;

/** Code and library versions recorded with every run. */
public final class CodeVersion {

    private CodeVersion() {
    }

    /** Returns the git commit of the workspace (with "-dirty" when it has changes), or "unknown" outside a git checkout. */
    public static String describe() {
        try {
            Process process = new ProcessBuilder("git", "-C", Workspace.root().toString(), "describe", "--always", "--dirty",
                    "--abbrev=40").redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (process.waitFor(5, TimeUnit.SECONDS) && process.exitValue() == 0 && !output.isEmpty()) {
                return output;
            }
        } catch (IOException e) {
            return "unknown (git not available: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "unknown";
    }

    public static Map<String, String> libraries() {
        Map<String, String> versions = new LinkedHashMap<>();
        versions.put("java", System.getProperty("java.version"));
        versions.put("djl", ai.djl.engine.Engine.class.getPackage().getImplementationVersion() == null ? "0.36.0"
                : ai.djl.engine.Engine.class.getPackage().getImplementationVersion());
        versions.put("libtorch", ai.djl.engine.Engine.getEngine("PyTorch").getVersion());
        org.retinagrade.imaging.OpenCv.load();
        versions.put("opencv", org.opencv.core.Core.VERSION);
        versions.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        versions.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
        return versions;
    }
}
