package org.retinagrade.dicom;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Binary 8-bit PGM (P5) or PPM (P6) image as written by dcmtk's dcmj2pnm, with its RGB or grey samples. */
final class Pnm {

    final int width;
    final int height;
    final int channels;
    final byte[] samples;

    private Pnm(int width, int height, int channels, byte[] samples) {
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.samples = samples;
    }

    static Pnm read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int[] position = {0};
        String magic = token(bytes, position);
        int channels = switch (magic) {
            case "P5" -> 1;
            case "P6" -> 3;
            default -> throw new IOException(file + ": unsupported PNM type " + magic);
        };
        int width = Integer.parseInt(token(bytes, position));
        int height = Integer.parseInt(token(bytes, position));
        int max = Integer.parseInt(token(bytes, position));
        if (max != 255) {
            throw new IOException(file + ": expected 8-bit samples, found maximum " + max);
        }
        int start = position[0] + 1;
        byte[] samples = java.util.Arrays.copyOfRange(bytes, start, start + width * height * channels);
        return new Pnm(width, height, channels, samples);
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

    private static String token(byte[] bytes, int[] position) {
        int i = position[0];
        while (Character.isWhitespace(bytes[i]) || bytes[i] == '#') {
            if (bytes[i] == '#') {
                while (bytes[i] != '\n') {
                    i++;
                }
            }
            i++;
        }
        int start = i;
        while (!Character.isWhitespace(bytes[i])) {
            i++;
        }
        position[0] = i;
        return new String(bytes, start, i - start, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
