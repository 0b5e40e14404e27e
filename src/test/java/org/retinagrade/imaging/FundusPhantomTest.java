package org.retinagrade.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;

class FundusPhantomTest {

    private static final Path OUT = Path.of("target", "phantom-test").toAbsolutePath();

    @Test
    void sameSeedGivesSameFiles() throws Exception {
        TestDatabase.deleteRecursively(OUT);
        FundusPhantom phantom = new FundusPhantom(128);
        List<FundusPhantom.Written> first = phantom.writeStudy(OUT.resolve("a"), 2, 7);
        List<FundusPhantom.Written> second = phantom.writeStudy(OUT.resolve("b"), 2, 7);
        List<FundusPhantom.Written> other = phantom.writeStudy(OUT.resolve("c"), 2, 8);

        assertEquals(10, first.size());
        for (int i = 0; i < first.size(); i++) {
            assertArrayEquals(Files.readAllBytes(first.get(i).file()), Files.readAllBytes(second.get(i).file()),
                    "image " + first.get(i).name() + " differs between two runs with seed 7");
            assertFalse(Arrays.equals(Files.readAllBytes(first.get(i).file()), Files.readAllBytes(other.get(i).file())),
                    "image " + first.get(i).name() + " is the same for seeds 7 and 8");
        }
        assertEquals(Files.readString(OUT.resolve("a/trainLabels.csv")), Files.readString(OUT.resolve("b/trainLabels.csv")));
    }

    @Test
    void labelCsvListsEveryImageWithGrade() throws Exception {
        Path out = OUT.resolve("labels");
        TestDatabase.deleteRecursively(out);
        new FundusPhantom(96).writeStudy(out, 3, 1);
        List<String> lines = Files.readAllLines(out.resolve("trainLabels.csv"));
        assertEquals("image,level", lines.get(0));
        assertEquals(16, lines.size());
        for (int grade = 0; grade < 5; grade++) {
            String suffix = "," + grade;
            assertEquals(3, lines.stream().skip(1).filter(l -> l.endsWith(suffix)).count(), "images of grade " + grade);
        }
        for (String line : lines.subList(1, lines.size())) {
            String name = line.split(",")[0];
            assertTrue(Files.isRegularFile(out.resolve("images").resolve(name + ".jpeg")), "missing file for " + name);
            assertTrue(name.matches("\\d+_(left|right)"), "name not in EyePACS style: " + name);
        }
    }

    @Test
    void surroundIsDarkAndFieldIsBright() {
        BufferedImage image = new FundusPhantom(256).render(0, true, 3);
        assertEquals(320, image.getWidth());
        int corner = image.getRGB(2, 2);
        int centre = image.getRGB(160, 128);
        assertTrue(luminance(corner) < 15, "corner luminance " + luminance(corner));
        assertTrue(luminance(centre) > 40, "centre luminance " + luminance(centre));
    }

    @Test
    void lesionAreaRisesWithGrade() {
        // Every draw before the lesions is the same for all grades of one seed, so the pixels that
        // differ from the grade-0 image by far more than the sensor noise are lesions.
        FundusPhantom phantom = new FundusPhantom(256);
        long[] changed = new long[FundusPhantom.GRADES];
        for (int seed = 0; seed < 4; seed++) {
            BufferedImage healthy = phantom.render(0, true, seed);
            for (int grade = 0; grade < FundusPhantom.GRADES; grade++) {
                changed[grade] += changedPixels(healthy, phantom.render(grade, true, seed));
            }
        }
        assertEquals(0, changed[0], "grade 0 rendered twice differs");
        assertTrue(changed[1] > 0, "grade 1 shows no lesions");
        assertTrue(changed[2] > changed[1], "grade 2 (" + changed[2] + ") not above grade 1 (" + changed[1] + ")");
        assertTrue(changed[3] > changed[2], "grade 3 (" + changed[3] + ") not above grade 2 (" + changed[2] + ")");
        assertTrue(changed[4] > changed[2], "grade 4 (" + changed[4] + ") not above grade 2 (" + changed[2] + ")");
    }

    @Test
    void nonEmptyOutputFolderIsRejected() throws Exception {
        Path out = OUT.resolve("occupied");
        TestDatabase.deleteRecursively(out);
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "existing");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new FundusPhantom(96).writeStudy(out, 1, 1));
        assertTrue(error.getMessage().contains(out.toString()), error.getMessage());
        assertEquals("existing", Files.readString(out.resolve("keep.txt")));
    }

    private static double luminance(int rgb) {
        return 0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
    }

    /** Counts pixels where some channel differs by more than 40 levels, far above the noise sigma of 3. */
    private static long changedPixels(BufferedImage a, BufferedImage b) {
        long count = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    if (Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff)) > 40) {
                        count++;
                        break;
                    }
                }
            }
        }
        return count;
    }
}
