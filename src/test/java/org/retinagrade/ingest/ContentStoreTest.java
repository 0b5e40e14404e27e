package org.retinagrade.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ContentStoreTest {

    private static final Path ROOT = Path.of("target", "content-store-test").toAbsolutePath();

    @Test
    void putStoresBytesUnderTheirHash() throws Exception {
        ContentStore store = new ContentStore(ROOT.resolve("put"));
        byte[] content = new byte[100_000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31);
        }
        String sha256 = ContentStore.sha256(content);

        Path stored = store.put(sha256, content);

        assertEquals(store.pathOf(sha256), stored);
        assertArrayEquals(content, Files.readAllBytes(stored));
    }

    @Test
    void staleTemporariesRemovedYoungKept() throws Exception {
        Path folder = Files.createDirectories(ROOT.resolve("stale").resolve("ab"));
        Path old = folder.resolve(".incoming-1.tmp");
        Path young = folder.resolve(".incoming-2.tmp");
        Files.writeString(old, "partial");
        Files.writeString(young, "partial");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofHours(2))));

        int removed = new ContentStore(ROOT.resolve("stale")).removeStaleTemporaries(Duration.ofHours(1));

        assertEquals(1, removed);
        assertFalse(Files.exists(old), "a temporary file two hours old was kept");
        assertTrue(Files.exists(young), "a temporary file of a running writer was removed");
    }
}
