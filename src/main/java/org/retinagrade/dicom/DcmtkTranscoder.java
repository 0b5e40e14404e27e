package org.retinagrade.dicom;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Decompresses the encodings that no Java decoder here reads with dcmtk's command-line tools:
 * JPEG-LS (lossless and near-lossless) with {@code dcmdjpls}, and JPEG Extended with 12-bit
 * samples with {@code dcmdjpeg}. PixelMed reads only 8-bit JPEG Extended, and no JPEG-LS
 * decoder for Java is packaged here. The tool writes an Explicit VR Little Endian file that
 * {@link DicomDecoder} then reads like any uncompressed file. Where the tool changes colour
 * (dcmdjpeg turns YCbCr into RGB), it also rewrites the Photometric Interpretation, so colour is
 * still converted exactly once.
 *
 * <p>The tool runs as a child process with the decoder's time limit and is killed when the limit
 * passes or the decoding thread is interrupted. A crash of the codec therefore ends as a
 * {@link DicomDecodeException} and never takes the JVM down.
 */
final class DcmtkTranscoder {

    private static final String JPEG_EXTENDED = "1.2.840.10008.1.2.4.51";
    private static final int MAX_MESSAGE_CHARS = 300;

    private DcmtkTranscoder() {
    }

    /** Returns the dcmtk tool that decompresses this encoding, or null when a Java decoder reads it. */
    static String toolFor(String transferSyntax, int bitsStored) {
        return switch (transferSyntax) {
            case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81" -> "dcmdjpls";
            case JPEG_EXTENDED -> bitsStored > 8 ? "dcmdjpeg" : null;
            default -> null;
        };
    }

    /** Returns the tool's path in the folders of {@code searchPath} (the PATH when null), or null when it is not there. */
    static Path locate(String tool, String searchPath) {
        String path = searchPath != null ? searchPath : System.getenv("PATH");
        for (String folder : (path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(File.pathSeparator)) {
            if (folder.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(folder, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * Decompresses {@code in} into {@code out} with the given tool, or throws with the tool's own
     * last message when it fails, runs past {@code timeout}, or the thread is interrupted.
     */
    static void transcode(Path tool, Path in, Path out, Duration timeout) throws DicomDecodeException, IOException {
        Path log = out.resolveSibling(out.getFileName() + ".log");
        String name = tool.getFileName().toString();
        Process process = new ProcessBuilder(List.of(tool.toString(), in.toAbsolutePath().toString(), out.toAbsolutePath().toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new DicomDecodeException(name + " did not finish decompressing within " + timeout.toSeconds()
                        + " s and was stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DicomDecodeException(name + " was stopped before it finished decompressing");
        } finally {
            process.destroyForcibly();
        }
        if (process.exitValue() != 0 || !Files.isRegularFile(out)) {
            throw new DicomDecodeException(name + " could not decompress the pixel data (exit status " + process.exitValue()
                    + "): " + lastMessage(log));
        }
    }

    /** Returns the last line the tool printed, shortened; its full output is only useful with it. */
    private static String lastMessage(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1).stream().map(String::strip)
                .filter(line -> !line.isEmpty()).toList();
        if (lines.isEmpty()) {
            return "no message";
        }
        String last = lines.get(lines.size() - 1);
        return last.length() <= MAX_MESSAGE_CHARS ? last : last.substring(0, MAX_MESSAGE_CHARS) + "...";
    }
}
