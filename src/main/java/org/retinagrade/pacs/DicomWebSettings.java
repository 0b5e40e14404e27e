package org.retinagrade.pacs;

import java.net.URI;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Settings for a DICOMweb server (QIDO-RS and WADO-RS): the service root URL, an optional HTTP
 * Basic user and password, and the timeout in seconds. Defaults come from the configuration keys
 * {@code retinagrade.pacs.dicomweb.*}. The password has no CLI option, so that it stays out of
 * shell history and process lists: set it with the environment variable
 * {@code RETINAGRADE_PACS_DICOMWEB_PASSWORD} or the configuration key.
 */
public record DicomWebSettings(String url, String user, String password, int timeoutSeconds) {

    public DicomWebSettings {
        url = checkUrl(url);
        if (user != null && user.isBlank()) {
            user = null;
        }
        if (user != null && (password == null || password.isEmpty())) {
            throw new IllegalArgumentException("DICOMweb user '" + user + "' has no password: set RETINAGRADE_PACS_DICOMWEB_PASSWORD"
                    + " (or retinagrade.pacs.dicomweb.password)");
        }
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
            throw new IllegalArgumentException("invalid timeout " + timeoutSeconds + " s: expected 1-3600 seconds");
        }
    }

    /** Reads the settings from the configuration. */
    public static DicomWebSettings fromConfig() {
        Config config = ConfigProvider.getConfig();
        return new DicomWebSettings(
                config.getOptionalValue("retinagrade.pacs.dicomweb.url", String.class).orElse("http://127.0.0.1:8042/dicom-web"),
                config.getOptionalValue("retinagrade.pacs.dicomweb.user", String.class).orElse(null),
                config.getOptionalValue("retinagrade.pacs.dicomweb.password", String.class).orElse(null),
                config.getOptionalValue("retinagrade.pacs.timeout", Integer.class).orElse(30));
    }

    /**
     * Returns a copy with the non-null values replaced; the password stays. A URL other than
     * the configured one keeps the configured user only when a user is given with it, so that
     * configured credentials do not go to another server unasked.
     */
    public DicomWebSettings with(String url, String user, Integer timeout) {
        String newUrl = url != null ? checkUrl(url) : this.url;
        String newUser = user != null ? user : newUrl.equals(this.url) ? this.user : null;
        return new DicomWebSettings(newUrl, newUser, newUser == null ? null : password, timeout != null ? timeout : timeoutSeconds);
    }

    /** Returns the settings without the password, for logs and messages. */
    @Override
    public String toString() {
        return "DicomWebSettings[url=" + url + ", user=" + user + ", password=" + (password == null ? "none" : "(set)")
                + ", timeoutSeconds=" + timeoutSeconds + "]";
    }

    private static String checkUrl(String value) {
        String hint = ": expected the DICOMweb service root, for example http://127.0.0.1:8042/dicom-web";
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("no DICOMweb URL: set --dicomweb-url or retinagrade.pacs.dicomweb.url");
        }
        if (value.contains("@")) {
            // The part before '@' may be a password, so the URL is not echoed at all.
            throw new IllegalArgumentException("invalid DICOMweb URL: it contains '@', which marks a user and password; put the"
                    + " user in --dicomweb-user and the password in RETINAGRADE_PACS_DICOMWEB_PASSWORD, not in the URL");
        }
        String trimmed = value.strip();
        URI uri;
        try {
            uri = URI.create(trimmed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid DICOMweb URL '" + trimmed + "'" + hint);
        }
        if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null
                || uri.getQuery() != null || uri.getFragment() != null) {
            throw new IllegalArgumentException("invalid DICOMweb URL '" + trimmed + "'" + hint);
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            throw new IllegalArgumentException("invalid DICOMweb URL '" + trimmed + "': port " + uri.getPort()
                    + " is out of range 1-65535");
        }
        String text = uri.toString();
        return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
    }
}
