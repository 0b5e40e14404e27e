package org.retinagrade.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.CodeStringAttribute;
import com.pixelmed.dicom.DecimalStringAttribute;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.OtherByteAttributeMultipleCompressedFrames;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.UniqueIdentifierAttribute;
import com.pixelmed.dicom.UnsignedShortAttribute;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.Mat;
import org.retinagrade.imaging.FundusPhantom;
import org.retinagrade.imaging.Preprocessor;

/**
 * Tests of the encodings that external tools decompress for DicomDecoder: JPEG-LS lossless and
 * near-lossless and JPEG Extended with 12-bit samples (dcmtk), and High-Throughput JPEG 2000
 * (OpenJPEG). The test writes uncompressed files itself, compresses them with dcmtk's
 * encoders or OpenJPH's and checks that the decoded frames match those of the uncompressed file. It also checks the refusals when the tool is missing, fails
 * or hangs.
 */
class ExternalDecompressorTest {

    private static final Path SCRATCH = Path.of("target", "dcmtk-transcoder-test").toAbsolutePath();
    private static final String JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80";
    private static final String HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201";

    @BeforeAll
    static void scratch() throws Exception {
        if (Files.exists(SCRATCH)) {
            try (var walk = Files.walk(SCRATCH)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
        Files.createDirectories(SCRATCH);
    }

    @Test
    void jpegLsColourDecodesLossless() throws Exception {
        Path original = writeColourPhotograph(SCRATCH.resolve("colour.dcm"));
        Path compressed = compress("dcmcjpls", original, SCRATCH.resolve("colour-jls.dcm"));

        DicomDecoder decoder = new DicomDecoder();
        DicomDecoder.Decoded expected = decoder.decode(original);
        DicomDecoder.Decoded decoded = decoder.decode(compressed);

        assertEquals(JPEG_LS_LOSSLESS, decoded.transferSyntax());
        assertTrue(decoded.colour());
        assertArrayEquals(Pnm.samplesOf(expected.frames().get(0)), Pnm.samplesOf(decoded.frames().get(0)));
        assertEquals(TransferSyntaxes.EXPLICIT_LITTLE,
                Attribute.getSingleStringValueOrEmptyString(decoded.attributes(), TagFromName.TransferSyntaxUID),
                "the attributes describe the decompressed pixel data");
    }

    @Test
    void htj2kColourDecodesLossless() throws Exception {
        assumeTrue(ExternalDecompressor.locate("opj_decompress", null) != null, "OpenJPEG's opj_decompress is not installed; skipping");
        Path original = writeColourPhotograph(SCRATCH.resolve("ht-original.dcm"));
        DicomDecoder decoder = new DicomDecoder();
        DicomDecoder.Decoded expected = decoder.decode(original);
        BufferedImage frame = expected.frames().get(0);

        // OpenJPH encodes the frame losslessly, with the reversible wavelet and the RCT colour transform.
        // The test wraps its codestream as High-Throughput JPEG 2000 (Lossless Only) Pixel Data in one fragment.
        Path ppm = SCRATCH.resolve("ht-original.ppm");
        try (OutputStream out = Files.newOutputStream(ppm)) {
            out.write(("P6\n" + frame.getWidth() + " " + frame.getHeight() + "\n255\n").getBytes(StandardCharsets.US_ASCII));
            out.write(Pnm.samplesOf(frame));
        }
        Path codestream = SCRATCH.resolve("ht.j2c");
        run("ojph_compress", "-i", ppm.toString(), "-o", codestream.toString(), "-reversible", "true");
        AttributeList list = new AttributeList();
        list.read(original.toFile());
        list.put(new OtherByteAttributeMultipleCompressedFrames(TagFromName.PixelData, new byte[][] {Files.readAllBytes(codestream)}));
        list.remove(TagFromName.PhotometricInterpretation);
        text(list, new CodeStringAttribute(TagFromName.PhotometricInterpretation), "YBR_RCT");
        list.remove(TagFromName.TransferSyntaxUID);
        list.remove(TagFromName.FileMetaInformationGroupLength);
        FileMetaInformation.addFileMetaInformation(list, HTJ2K_LOSSLESS, "TEST");
        Path compressed = SCRATCH.resolve("ht.dcm");
        list.write(compressed.toFile(), HTJ2K_LOSSLESS, true, true);

        DicomDecoder.Decoded decoded = decoder.decode(compressed);

        assertEquals(HTJ2K_LOSSLESS, decoded.transferSyntax());
        assertEquals("RGB", Attribute.getSingleStringValueOrEmptyString(decoded.attributes(), TagFromName.PhotometricInterpretation),
                "OpenJPEG reverses the RCT, so the stored copy is described as RGB");
        assertEquals("00", Attribute.getSingleStringValueOrEmptyString(decoded.attributes(), TagFromName.LossyImageCompression),
                "a reversible codestream keeps the writer's 00 (not lossy)");
        assertArrayEquals(Pnm.samplesOf(frame), Pnm.samplesOf(decoded.frames().get(0)));
    }

    @Test
    void twelveBitEncodingsDecodeWithinTolerance() throws Exception {
        Path original = writeTwelveBitImage(SCRATCH.resolve("twelve.dcm"));
        DicomDecoder decoder = new DicomDecoder();
        byte[] expected = Pnm.samplesOf(decoder.decode(original).frames().get(0));

        Path lossless = compress("dcmcjpls", original, SCRATCH.resolve("twelve-jls.dcm"));
        assertArrayEquals(expected, Pnm.samplesOf(decoder.decode(lossless).frames().get(0)));

        // Near-lossless with a deviation of 2 of 4096 levels, and 12-bit JPEG Extended: within 2 of 256 after the window.
        Path nearLossless = compress("dcmcjpls", original, SCRATCH.resolve("twelve-jls-near.dcm"), "+en", "+md", "2");
        DicomDecoder.Decoded near = decoder.decode(nearLossless);
        assertEquals("1.2.840.10008.1.2.4.81", near.transferSyntax());
        assertTrue(maxDifference(expected, Pnm.samplesOf(near.frames().get(0))) <= 2);

        Path extended = compress("dcmcjpeg", original, SCRATCH.resolve("twelve-extended.dcm"), "+ee");
        DicomDecoder.Decoded twelve = decoder.decode(extended);
        assertEquals("1.2.840.10008.1.2.4.51", twelve.transferSyntax());
        int difference = maxDifference(expected, Pnm.samplesOf(twelve.frames().get(0)));
        assertTrue(difference <= 2, "12-bit JPEG Extended differs by " + difference);
    }

    @Test
    void missingToolNamesPackage() throws Exception {
        Path compressed = compress("dcmcjpls", writeColourPhotograph(SCRATCH.resolve("missing.dcm")),
                SCRATCH.resolve("missing-jls.dcm"));
        Path empty = Files.createDirectories(SCRATCH.resolve("no-tools"));
        DicomDecoder decoder = new DicomDecoder(DicomDecoder.DEFAULT_MAX_PIXELS, Duration.ofSeconds(30), empty.toString());

        DicomDecodeException rejected = assertThrows(DicomDecodeException.class, () -> decoder.decode(compressed));

        assertTrue(rejected.getMessage().contains(JPEG_LS_LOSSLESS + " (JPEG-LS Lossless)"), rejected.getMessage());
        assertTrue(rejected.getMessage().contains("install dcmtk, whose dcmdjpls"), rejected.getMessage());
    }

    @Test
    void failingOrHangingToolRejected() throws Exception {
        Path compressed = compress("dcmcjpls", writeColourPhotograph(SCRATCH.resolve("broken.dcm")),
                SCRATCH.resolve("broken-jls.dcm"));

        Path failing = fakeTool("failing", "echo 'W: a warning first'\necho 'E: cannot decode this frame' >&2\nexit 1");
        DicomDecoder withFailing = new DicomDecoder(DicomDecoder.DEFAULT_MAX_PIXELS, Duration.ofSeconds(30), failing.toString());
        DicomDecodeException failed = assertThrows(DicomDecodeException.class, () -> withFailing.decode(compressed));
        assertEquals("dcmdjpls could not decompress the pixel data (exit status 1): E: cannot decode this frame",
                failed.getMessage());

        Path hanging = fakeTool("hanging", "exec sleep 60");
        DicomDecoder withHanging = new DicomDecoder(DicomDecoder.DEFAULT_MAX_PIXELS, Duration.ofSeconds(2), hanging.toString());
        long start = System.nanoTime();
        DicomDecodeException stopped = assertThrows(DicomDecodeException.class, () -> withHanging.decode(compressed));
        assertTrue(stopped.getMessage().contains("timed out after 2 s") || stopped.getMessage().contains("within 2 s"),
                stopped.getMessage());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "the hanging tool held the decoder");
    }

    @Test
    void frameCountMismatchRejected() throws Exception {
        Path original = writeFrames(SCRATCH.resolve("frames.dcm"), 3);
        DicomDecoder decoder = new DicomDecoder();
        Path rle = compress("dcmcrle", original, SCRATCH.resolve("frames-rle.dcm"));
        Path jpeg = compress("dcmcjpeg", original, SCRATCH.resolve("frames-jpeg.dcm"));
        assertEquals(3, decoder.decode(rle).frames().size());
        assertEquals(3, decoder.decode(jpeg).frames().size());

        // A frame that the data lacks would otherwise decode as a blank image.
        run("dcmodify", "-nb", "-m", "(0028,0008)=4", rle.toString());
        DicomDecodeException rleError = assertThrows(DicomDecodeException.class, () -> decoder.decode(rle));
        assertTrue(rleError.getMessage().contains("contains 3 frames where Number of Frames declares 4"), rleError.getMessage());

        run("dcmodify", "-nb", "-m", "(0028,0008)=2", jpeg.toString());
        DicomDecodeException jpegError = assertThrows(DicomDecodeException.class, () -> decoder.decode(jpeg));
        assertTrue(jpegError.getMessage().contains("contains 3 frames where Number of Frames declares 2"), jpegError.getMessage());

        run("dcmodify", "-nb", "-m", "(0028,0008)=2", original.toString());
        DicomDecodeException nativeError = assertThrows(DicomDecodeException.class, () -> decoder.decode(original));
        assertTrue(nativeError.getMessage().contains("enough for 3 frames"), nativeError.getMessage());
        assertTrue(nativeError.getMessage().contains("Number of Frames declares 2"), nativeError.getMessage());

        Path cut = SCRATCH.resolve("frames-jpeg-cut.dcm");
        byte[] whole = Files.readAllBytes(compress("dcmcjpeg", writeFrames(SCRATCH.resolve("frames-again.dcm"), 3),
                SCRATCH.resolve("frames-jpeg-whole.dcm")));
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 600));
        DicomDecodeException cutError = assertThrows(DicomDecodeException.class, () -> decoder.decode(cut));
        assertTrue(cutError.getMessage().contains("past the end of the file") || cutError.getMessage().contains("ends early"),
                cutError.getMessage());
    }

    /** Writes a 64x48 MONOCHROME2 8-bit object with the given number of distinct frames, uncompressed. */
    private static Path writeFrames(Path file, int frames) throws Exception {
        int rows = 48;
        int columns = 64;
        AttributeList list = monochrome("1.2.840.10008.5.1.4.1.1.7.2", "13", rows, columns, 8);
        text(list, new com.pixelmed.dicom.IntegerStringAttribute(TagFromName.NumberOfFrames), Integer.toString(frames));
        byte[] samples = new byte[rows * columns * frames];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = (byte) ((i % columns) * 3 + (i / (rows * columns)) * 40);
        }
        com.pixelmed.dicom.OtherByteAttribute pixels = new com.pixelmed.dicom.OtherByteAttribute(TagFromName.PixelData);
        pixels.setValues(samples);
        list.put(pixels);
        return writeUncompressed(list, file);
    }

    /** Writes an 8-bit RGB Ophthalmic Photography object of a phantom fundus, uncompressed. */
    private static Path writeColourPhotograph(Path file) throws Exception {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new FundusPhantom(96).render(2, true, 11), "png", png);
        Mat rgb = Preprocessor.decode(png.toByteArray());
        AttributeList list = OphthalmicPhotography.build(rgb, new OphthalmicPhotography.Identity("P-JLS", "TEST^JLS",
                "study-jls", LocalDate.of(2025, 5, 6), "ACC1", "L", "series-jls", "instance-" + file.getFileName(), 1));
        try (OutputStream out = Files.newOutputStream(file)) {
            OphthalmicPhotography.write(list, out, "TEST");
        }
        return file;
    }

    /** Writes a 96x64 MONOCHROME2 image with 12 of 16 bits stored: a ramp over the full range plus noise. */
    private static Path writeTwelveBitImage(Path file) throws Exception {
        int rows = 64;
        int columns = 96;
        AttributeList list = monochrome("1.2.840.10008.5.1.4.1.1.7", "12", rows, columns, 12);
        text(list, new LongStringAttribute(TagFromName.PatientID), "P-TWELVE");
        text(list, new DecimalStringAttribute(TagFromName.WindowCenter), "2048");
        text(list, new DecimalStringAttribute(TagFromName.WindowWidth), "4096");
        short[] samples = new short[rows * columns];
        Random random = new Random(12);
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < columns; x++) {
                int value = (x * 4095 / (columns - 1) + y * 8 + random.nextInt(9)) % 4096;
                samples[y * columns + x] = (short) value;
            }
        }
        OtherWordAttribute pixels = new OtherWordAttribute(TagFromName.PixelData);
        pixels.setValues(samples);
        list.put(pixels);
        return writeUncompressed(list, file);
    }

    /**
     * Returns the attributes of a MONOCHROME2 image of the SOP class, without Pixel Data: UIDs
     * that end in the key, 8 bits allocated for up to 8 bits stored, else 16.
     */
    private static AttributeList monochrome(String sopClass, String key, int rows, int columns, int bitsStored) throws Exception {
        AttributeList list = new AttributeList();
        text(list, new UniqueIdentifierAttribute(TagFromName.SOPClassUID), sopClass);
        text(list, new UniqueIdentifierAttribute(TagFromName.SOPInstanceUID), "1.2.826.0.1.3680043.10.1234." + key + ".1");
        text(list, new UniqueIdentifierAttribute(TagFromName.StudyInstanceUID), "1.2.826.0.1.3680043.10.1234." + key + ".2");
        text(list, new UniqueIdentifierAttribute(TagFromName.SeriesInstanceUID), "1.2.826.0.1.3680043.10.1234." + key + ".3");
        text(list, new CodeStringAttribute(TagFromName.Modality), "OT");
        text(list, new CodeStringAttribute(TagFromName.PhotometricInterpretation), "MONOCHROME2");
        unsigned(list, TagFromName.Rows, rows);
        unsigned(list, TagFromName.Columns, columns);
        unsigned(list, TagFromName.SamplesPerPixel, 1);
        unsigned(list, TagFromName.BitsAllocated, bitsStored <= 8 ? 8 : 16);
        unsigned(list, TagFromName.BitsStored, bitsStored);
        unsigned(list, TagFromName.HighBit, bitsStored - 1);
        unsigned(list, TagFromName.PixelRepresentation, 0);
        return list;
    }

    private static Path writeUncompressed(AttributeList list, Path file) throws Exception {
        FileMetaInformation.addFileMetaInformation(list, TransferSyntaxes.EXPLICIT_LITTLE, "TEST");
        list.write(file.toFile(), TransferSyntaxes.EXPLICIT_LITTLE, true, true);
        return file;
    }

    private static void text(AttributeList list, Attribute attribute, String value) throws Exception {
        attribute.addValue(value);
        list.put(attribute);
    }

    private static void unsigned(AttributeList list, AttributeTag tag, int value) throws Exception {
        Attribute attribute = new UnsignedShortAttribute(tag);
        attribute.addValue(value);
        list.put(attribute);
    }

    /** Compresses a file with one of dcmtk's encoders, which the test needs (bin/setup installs dcmtk). */
    private static Path compress(String encoder, Path in, Path out, String... options) throws Exception {
        List<String> arguments = new ArrayList<>(List.of(options));
        arguments.addAll(List.of(in.toString(), out.toString()));
        run(encoder, arguments.toArray(String[]::new));
        return out;
    }

    /** Runs an encoder that bin/setup installs; the test is skipped where it is missing. */
    private static void run(String encoder, String... arguments) throws Exception {
        Path tool = ExternalDecompressor.locate(encoder, null);
        assumeTrue(tool != null, encoder + " is not installed (bin/setup installs it); skipping");
        List<String> command = new ArrayList<>(List.of(tool.toString()));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), encoder + " hung");
        assertEquals(0, process.exitValue(), encoder + " failed: " + output);
    }

    /** Writes an executable dcmdjpls stand-in with the given shell body into a folder of its own. */
    private static Path fakeTool(String folder, String body) throws Exception {
        Path dir = Files.createDirectories(SCRATCH.resolve(folder));
        Path tool = dir.resolve("dcmdjpls");
        Files.writeString(tool, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    private static int maxDifference(byte[] expected, byte[] actual) {
        assertEquals(expected.length, actual.length);
        int max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs((expected[i] & 0xff) - (actual[i] & 0xff)));
        }
        return max;
    }
}
