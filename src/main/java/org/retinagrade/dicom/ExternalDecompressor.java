package org.retinagrade.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.CodeStringAttribute;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.UnsignedShortAttribute;
import java.io.BufferedInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Decompresses the encodings that no Java decoder here reads, with command-line tools of the
 * field, into an Explicit VR Little Endian file that {@link DicomDecoder} then reads like any
 * uncompressed file:
 * <ul>
 * <li>JPEG-LS (lossless and near-lossless) with dcmtk's {@code dcmdjpls};</li>
 * <li>JPEG Extended with 12-bit samples with dcmtk's {@code dcmdjpeg} (PixelMed reads only 8-bit);</li>
 * <li>High-Throughput JPEG 2000 with OpenJPEG's {@code opj_decompress}, one frame at a time:
 * the frames are taken from the encapsulated Pixel Data and the decoded samples put back as
 * native Pixel Data.</li>
 * </ul>
 * Where the decoder changes colour (dcmdjpeg turns YCbCr into RGB, OpenJPEG reverses the
 * YBR_ICT and YBR_RCT component transforms), the Photometric Interpretation is rewritten with
 * it, so colour is still converted exactly once.
 *
 * <p>Each tool runs as a child process with the decoder's time limit and is killed when the
 * limit passes or the decoding thread is interrupted. A crash of a codec therefore ends as a
 * {@link DicomDecodeException} and never takes the JVM down.
 */
final class ExternalDecompressor {

    static final String OPENJPEG = "opj_decompress";
    private static final String JPEG_EXTENDED = "1.2.840.10008.1.2.4.51";
    private static final int MAX_MESSAGE_CHARS = 300;

    private ExternalDecompressor() {
    }

    /** Returns the tool that decompresses this encoding, or null when a Java decoder reads it. */
    static String toolFor(String transferSyntax, int bitsStored) {
        return switch (transferSyntax) {
            case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81" -> "dcmdjpls";
            case JPEG_EXTENDED -> bitsStored > 8 ? "dcmdjpeg" : null;
            case "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203" -> OPENJPEG;
            default -> null;
        };
    }

    /** Returns the Debian package that provides the tool, for messages. */
    static String packageOf(String tool) {
        return tool.equals(OPENJPEG) ? "OpenJPEG's tools (Debian package libopenjp2-tools)" : "dcmtk";
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
     * Decompresses {@code in} into the uncompressed Part 10 file {@code out} with the given tool,
     * or throws with the tool's own last message when it fails, runs past {@code timeout}, or
     * the thread is interrupted. Scratch files go into the folder of {@code out}.
     */
    static void transcode(Path tool, Path in, Path out, Duration timeout) throws DicomDecodeException, IOException, DicomException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (tool.getFileName().toString().equals(OPENJPEG)) {
            decompressFrames(tool, in, out, deadline, timeout);
        } else {
            run(List.of(tool.toString(), in.toAbsolutePath().toString(), out.toAbsolutePath().toString()), out, deadline, timeout);
        }
    }

