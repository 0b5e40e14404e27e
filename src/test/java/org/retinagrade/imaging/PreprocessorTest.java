package org.retinagrade.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.retinagrade.TestDatabase;

class PreprocessorTest {

    private static byte[] phantomJpeg;

    @BeforeAll
    static void render() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new FundusPhantom(400).render(2, false, 21), "jpeg", out);
        phantomJpeg = out.toByteArray();
    }

    private static byte[] pixels(Mat rgb) {
        byte[] values = new byte[(int) rgb.total() * 3];
        rgb.get(0, 0, values);
        return values;
    }

    @Test
    void outputIsSquareAtResolutionWithBlackCorners() {
        Preprocessor.Prepared prepared = new Preprocessor(PreprocessConfig.plain(128)).prepare(phantomJpeg);
        assertTrue(prepared.gradable(), prepared.region().reason());
        Mat rgb = prepared.rgb();
        assertEquals(128, rgb.rows());
        assertEquals(128, rgb.cols());
        assertEquals(CvType.CV_8UC3, rgb.type());
        byte[] values = pixels(rgb);
        assertEquals(0, values[0] & 0xFF, "top-left corner is outside the field");
        int centre = (64 * 128 + 64) * 3;
        assertTrue((values[centre] & 0xFF) > 60, "field centre red value " + (values[centre] & 0xFF));
    }

    @Test
    void benGrahamSetsOutsideToGrey() {
        Mat rgb = new Preprocessor(new PreprocessConfig(128, true, false, 2.0, 8)).prepare(phantomJpeg).rgb();
        byte[] values = pixels(rgb);
        assertEquals(128, values[0] & 0xFF);
        assertEquals(128, values[1] & 0xFF);
    }

    @Test
    void claheChangesFieldButKeepsSize() {
        Mat plain = new Preprocessor(PreprocessConfig.plain(128)).prepare(phantomJpeg).rgb();
        Mat clahe = new Preprocessor(new PreprocessConfig(128, false, true, 2.0, 8)).prepare(phantomJpeg).rgb();
        assertEquals(plain.size(), clahe.size());
        assertFalse(java.util.Arrays.equals(pixels(plain), pixels(clahe)));
    }

    @Test
    void blankImageIsUngradableNotAnException() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new java.awt.image.BufferedImage(320, 240, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", out);
        Preprocessor.Prepared prepared = new Preprocessor(PreprocessConfig.plain(128)).prepare(out.toByteArray());
        assertFalse(prepared.gradable());
        assertNull(prepared.rgb());
    }

    @Test
    void cacheReturnsWhatWasStored() throws Exception {
        Path root = Path.of("target", "prepared-cache-test").toAbsolutePath();
        TestDatabase.deleteRecursively(root);
        PreprocessConfig config = PreprocessConfig.plain(64);
        Mat rgb = new Preprocessor(config).prepare(phantomJpeg).rgb();
        String sha = "ab".repeat(32);

        PreparedImageCache cache = new PreparedImageCache(root, 1 << 20);
        assertTrue(cache.get(sha, config).isEmpty());
        cache.put(sha, config, rgb);
        assertArrayEquals(pixels(rgb), pixels(cache.get(sha, config).get()));
        assertTrue(Files.isRegularFile(cache.pathOf(sha, config)));

        PreparedImageCache fresh = new PreparedImageCache(root, 0);
        Optional<Mat> fromDisk = fresh.get(sha, config);
        assertArrayEquals(pixels(rgb), pixels(fromDisk.get()));
        assertTrue(fresh.get(sha, PreprocessConfig.plain(32)).isEmpty(), "another resolution must not hit");
    }

    @Test
    void invalidSettingsAreRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> PreprocessConfig.plain(8));
        assertEquals("invalid resolution 8: expected 32 to 2048 pixels", error.getMessage());
    }
}
