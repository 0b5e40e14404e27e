package org.retinagrade.dicom;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Binary PGM (P5) or PPM (P6) image as dcmtk's dcmj2pnm and OpenJPEG's opj_decompress write
 * it: grey or RGB samples of one or, for a maximum value above 255, two bytes (big endian).
 */
final class Pnm {

    final int width;
    final int height;
    final int channels;
    final int maxValue;
    /** The samples as stored in the file: one byte each, or two (big endian) when maxValue is above 255. */
    final byte[] samples;

    private Pnm(int width, int height, int channels, int maxValue, byte[] samples) {
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.maxValue = maxValue;
        this.samples = samples;
    }

    static Pnm read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int[] position = {0};
        String magic = token(bytes, position, file);
        int channels = switch (magic) {
            case "P5" -> 1;
            case "P6" -> 3;
            default -> throw new IOException(file + ": unsupported PNM type " + magic + ", expected P5 or P6");
        };
        int width = number(bytes, position, file);
        int height = number(bytes, position, file);
        int max = number(bytes, position, file);
        if (max < 1 || max > 65535) {
            throw new IOException(file + ": invalid maximum sample value " + max);
        }
        long length = (long) width * height * channels * (max > 255 ? 2 : 1);
        int start = position[0] + 1;
        if (start + length > bytes.length) {
            throw new IOException(file + ": " + width + "x" + height + " image needs " + length + " bytes of samples but has "
                    + Math.max(0, bytes.length - start));
        }
        return new Pnm(width, height, channels, max, Arrays.copyOfRange(bytes, start, (int) (start + length)));
    }

    /** Copies two-byte samples into {@code target} from {@code offset} on, as 16-bit values. */
    void copyWords(short[] target, int offset) {
        int count = width * height * channels;
        if (maxValue > 255) {
            for (int i = 0; i < count; i++) {
                target[offset + i] = (short) (((samples[2 * i] & 0xff) << 8) | (samples[2 * i + 1] & 0xff));
            }
        } else {
            for (int i = 0; i < count; i++) {
                target[offset + i] = (short) (samples[i] & 0xff);
            }
        }
    }

    /** Returns the samples of an 8-bit image from DicomDecoder in the same order (RGB or grey). */
    static byte[] samplesOf(BufferedImage image) {
        byte[] data = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        if (image.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            return data;
        }
        byte[] rgb = new byte[data.length];
        for (int i = 0; i < data.length; i += 3) {
            rgb[i] = data[i + 2];
            rgb[i + 1] = data[i + 1];
            rgb[i + 2] = data[i];
        }
        return rgb;
    }

    private static int number(byte[] bytes, int[] position, Path file) throws IOException {
        String token = token(bytes, position, file);
        try {
            return Integer.parseInt(token);
        } catch (NumberFormatException e) {
            throw new IOException(file + ": invalid PNM header value '" + token + "'");
        }
    }

    private static String token(byte[] bytes, int[] position, Path file) throws IOException {
        int i = position[0];
        while (i < bytes.length && (Character.isWhitespace(bytes[i]) || bytes[i] == '#')) {
            if (bytes[i] == '#') {
                while (i < bytes.length && bytes[i] != '\n') {
                    i++;
                }
            }
            i++;
        }
        int start = i;
        while (i < bytes.length && !Character.isWhitespace(bytes[i])) {
            i++;
        }
        if (start >= bytes.length || i >= bytes.length) {
            throw new IOException(file + ": PNM header ends early");
        }
        position[0] = i;
        return new String(bytes, start, i - start, StandardCharsets.US_ASCII);
    }
}