    /** Decodes each encapsulated frame with OpenJPEG and writes the data set again with native Pixel Data. */
    private static void decompressFrames(Path tool, Path in, Path out, long deadline, Duration timeout)
            throws DicomDecodeException, IOException, DicomException {
        AttributeList list = new AttributeList();
        long pixelDataOffset;
        try (DicomInputStream stream = new DicomInputStream(new BufferedInputStream(Files.newInputStream(in)))) {
            pixelDataOffset = list.read(stream, TagFromName.PixelData);
        }
        int rows = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Rows, 0);
        int columns = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Columns, 0);
        int samples = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.SamplesPerPixel, 1);
        int bitsAllocated = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.BitsAllocated, 8);
        int frameCount = Math.max(1, Attribute.getSingleIntegerValueOrDefault(list, TagFromName.NumberOfFrames, 1));
        if (Attribute.getSingleIntegerValueOrDefault(list, TagFromName.PixelRepresentation, 0) != 0) {
            // OpenJPEG writes signed samples to PNM with an offset; nothing here needs them yet.
            throw new DicomDecodeException("signed samples (Pixel Representation 1) in "
                    + TransferSyntaxes.describe(Attribute.getSingleStringValueOrEmptyString(list, TagFromName.TransferSyntaxUID))
                    + " have no decoder available here");
        }
        List<byte[]> frames = encapsulatedFrames(in, pixelDataOffset, frameCount);

        int frameSamples = rows * columns * samples;
        byte[] bytes = bitsAllocated == 8 ? new byte[frameSamples * frameCount] : null;
        short[] words = bitsAllocated == 8 ? null : new short[frameSamples * frameCount];
        Path folder = out.toAbsolutePath().getParent();
        String suffix = samples == 1 ? ".pgm" : ".ppm";
        for (int i = 0; i < frameCount; i++) {
            Path codestream = folder.resolve("frame-" + (i + 1) + ".j2k");
            Path decoded = folder.resolve("frame-" + (i + 1) + suffix);
            Files.write(codestream, frames.get(i));
            run(List.of(tool.toString(), "-quiet", "-i", codestream.toString(), "-o", decoded.toString()), decoded, deadline, timeout);
            Pnm image = Pnm.read(decoded);
            if (image.width != columns || image.height != rows || image.channels != samples) {
                throw new DicomDecodeException(String.format("frame %d decodes to %dx%d with %d components where the header"
                        + " declares %dx%d with %d", i + 1, image.width, image.height, image.channels, columns, rows, samples));
            }
            if (bytes != null) {
                if (image.maxValue > 255) {
                    throw new DicomDecodeException("frame " + (i + 1) + " decodes to samples up to " + image.maxValue
                            + " where Bits Allocated is 8");
                }
                System.arraycopy(image.samples, 0, bytes, i * frameSamples, frameSamples);
            } else {
                image.copyWords(words, i * frameSamples);
            }
            Files.delete(codestream);
            Files.delete(decoded);
        }

        if (frames.stream().anyMatch(ExternalDecompressor::irreversible)) {
            // The decoded samples differ from the original ones, so the copy is marked as lossy compressed.
            Attribute lossy = new CodeStringAttribute(TagFromName.LossyImageCompression);
            lossy.addValue("01");
            list.put(lossy);
            Attribute method = list.get(TagFromName.LossyImageCompressionMethod);
            if (method == null) {
                method = new CodeStringAttribute(TagFromName.LossyImageCompressionMethod);
                list.put(method);
            }
            if (!java.util.Arrays.asList(method.getStringValues() == null ? new String[0] : method.getStringValues())
                    .contains("ISO_15444_15")) {
                method.addValue("ISO_15444_15");
            }
        }
        Attribute pixels = bytes != null ? new OtherByteAttribute(TagFromName.PixelData) : new OtherWordAttribute(TagFromName.PixelData);
        if (bytes != null) {
            pixels.setValues(bytes);
        } else {
            pixels.setValues(words);
        }
        list.put(pixels);
        if (samples == 3) {
            String photometric = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.PhotometricInterpretation).strip();
            if (photometric.equals("YBR_ICT") || photometric.equals("YBR_RCT")) {
                Attribute rgb = new CodeStringAttribute(TagFromName.PhotometricInterpretation);
                rgb.addValue("RGB");
                list.put(rgb);
            }
            Attribute planar = new UnsignedShortAttribute(TagFromName.PlanarConfiguration);
            planar.addValue(0);
            list.put(planar);
        }
        list.remove(TagFromName.FileMetaInformationGroupLength);
        list.remove(TagFromName.TransferSyntaxUID);
        FileMetaInformation.addFileMetaInformation(list, TransferSyntaxes.EXPLICIT_LITTLE, "RETINAGRADE");
        list.write(out.toFile(), TransferSyntaxes.EXPLICIT_LITTLE, true, true);
    }

    /**
     * Reads the compressed frames of the encapsulated Pixel Data that starts at {@code offset}
     * (just past its tag): the Basic Offset Table item, fragment items and the
     * sequence delimiter. Frames are split by the offset table, else one fragment per frame,
     * else at fragments that start a JPEG 2000 codestream (SOC marker FF4F).
     */
    static List<byte[]> encapsulatedFrames(Path file, long offset, int frameCount) throws IOException, DicomDecodeException {
        return encapsulatedFrames(file, offset, frameCount, TransferSyntaxes.HTJ2K);
    }

    /**
     * Reads the encapsulated Pixel Data that starts at {@code offset} (just past its tag) and
     * returns one byte array per frame. The Basic Offset Table groups the fragments into frames
     * when it has one entry per frame. Otherwise a frame starts at each codestream start: SOI
     * and a marker for the JPEG family, SOC and SIZ for JPEG 2000. RLE has one fragment per frame.
     * Throws DicomDecodeException when the frames found differ from Number of Frames or the
     * data runs past the end of the file.
     */
    static List<byte[]> encapsulatedFrames(Path file, long offset, int frameCount, String syntax)
            throws IOException, DicomDecodeException {
        try (FileChannel channel = FileChannel.open(file)) {
            long size = channel.size();
            ByteBuffer header = read(channel, offset - 4, 12, size);
            // Some writers give encapsulated Pixel Data the VR OW instead of OB, and decoders accept both.
            if (header.getShort() != (short) 0x7FE0 || header.getShort() != (short) 0x0010 || header.get() != 'O'
                    || !List.of((byte) 'B', (byte) 'W').contains(header.get()) || header.getShort() != 0 || header.getInt() != -1) {
                throw new DicomDecodeException("Pixel Data at byte " + (offset - 4) + " is not encapsulated (expected OB"
                        + " with undefined length) although the transfer syntax is compressed");
            }
            long position = offset + 8;
            List<byte[]> fragments = new ArrayList<>();
            List<Long> fragmentOffsets = new ArrayList<>();
            byte[] offsetTable = null;
            while (true) {
                ByteBuffer item = read(channel, position, 8, size);
                int group = item.getShort() & 0xffff;
                int element = item.getShort() & 0xffff;
                long length = item.getInt() & 0xffffffffL;
                if (group == 0xFFFE && element == 0xE0DD) {
                    break;
                }
                if (group != 0xFFFE || element != 0xE000) {
                    throw new DicomDecodeException(String.format("encapsulated Pixel Data has (%04X,%04X) at byte %d where an"
                            + " item or the sequence delimiter belongs", group, element, position));
                }
                if (length > size - position - 8) {
                    throw new DicomDecodeException("a Pixel Data fragment of " + length + " bytes at byte " + position
                            + " runs past the end of the file (" + size + " bytes)");
                }
                byte[] value = read(channel, position + 8, (int) length, size).array();
                if (offsetTable == null) {
                    offsetTable = value;
                } else {
                    fragmentOffsets.add(position);
                    fragments.add(value);
                }
                position += 8 + length;
            }
            if (fragments.isEmpty()) {
                throw new DicomDecodeException("encapsulated Pixel Data contains no fragments");
            }
            return splitFrames(fragments, fragmentOffsets, offsetTable, frameCount, frameStart(syntax));
        }
    }

    /** Returns the test for a fragment that starts a frame in the transfer syntax, or null when it is not known. */
    private static java.util.function.Predicate<byte[]> frameStart(String syntax) {
        if (syntax.equals(TransferSyntaxes.RLE)) {
            return fragment -> true; // PS3.5 A.4.2: each frame is one fragment
        }
        if (syntax.startsWith("1.2.840.10008.1.2.4.5") || syntax.startsWith("1.2.840.10008.1.2.4.7")
                || syntax.startsWith("1.2.840.10008.1.2.4.8")) {
            return fragment -> startsWith(fragment, 0xFF, 0xD8, 0xFF); // SOI followed by a marker
        }
        if (syntax.startsWith("1.2.840.10008.1.2.4.9") || syntax.startsWith("1.2.840.10008.1.2.4.20")) {
            return fragment -> startsWith(fragment, 0xFF, 0x4F, 0xFF, 0x51); // SOC followed by SIZ
        }
        return null;
    }

    private static boolean startsWith(byte[] fragment, int... bytes) {
        if (fragment.length < bytes.length) {
            return false;
        }
        for (int i = 0; i < bytes.length; i++) {
            if ((fragment[i] & 0xff) != bytes[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns true when a JPEG 2000 codestream uses the irreversible 9/7 wavelet: the
     * transformation byte of the COD marker segment in its main header is 0.
     */
    static boolean irreversible(byte[] codestream) {
        int position = 2; // past SOC
        while (position + 4 <= codestream.length && (codestream[position] & 0xff) == 0xFF) {
            int marker = codestream[position + 1] & 0xff;
            int length = ((codestream[position + 2] & 0xff) << 8) | (codestream[position + 3] & 0xff);
            if (marker == 0x52) {
                int transformation = position + 13; // Lcod, Scod, progression, layers (2), MCT, levels, width, height, style
                return transformation < codestream.length && codestream[transformation] == 0;
            }
            if (marker == 0x90 || length < 2) {
                return false; // first tile-part (SOT) reached without a COD segment in the main header
            }
            position += 2 + length;
        }
        return false;
    }

    private static List<byte[]> splitFrames(List<byte[]> fragments, List<Long> fragmentOffsets, byte[] offsetTable, int frameCount,
            java.util.function.Predicate<byte[]> startsFrame) throws DicomDecodeException {
        List<List<byte[]>> frames = new ArrayList<>();
        if (frameCount > 1 && offsetTable.length == 4 * frameCount) {
            ByteBuffer table = ByteBuffer.wrap(offsetTable).order(ByteOrder.LITTLE_ENDIAN);
            long first = fragmentOffsets.get(0);
            List<Long> starts = new ArrayList<>();
            for (int i = 0; i < frameCount; i++) {
                starts.add(first + (table.getInt() & 0xffffffffL));
            }
            for (int i = 0; i < fragments.size(); i++) {
                if (starts.contains(fragmentOffsets.get(i))) {
                    frames.add(new ArrayList<>());
                } else if (frames.isEmpty()) {
                    throw new DicomDecodeException("the Basic Offset Table does not point at the first fragment");
                }
                frames.get(frames.size() - 1).add(fragments.get(i));
            }
        } else if (startsFrame != null) {
            for (byte[] fragment : fragments) {
                if (frames.isEmpty() || startsFrame.test(fragment)) {
                    frames.add(new ArrayList<>());
                }
                frames.get(frames.size() - 1).add(fragment);
            }
        } else if (frameCount == 1) {
            frames.add(fragments);
        } else if (fragments.size() == frameCount) {
            fragments.forEach(fragment -> frames.add(List.of(fragment)));
        }
        if (frames.size() != frameCount) {
            throw new DicomDecodeException("encapsulated Pixel Data contains " + frames.size() + " frames where Number of Frames"
                    + " declares " + frameCount);
        }
        List<byte[]> joined = new ArrayList<>();
        for (List<byte[]> parts : frames) {
            java.io.ByteArrayOutputStream frame = new java.io.ByteArrayOutputStream();
            parts.forEach(frame::writeBytes);
            joined.add(frame.toByteArray());
        }
        return joined;
    }

    private static ByteBuffer read(FileChannel channel, long position, int length, long size)
            throws IOException, DicomDecodeException {
        if (position < 0 || position + length > size) {
            throw new DicomDecodeException("encapsulated Pixel Data ends early: " + length + " bytes needed at byte "
                    + position + " of a " + size + "-byte file");
        }
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file at byte " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }

    /** Runs one tool invocation that must write {@code product}, within the deadline. */
    private static void run(List<String> command, Path product, long deadline, Duration timeout)
            throws DicomDecodeException, IOException {
        String name = Path.of(command.get(0)).getFileName().toString();
        Path log = product.resolveSibling(product.getFileName() + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!process.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new DicomDecodeException(name + " did not finish decompressing within " + timeout.toSeconds()
                        + " s and was stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DicomDecodeException(name + " was stopped before it finished decompressing");
        } finally {
            process.destroyForcibly();
        }
        if (process.exitValue() != 0 || !Files.isRegularFile(product)) {
            throw new DicomDecodeException(name + " could not decompress the pixel data (exit status " + process.exitValue()
                    + "): " + lastMessage(log));
        }
        Files.deleteIfExists(log);
    }

    /** Returns the last line the tool printed, shortened. */
    private static String lastMessage(Path log) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1)) {
            if (!line.isBlank()) {
                lines.add(line.strip());
            }
        }
        if (lines.isEmpty()) {
            return "no message";
        }
        String last = lines.get(lines.size() - 1);
        return last.length() <= MAX_MESSAGE_CHARS ? last : last.substring(0, MAX_MESSAGE_CHARS) + "...";
    }
}
