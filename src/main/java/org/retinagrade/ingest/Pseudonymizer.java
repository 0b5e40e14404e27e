package org.retinagrade.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Replaces patient identifiers with keyed pseudonyms: the first 32 hex digits of
 * HMAC-SHA-256(site key, namespace + ":" + identifier). The site key is a random 256-bit
 * key kept in a file outside the database, so the database alone cannot reverse or
 * recompute a pseudonym. Thread-safe.
 */
public final class Pseudonymizer {

    private final byte[] key;

    public Pseudonymizer(byte[] key) {
        if (key.length < 32) {
            throw new IllegalArgumentException("site key of " + key.length + " bytes is too short: expected at least 32");
        }
        this.key = key.clone();
    }

    /** Loads the site key from the file, creating a new random key (mode 600) when it does not exist. */
    public static Pseudonymizer fromKeyFile(Path keyFile) throws IOException {
        if (!Files.exists(keyFile)) {
            Files.createDirectories(keyFile.getParent());
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            try {
                Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(keyFile, HexFormat.of().formatHex(fresh) + "\n");
            } catch (FileAlreadyExistsException e) {
                // Another process created it first; read that one.
            }
        }
        String hex = Files.readString(keyFile, StandardCharsets.US_ASCII).trim();
        try {
            return new Pseudonymizer(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IOException("invalid site key in " + keyFile + ": expected 64 hex digits", e);
        }
    }

    /** Returns the pseudonym of an identifier within a namespace (for example a source folder or issuer). */
    public String pseudonym(String namespace, String identifier) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] digest = mac.doFinal((namespace + ":" + identifier).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }
}
