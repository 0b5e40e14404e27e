package org.retinagrade.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;

class FolderLayoutTest {

    @Test
    void eyePacsNamesGiveLateralityAndPatient() {
        assertEquals(new FolderLayout.NameParts("10", "L"), FolderLayout.parseEyePacsName("10_left.jpeg").get());
        assertEquals(new FolderLayout.NameParts("10", "R"), FolderLayout.parseEyePacsName("10_right").get());
        assertEquals(new FolderLayout.NameParts("abc_7", "R"), FolderLayout.parseEyePacsName("abc_7_RIGHT.png").get());
        assertTrue(FolderLayout.parseEyePacsName("fundus.png").isEmpty());
    }

    @Test
    void csvSplitHonoursQuotes() {
        assertEquals(List.of("a", "b,c", "d\"e"), FolderLayout.splitCsvLine("a,\"b,c\",\"d\"\"e\""));
    }

    @Test
    void imageFolderWithSplitsIsRecognised() throws Exception {
        Path root = Path.of("target", "layout-test").toAbsolutePath();
        TestDatabase.deleteRecursively(root);
        Files.createDirectories(root.resolve("train/0"));
        Files.createDirectories(root.resolve("val/3"));
        Files.writeString(root.resolve("train/0/a.jpg"), "x");
        Files.writeString(root.resolve("val/3/b.jpg"), "y");
        FolderLayout.Scan scan = FolderLayout.scan(root, null);
        assertEquals("ImageFolder with splits", scan.layout());
        assertEquals(2, scan.entries().size());
        FolderLayout.Entry train = scan.entries().stream().filter(e -> e.reference().endsWith("a.jpg")).findFirst().get();
        FolderLayout.Entry validation = scan.entries().stream().filter(e -> e.reference().endsWith("b.jpg")).findFirst().get();
        assertEquals(0, train.label());
        assertEquals("train", train.split());
        assertEquals(3, validation.label());
        assertEquals("validation", validation.split());
    }

    @Test
    void csvWithoutLevelColumnIsRejected() throws Exception {
        Path root = Path.of("target", "layout-bad-csv").toAbsolutePath();
        TestDatabase.deleteRecursively(root);
        Files.createDirectories(root);
        Path csv = root.resolve("labels.csv");
        Files.writeString(csv, "image,grade\n1_left,2\n");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> FolderLayout.scan(root, csv));
        assertTrue(error.getMessage().contains("level"), error.getMessage());
    }

    @Test
    void missingFolderIsRejected() {
        Path missing = Path.of("target", "no-such-folder");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> FolderLayout.scan(missing, null));
        assertTrue(error.getMessage().contains("no-such-folder"), error.getMessage());
    }
}
