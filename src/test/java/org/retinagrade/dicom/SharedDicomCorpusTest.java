package org.retinagrade.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tests of DicomDecoder on every file of the shared DICOM corpus that its INDEX.tsv lists. Each
 * file is either decoded or rejected with a reason, never a crash or a hang, and decoded pixels
 * agree with dcmtk's dcmj2pnm (dcml2pnm for JPEG-LS). The tests are skipped where the corpus or dcmtk is absent.
 */
class SharedDicomCorpusTest {

    private static final Path CORPUS = Path.of("..", "shared", "data", "dicom");
    private static final Path OUT = Path.of("target", "dicom-corpus");

    /** Maximum per-sample difference allowed for lossy encodings (JPEG baseline, JPEG 2000 irreversible). */
    private static final int LOSSY_TOLERANCE = 3;

    /**
     * Maximum per-sample difference allowed for lossless greyscale images, which go through a
     * VOI window to 8 bits. There dcmtk's rounding differs by one grey level at some window edges
     * from the linear function of PS3.3 C.11.2.1.2.1, which this decoder computes in double precision.
     */
    private static final int WINDOW_ROUNDING = 1;

    /**
     * Maximum per-sample difference allowed for native YBR_FULL and YBR_FULL_422 data. This decoder
     * converts them to RGB with the equations of PS3.3 C.7.6.3.1.2 in double precision and rounds,
     * and dcmtk's integer conversion differs from that by up to 2.
     */
    private static final int YBR_CONVERSION = 2;

    private static final Map<String, DicomDecoder.Decoded> decoded = new LinkedHashMap<>();
    private static final Map<String, String> rejected = new LinkedHashMap<>();

    @BeforeAll
    static void decodeCorpus() throws IOException {
        assumeTrue(Files.isRegularFile(CORPUS.resolve("INDEX.tsv")),
                "shared DICOM corpus not found at " + CORPUS.toAbsolutePath() + "; skipping");
        Files.createDirectories(OUT);
        DicomDecoder decoder = new DicomDecoder();
        List<String> report = new ArrayList<>();
        report.add("path\toutcome\tdetail");
        for (String line : Files.readAllLines(CORPUS.resolve("INDEX.tsv")).subList(1, Files.readAllLines(CORPUS.resolve("INDEX.tsv")).size())) {
            String path = line.split("\t")[0];
            try {
                DicomDecoder.Decoded result = decoder.decode(CORPUS.resolve(path));
                decoded.put(path, result);
                report.add(path + "\tdecoded\t" + result.frames().size() + " frames " + result.photometric() + " "
                        + result.transferSyntax());
            } catch (DicomDecodeException e) {
                rejected.put(path, e.getMessage());
                report.add(path + "\trefused\t" + e.getMessage());
            }
        }
        Files.write(OUT.resolve("outcomes.tsv"), report);
    }

    @Test
    void indexedFilesDecodeOrRejectWithReason() {
        assertEquals(47, decoded.size() + rejected.size());
        rejected.forEach((path, reason) -> {
            assertNotNull(reason, path + " rejected without a reason");
            assertFalse(reason.isBlank(), path + " rejected without a reason");
        });
        assertTrue(decoded.size() >= 30, "only " + decoded.size() + " files decoded; rejected: " + rejected);
    }

    @Test
    void htj2kDecodesLikeOpenJph() throws Exception {
        assumeTrue(ExternalDecompressor.locate("opj_decompress", null) != null, "OpenJPEG's opj_decompress is not installed; skipping");
        String path = "pydicom-data/HTJ2K_08_RGB.dcm";
        DicomDecoder.Decoded result = decoded.get(path);
        assertNotNull(result, path + " was rejected: " + rejected.get(path));
        assertEquals("RGB", result.photometric());
        assertEquals("01", Attribute.getSingleStringValueOrEmptyString(result.attributes(), TagFromName.LossyImageCompression),
                "the irreversible wavelet is recorded as lossy compression");

        // OpenJPH is a second HTJ2K decoder, written independently of OpenJPEG.
        Path ojph = ExternalDecompressor.locate("ojph_expand", null);
        assumeTrue(ojph != null, "OpenJPH's ojph_expand is not installed; skipping the comparison");
        Path file = CORPUS.resolve(path);
        AttributeList header = new AttributeList();
        long offset;
        try (DicomInputStream in = new DicomInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            offset = header.read(in, TagFromName.PixelData);
        }

        Path codestream = OUT.resolve("htj2k.j2c");
        Files.write(codestream, ExternalDecompressor.encapsulatedFrames(file, offset, 1).get(0));
        Path reference = OUT.resolve("htj2k.ppm");
        Process process = new ProcessBuilder(ojph.toString(), "-i", codestream.toString(), "-o", reference.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "ojph_expand hung");
        assertEquals(0, process.exitValue(), "ojph_expand failed: " + output);

        byte[] expected = Pnm.read(reference).samples;
        byte[] ours = Pnm.samplesOf(result.frames().get(0));
        assertEquals(expected.length, ours.length);
        int max = 0;
        int differing = 0;
        for (int i = 0; i < ours.length; i++) {
            int difference = Math.abs((ours[i] & 0xff) - (expected[i] & 0xff));
            max = Math.max(max, difference);
            differing += difference == 0 ? 0 : 1;
        }
        // The file uses the irreversible 9/7 wavelet and colour transform, which each decoder computes in its own
        // floating-point or fixed-point arithmetic, so rounding may differ by one level.
        assertTrue(max <= 1, "differs from ojph_expand by up to " + max + " in " + differing + " samples");
        System.out.printf("HTJ2K against ojph_expand: %d of %d samples differ, by at most %d%n", differing, ours.length, max);
    }

