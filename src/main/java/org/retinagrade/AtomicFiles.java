package org.retinagrade;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes whole files so that readers see either the old content or the new, never a part. */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /**
     * Writes to a temporary file in the same folder, forces it to disk and moves it over
     * {@code file}, replacing it; {@code worldReadable} gives mode 644 instead of 600.
     */
    public static void write(Path file, byte[] content, boolean worldReadable) throws IOException {
        Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(temporary,
                    java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            if (worldReadable) {
                Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
            }
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory(file.toAbsolutePath().getParent());
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Forces a folder's entries to disk, so that a rename in it survives a power loss (Linux). */
    public static void syncDirectory(Path folder) {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(folder,
                java.nio.file.StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot open folders for syncing; the rename itself has happened.
        }
    }
}
