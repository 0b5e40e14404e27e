package org.retinagrade.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.retinagrade.TestDatabase;

class ProtocolLoaderTest {

    private static final Path ROOT = Path.of("target", "protocol-test").toAbsolutePath();
    private static final String VALID = String.join("\n",
            "name: tiny",
            "cohort:",
            "  name: tiny",
            "  source:",
            "    kind: kaggle-csv",
            "    path: data",
            "split: {train: 0.6, validation: 0.2, test: 0.2, seed: 3}",
            "model:",
            "  variant: small",
            "training:",
            "  epochs: 2",
            "");

    @BeforeAll
    static void createDataFolder() throws Exception {
        TestDatabase.deleteRecursively(ROOT);
        Files.createDirectories(ROOT.resolve("data"));
    }

    private static ProtocolException invalid(String text) {
        return assertThrows(ProtocolException.class, () -> ProtocolLoader.parse(text, ROOT.resolve("p.yaml"), null));
    }

    @Test
    void validProtocolLoadsWithDefaults() {
        StudyProtocol protocol = ProtocolLoader.parse(VALID, ROOT.resolve("p.yaml"), null);
        assertEquals("tiny", protocol.name());
        assertEquals(ROOT.resolve("data"), protocol.dataFolder());
        assertEquals(2, protocol.intAt("/training/epochs", 0));
        assertEquals(224, protocol.intAt("/preprocessing/resolution", 224));
        assertEquals(64, protocol.sha256().length());
    }

    @Test
    void filtersAreAccepted() {
        String text = VALID.replace("    path: data", "    path: data\n  filters: {laterality: [L], grades: [0, 2, 4], quality: gradable}");
        StudyProtocol protocol = ProtocolLoader.parse(text, ROOT.resolve("p.yaml"), null);
        assertEquals("gradable", protocol.textAt("/cohort/filters/quality", "any"));
        ProtocolException error = invalid(text.replace("quality: gradable", "quality: best"));
        assertTrue(error.problems().get(0).startsWith("cohort.filters.quality (line 7)"), error.problems().get(0));
    }

    @Test
    void unknownKeyIsReportedWithLine() {
        ProtocolException error = invalid(VALID.replace("  epochs: 2", "  epochs: 2\n  epoch_count: 3"));
        assertEquals(1, error.problems().size(), error.getMessage());
        assertTrue(error.problems().get(0).startsWith("training.epoch_count (line 12): unknown key 'epoch_count'"),
                error.problems().get(0));
    }

    @Test
    void duplicateKeyIsReportedWithLine() {
        ProtocolException error = invalid(VALID.replace("  epochs: 2", "  epochs: 2\n  epochs: 3"));
        assertTrue(error.problems().get(0).startsWith("YAML syntax (line 12)"), error.problems().get(0));
        assertTrue(error.problems().get(0).contains("epochs"), error.problems().get(0));
    }

    @Test
    void wrongTypeIsReportedWithLine() {
        ProtocolException error = invalid(VALID.replace("epochs: 2", "epochs: two"));
        assertTrue(error.problems().get(0).startsWith("training.epochs (line 11)"), error.problems().get(0));
        assertTrue(error.problems().get(0).contains("integer"), error.problems().get(0));
    }

    @Test
    void unquotedNumberWhereTextExpected() {
        ProtocolException error = invalid(VALID.replaceFirst("name: tiny", "name: 2026"));
        assertTrue(error.problems().get(0).startsWith("name (line 1)"), error.problems().get(0));
        assertTrue(error.problems().get(0).contains("the number 2026 must be text here: quote it, for example '2026'"),
                error.problems().get(0));
    }

    @Test
    void valueOutOfRangeIsReportedWithLine() {
        ProtocolException error = invalid(VALID.replace("  variant: small", "  variant: xl") + "preprocessing:\n  resolution: 8\n");
        assertEquals(2, error.problems().size(), error.getMessage());
        assertTrue(error.getMessage().contains("model.variant (line 9)"), error.getMessage());
        assertTrue(error.getMessage().contains("preprocessing.resolution (line 13)"), error.getMessage());
    }

    @Test
    void missingDataFolderIsReported() {
        ProtocolException error = invalid(VALID.replace("path: data", "path: no-such-folder"));
        assertTrue(error.problems().get(0).startsWith("cohort.source.path (line 6): data folder"), error.problems().get(0));
        assertTrue(error.problems().get(0).contains("no-such-folder"), error.problems().get(0));
    }

    @Test
    void splitThatDoesNotAddUpIsReported() {
        ProtocolException error = invalid(VALID.replace("test: 0.2", "test: 0.3"));
        assertTrue(error.problems().get(0).startsWith("split (line 7)"), error.problems().get(0));
    }

    @Test
    void invalidAugmentationParameterIsReported() {
        ProtocolException error = invalid(VALID + "augmentation:\n  - {type: rotation, degrees: 270}\n");
        assertEquals("augmentation[0] (line 13): invalid rotation 270.0 degrees: expected 0 to 180", error.problems().get(0));
        assertTrue(error.problems().get(0).contains("270"), error.problems().get(0));
    }

    @Test
    void yamlSyntaxErrorHasLine() {
        ProtocolException error = invalid("name: tiny\ncohort: [unclosed\n");
        assertTrue(error.problems().get(0).contains("(line 3)") || error.problems().get(0).contains("(line 2)"),
                error.problems().get(0));
    }

    @Test
    void shippedProtocolsAreValid() throws Exception {
        Files.createDirectories(Path.of("target", "demo", "phantom"));
        assertEquals("demo", ProtocolLoader.load(Path.of("protocols", "demo.yaml"), null).name());
        assertEquals("eyepacs-v2s", ProtocolLoader.load(Path.of("protocols", "eyepacs-v2s.yaml"), ROOT.resolve("data")).name());
    }
}
