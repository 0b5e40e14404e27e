package org.retinagrade.pacs;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Network settings for talking to one PACS. They contain our AE title and listening port (for
 * C-MOVE and pushes), the peer's host, port and AE title, and the network timeout in seconds.
 * Defaults come from the configuration keys {@code retinagrade.pacs.*} (see the README), and
 * the CLI options override them.
 */
public record PacsSettings(String aeTitle, int listenPort, String host, int port, String calledAeTitle, int timeoutSeconds) {

    public PacsSettings {
        aeTitle = checkAeTitle(aeTitle, "our AE title");
        calledAeTitle = checkAeTitle(calledAeTitle, "the PACS AE title");
        if (listenPort < 0 || listenPort > 65535) {
            throw new IllegalArgumentException("invalid listening port " + listenPort + ": expected 0-65535 (0 picks a free port)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("invalid PACS port " + port + ": expected 1-65535");
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("no PACS host: set --host or retinagrade.pacs.host");
        }
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
            throw new IllegalArgumentException("invalid timeout " + timeoutSeconds + " s: expected 1-3600 seconds");
        }
    }

    /** Reads the settings from the configuration. */
    public static PacsSettings fromConfig() {
        Config config = ConfigProvider.getConfig();
        return new PacsSettings(
                config.getOptionalValue("retinagrade.pacs.ae-title", String.class).orElse("RETINAGRADE"),
                config.getOptionalValue("retinagrade.pacs.listen-port", Integer.class).orElse(11112),
                config.getOptionalValue("retinagrade.pacs.host", String.class).orElse("127.0.0.1"),
                config.getOptionalValue("retinagrade.pacs.port", Integer.class).orElse(4242),
                config.getOptionalValue("retinagrade.pacs.called-ae-title", String.class).orElse("ORTHANC"),
                config.getOptionalValue("retinagrade.pacs.timeout", Integer.class).orElse(30));
    }

    /** Returns a copy with the non-null values replaced. */
    public PacsSettings with(String aeTitle, Integer listenPort, String host, Integer port, String calledAeTitle, Integer timeout) {
        return new PacsSettings(aeTitle != null ? aeTitle : this.aeTitle, listenPort != null ? listenPort : this.listenPort,
                host != null ? host : this.host, port != null ? port : this.port,
                calledAeTitle != null ? calledAeTitle : this.calledAeTitle, timeout != null ? timeout : this.timeoutSeconds);
    }

    /** Returns the peer as AE@HOST:PORT, for example "ORTHANC@127.0.0.1:4242". */
    public String peer() {
        return calledAeTitle + "@" + host + ":" + port;
    }

    private static String checkAeTitle(String value, String role) {
        if (value == null || value.isBlank() || value.length() > 16 || !value.matches("[\\x20-\\x7E&&[^\\\\]]+")) {
            throw new IllegalArgumentException("invalid AE title '" + value + "' for " + role
                    + ": use 1-16 printable ASCII characters without backslash");
        }
        return value.strip();
    }
}
