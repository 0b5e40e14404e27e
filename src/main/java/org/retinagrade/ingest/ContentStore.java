package org.retinagrade.ingest;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A content-addressed file store: bytes with SHA-256 {@code abcdef...} live at
 * {@code <root>/ab/cdef...}. Writes go to a temporary file in the same folder, are forced
 * to disk and then moved into place atomically, so a crash never leaves a partial object
 * under its final name. An object that already exists is never rewritten. Thread-safe.
 */
public final class ContentStore {

    private final Path root;

    public ContentStore(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Returns where the object with this SHA-256 (64 lowercase hex digits) lives. */
    public Path pathOf(String sha256) {
        if (sha256.length() != 64) {
            throw new IllegalArgumentException("invalid SHA-256 '" + sha256 + "': expected 64 hex digits");
        }
        return root.resolve(sha256.substring(0, 2)).resolve(sha256.substring(2));
    }

    /** Stores the bytes under their SHA-256 and returns the object's path; existing objects are kept. */
    public Path put(String sha256, byte[] content) throws IOException {
        Path target = pathOf(sha256);
        if (Files.exists(target)) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path temporary = Files.createTempFile(target.getParent(), ".incoming-", ".tmp");
        try {
            // One write and one fsync: Files.write with SYNC would make every 8 KiB chunk synchronous.
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(temporary,
                    StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target);
            }
            org.retinagrade.AtomicFiles.syncDirectory(target.getParent());
        } catch (FileAlreadyExistsException e) {
            // Another writer stored the same content first; its object is identical.
        } finally {
            Files.deleteIfExists(temporary);
        }
        return target;
    }

    /**
     * Deletes temporary files (".incoming-*.tmp") older than the given age. A process killed
     * while writing leaves them behind, but a younger one may belong to a writer still running.
     * Returns the number of files removed.
     */
    public int removeStaleTemporaries(java.time.Duration olderThan) throws IOException {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        java.time.Instant cutoff = java.time.Instant.now().minus(olderThan);
        int removed = 0;
        try (java.util.stream.Stream<Path> walk = Files.walk(root, 2)) {
            for (Path file : walk.filter(p -> p.getFileName().toString().startsWith(".incoming-")).toList()) {
                if (Files.getLastModifiedTime(file).toInstant().isBefore(cutoff) && Files.deleteIfExists(file)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /** Returns the lowercase hex SHA-256 of the bytes. */
    public static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
