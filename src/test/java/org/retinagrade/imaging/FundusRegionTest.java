package org.retinagrade.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.imgproc.Imgproc;

class FundusRegionTest {

    private static final Path FULLRES = Path.of("..", "shared", "data", "eyepacs-fullres", "images").toAbsolutePath().normalize();

    @BeforeAll
    static void load() {
        OpenCv.load();
    }

    /** A vignetted orange disc with a notch, cut flat at the top, on a noisy dark surround. */
    private static Mat syntheticField(int width, int height, double cx, double cy, double r) {
        Mat image = new Mat(height, width, CvType.CV_8UC3, new Scalar(3, 2, 2));
        byte[] pixels = new byte[width * height * 3];
        image.get(0, 0, pixels);
        java.util.SplittableRandom random = new java.util.SplittableRandom(9);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double d = Math.hypot(x - cx, y - cy) / r;
                int i = (y * width + x) * 3;
                if (d <= 1 && y > cy - 0.85 * r) {
                    double f = 1 - 0.7 * d * d;
                    pixels[i] = (byte) Math.round(200 * f);
                    pixels[i + 1] = (byte) Math.round(90 * f);
                    pixels[i + 2] = (byte) Math.round(40 * f);
                } else {
                    pixels[i] = (byte) random.nextInt(0, 6);
                }
            }
        }
        image.put(0, 0, pixels);
        Imgproc.rectangle(image, new Rect((int) (cx + r - 20), (int) cy - 10, 40, 20), new Scalar(0, 0, 0), -1);
        Imgproc.putText(image, "OD 2015", new Point(10, height - 10), Imgproc.FONT_HERSHEY_SIMPLEX, 1.0, new Scalar(255, 255, 255), 2);
        return image;
    }

    @Test
    void findsKnownCircleDespiteNotchCutAndText() {
        Mat image = syntheticField(1200, 900, 610, 455, 420);
        FundusRegion region = FundusRegion.detect(image);
        assertTrue(region.gradable(), region.reason());
        assertEquals(610, region.centreX(), 0.01 * 420, "centre x");
        assertEquals(455, region.centreY(), 0.01 * 420, "centre y");
        assertEquals(420, region.radius(), 0.01 * 420, "radius");
    }

    @Test
    void findsCircleClippedByFrame() {
        Mat image = syntheticField(900, 600, 450, 300, 380);
        FundusRegion region = FundusRegion.detect(image);
        assertTrue(region.gradable(), region.reason());
        assertEquals(380, region.radius(), 0.02 * 380, "radius");
        assertEquals(450, region.centreX(), 0.02 * 380, "centre x");
    }

    @Test
    void blackImageIsUngradable() {
        Mat black = new Mat(480, 640, CvType.CV_8UC3, new Scalar(0, 0, 0));
        FundusRegion region = FundusRegion.detect(black);
        assertFalse(region.gradable());
        assertTrue(region.reason().startsWith("no fundus field found"), region.reason());
        assertEquals(0.0, region.statistics().get("brightness_p90"));
    }

    @Test
    void darkFieldIsUngradableWithItsLuminance() {
        Mat dim = syntheticField(640, 480, 320, 240, 200);
        Mat darker = new Mat();
        dim.convertTo(darker, -1, 0.09, 0);
        FundusRegion region = FundusRegion.detect(darker);
        assertFalse(region.gradable(), "dim field passed as gradable: " + region.statistics());
        assertTrue(region.reason().contains("too dark") || region.reason().contains("no fundus field"), region.reason());
    }

    @Test
    void fullResolutionPhotographsMatchReferenceCircles() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(FULLRES), "skipped: " + FULLRES + " is absent");
        int checked = 0;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(
                getClass().getResourceAsStream("/imaging/fundus-circles.csv"), StandardCharsets.UTF_8))) {
            reader.readLine();
            String line;
            while ((line = reader.readLine()) != null) {
                String[] cells = line.split(",");
                Mat rgb = Preprocessor.decode(Files.readAllBytes(FULLRES.resolve(cells[0])));
                FundusRegion region = FundusRegion.detect(rgb);
                rgb.release();
                double radius = Double.parseDouble(cells[5]);
                double tolerance = 0.02 * radius;
                assertTrue(region.gradable(), cells[0] + ": " + region.reason());
                System.out.printf("%s: centre (%.1f, %.1f) radius %.1f; reference (%s, %s) %s%n", cells[0],
                        region.centreX(), region.centreY(), region.radius(), cells[3], cells[4], cells[5]);
                assertEquals(Double.parseDouble(cells[3]), region.centreX(), tolerance, cells[0] + " centre x");
                assertEquals(Double.parseDouble(cells[4]), region.centreY(), tolerance, cells[0] + " centre y");
                assertEquals(radius, region.radius(), tolerance, cells[0] + " radius");
                checked++;
            }
        }
        assertEquals(6, checked);
    }
}
