package org.retinagrade.ingest;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Checks that bytes hold a decodable raster image (JPEG, PNG, TIFF, BMP or GIF) within a
 * pixel budget. The header is read first, so an image that claims too many pixels is
 * rejected before any pixel buffer is allocated; the image is then decoded in full, and a
 * decoder warning (for example a truncated JPEG) counts as a failure. Thread-safe.
 */
public final class ImageProbe {

    /** Default pixel budget: 50 megapixels, above every fundus camera in common use. */
    public static final long DEFAULT_MAX_PIXELS = 50_000_000L;

    private final long maxPixels;

    public ImageProbe(long maxPixels) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("invalid pixel budget " + maxPixels + ": expected a positive number of pixels");
        }
        this.maxPixels = maxPixels;
    }

    /** Size and type of an image that decoded cleanly. */
    public record Result(int width, int height, String mediaType, BufferedImage image) {
    }

    /** Raised when bytes are not a usable image; the message is the quarantine reason. */
    public static final class InvalidImageException extends Exception {
        public InvalidImageException(String message) {
            super(message);
        }
    }

    public Result probe(byte[] content) throws InvalidImageException {
        if (content.length == 0) {
            throw new InvalidImageException("empty file (0 bytes)");
        }
        try (ImageInputStream input = ImageIO.createImageInputStream(new ByteArrayInputStream(content))) {
            String format = formatOf(content);
            // Readers are chosen by magic number rather than ImageIO.getImageReaders(input), which queries
            // every registered reader, including PixelMed's JPEG lossless reader that prints on each call.
            Iterator<ImageReader> readers = format == null ? java.util.Collections.emptyIterator()
                    : ImageIO.getImageReadersByFormatName(format);
            if (!readers.hasNext()) {
                throw new InvalidImageException("not a recognised image format (expected JPEG, PNG, TIFF, BMP or GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(input, true, true);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if (width <= 0 || height <= 0) {
                    throw new InvalidImageException("invalid image size " + width + "x" + height);
                }
                if ((long) width * height > maxPixels) {
                    throw new InvalidImageException(String.format(Locale.ROOT,
                            "image of %dx%d = %d pixels exceeds the pixel budget of %d; raise --max-pixels if the image is genuine",
                            width, height, (long) width * height, maxPixels));
                }

                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new InvalidImageException("image data is damaged: " + String.join("; ", warnings));
                }
                return new Result(width, height, mediaTypeOf(reader.getFormatName()), image);
            } finally {
                reader.dispose();
            }
        } catch (IIOException e) {
            throw new InvalidImageException("image cannot be decoded: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            throw new InvalidImageException("image cannot be decoded: " + e);
        }
    }

    /** Returns the ImageIO format name for the file's magic number, or null for an unsupported format. */
    static String formatOf(byte[] content) {
        if (startsWith(content, 0xFF, 0xD8, 0xFF)) {
            return "jpeg";
        }
        if (startsWith(content, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return "png";
        }
        if (startsWith(content, 'I', 'I', 42, 0) || startsWith(content, 'M', 'M', 0, 42)) {
            return "tiff";
        }
        if (startsWith(content, 'B', 'M')) {
            return "bmp";
        }
        if (startsWith(content, 'G', 'I', 'F', '8')) {
            return "gif";
        }
        return null;
    }

    private static boolean startsWith(byte[] content, int... magic) {
        if (content.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((content[i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static String mediaTypeOf(String formatName) {
        String format = formatName.toLowerCase(Locale.ROOT);
        return switch (format) {
            case "jpeg", "jpg" -> "image/jpeg";
            case "png" -> "image/png";
            case "tif", "tiff" -> "image/tiff";
            case "bmp" -> "image/bmp";
            case "gif" -> "image/gif";
            default -> "image/" + format;
        };
    }
}