    @Test
    void jpegLsAndTwelveBitJpegDecoded() {
        assumeTrue(ExternalDecompressor.locate("dcmdjpls", null) != null && ExternalDecompressor.locate("dcmdjpeg", null) != null,
                "dcmtk is not installed; skipping");
        for (String path : List.of("pydicom/MR_small_jpeg_ls_lossless.dcm", "pydicom/JPEGLSNearLossless_08.dcm",
                "pydicom/JPGExtended.dcm")) {
            assertNotNull(decoded.get(path), path + " was refused: " + rejected.get(path));
        }
        assertEquals(1024, decoded.get("pydicom/JPGExtended.dcm").frames().get(0).getHeight());
    }

    @Test
    void malformedFilesRejectedWithFault() {
        assertTrue(rejected.get("pydicom/MR_truncated.dcm").contains("truncated"), rejected.get("pydicom/MR_truncated.dcm"));
        // This copy of CT_small has one stray byte before its first data element, and neither PixelMed nor dcmdump reads it.
        assertTrue(rejected.get("pydicom/no_meta.dcm").contains("not a DICOM image"), rejected.get("pydicom/no_meta.dcm"));
        String query = rejected.get("orthanc-tests/ZeissOCT-cfind-query.dcm");
        assertTrue(query.contains("not an image") || query.contains("not a DICOM image"), query);
        assertTrue(rejected.get("pydicom/badVR.dcm").contains("'1A'"), rejected.get("pydicom/badVR.dcm"));
    }

    @Test
    void colourPlanarConfigurationsDecodeAlike() {
        assertArrayEquals(Pnm.samplesOf(decoded.get("pydicom-data/color-px.dcm").frames().get(0)),
                Pnm.samplesOf(decoded.get("pydicom-data/color-pl.dcm").frames().get(0)));
    }

    @Test
    void decodedPixelsAgreeWithDcmtk() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dcmj2pnm")), "dcmtk's dcmj2pnm is not installed; skipping");
        List<String> problems = new ArrayList<>();
        List<String> table = new ArrayList<>();
        table.add("path\ttransfer_syntax\tlossless\tmax_difference\tdiffering_samples");
        for (var entry : decoded.entrySet()) {
            String path = entry.getKey();
            DicomDecoder.Decoded result = entry.getValue();
            Path reference = OUT.resolve(path.replace('/', '_') + ".pnm");
            boolean windowed = !result.colour() && DicomDecoder.VoiSettings.of(result.attributes()).windowed();
            // dcmj2pnm reads JPEG, and dcml2pnm reads JPEG-LS.
            String renderer = result.transferSyntax().startsWith("1.2.840.10008.1.2.4.8") ? "/usr/bin/dcml2pnm" : "/usr/bin/dcmj2pnm";
            List<String> command = new ArrayList<>(List.of(renderer, "--quiet", windowed ? "+Wi" : "+Wm"));
            if (windowed) {
                command.add("1");
            }
            command.addAll(List.of(CORPUS.resolve(path).toString(), reference.toString()));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), renderer + " hung on " + path);
            if (process.exitValue() != 0 || !Files.exists(reference)) {
                table.add(path + "\t" + result.transferSyntax() + "\t-\t" + renderer + " failed: " + output.strip().replace('\n', ' '));
                continue;
            }
            Pnm expected = Pnm.read(reference);
            byte[] ours = Pnm.samplesOf(result.frames().get(0));
            if (ours.length != expected.samples.length) {
                problems.add(path + ": " + ours.length + " samples, " + renderer + " " + expected.samples.length);
                continue;
            }
            int max = 0;
            int differing = 0;
            for (int i = 0; i < ours.length; i++) {
                int difference = Math.abs((ours[i] & 0xff) - (expected.samples[i] & 0xff));
                max = Math.max(max, difference);
                differing += difference == 0 ? 0 : 1;
            }
            boolean lossless = TransferSyntaxes.isLossless(result.transferSyntax());
            table.add(path + "\t" + result.transferSyntax() + "\t" + lossless + "\t" + max + "\t" + differing);
            boolean nativeYbr = TransferSyntaxes.isNative(result.transferSyntax()) && result.photometric().startsWith("YBR");
            int allowed;
            if (!lossless) {
                allowed = LOSSY_TOLERANCE;
            } else if (nativeYbr) {
                allowed = YBR_CONVERSION;
            } else if (result.colour()) {
                allowed = 0;
            } else {
                allowed = WINDOW_ROUNDING;
            }
            if (max > allowed) {
                problems.add(path + ": differs from " + renderer + " by up to " + max + " in " + differing + " samples");
            }
        }
        Files.write(OUT.resolve("dcmtk-comparison.tsv"), table);
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
    }
}
