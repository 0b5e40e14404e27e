package org.retinagrade.imaging;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.opencv.core.CvType;
import org.opencv.core.Mat;

/**
 * Caches prepared images per image SHA-256 and {@link PreprocessConfig#key()}, so that an
 * epoch does not decode and crop the JPEGs again. Two levels: raw RGB bytes on disk under
 * {@code <root>/<config key>/<sha[0:2]>/<sha>.rgb} (written to a temporary name and moved
 * into place), and a least-recently-used copy in memory up to a byte budget. Ungradable
 * images are not cached. Thread-safe.
 */
public final class PreparedImageCache {

    private final Path root;
    private final long memoryBudgetBytes;
    private final LinkedHashMap<String, byte[]> memory = new LinkedHashMap<>(256, 0.75f, true);
    private long memoryBytes;

    /** @param memoryBudgetBytes bytes of prepared images kept in memory; 0 keeps none */
    public PreparedImageCache(Path root, long memoryBudgetBytes) {
        if (memoryBudgetBytes < 0) {
            throw new IllegalArgumentException("invalid memory budget " + memoryBudgetBytes + ": expected 0 or more bytes");
        }
        this.root = root;
        this.memoryBudgetBytes = memoryBudgetBytes;
    }

    /** Returns the cached image as a new 8-bit RGB Mat, or empty when it is not cached. */
    public Optional<Mat> get(String sha256, PreprocessConfig config) throws IOException {
        String key = config.key() + "/" + sha256;
        byte[] pixels;
        synchronized (this) {
            pixels = memory.get(key);
        }
        if (pixels == null) {
            Path file = pathOf(sha256, config);
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            pixels = Files.readAllBytes(file);
            int expected = config.resolution() * config.resolution() * 3;
            if (pixels.length != expected) {
                throw new IOException("cached image " + file + " has " + pixels.length + " bytes, expected " + expected
                        + "; delete the file to rebuild it");
            }
            remember(key, pixels);
        }
        OpenCv.load();
        Mat rgb = new Mat(config.resolution(), config.resolution(), CvType.CV_8UC3);
        rgb.put(0, 0, pixels);
        return Optional.of(rgb);
    }

    /** Stores an 8-bit RGB image of the configured resolution. */
    public void put(String sha256, PreprocessConfig config, Mat rgb) throws IOException {
        if (rgb.rows() != config.resolution() || rgb.cols() != config.resolution() || rgb.type() != CvType.CV_8UC3) {
            throw new IllegalArgumentException("image of " + rgb.cols() + "x" + rgb.rows() + " type " + rgb.type()
                    + " does not match the configured " + config.resolution() + " px 8-bit RGB");
        }
        byte[] pixels = new byte[config.resolution() * config.resolution() * 3];
        rgb.get(0, 0, pixels);
        Path file = pathOf(sha256, config);
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            Path temporary = Files.createTempFile(file.getParent(), ".incoming-", ".tmp");
            try {
                Files.write(temporary, pixels);
                try {
                    Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temporary);
            }
        }
        remember(config.key() + "/" + sha256, pixels);
    }

    public Path pathOf(String sha256, PreprocessConfig config) {
        return root.resolve(config.key()).resolve(sha256.substring(0, 2)).resolve(sha256 + ".rgb");
    }

    private synchronized void remember(String key, byte[] pixels) {
        if (pixels.length > memoryBudgetBytes || memory.containsKey(key)) {
            return;
        }
        memory.put(key, pixels);
        memoryBytes += pixels.length;
        var iterator = memory.entrySet().iterator();
        while (memoryBytes > memoryBudgetBytes && iterator.hasNext()) {
            Map.Entry<String, byte[]> eldest = iterator.next();
            memoryBytes -= eldest.getValue().length;
            iterator.remove();
        }
    }
}
