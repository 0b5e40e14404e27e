package org.retinagrade.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.retinagrade.CliRunner;
import org.retinagrade.TestDatabase;
import org.retinagrade.imaging.FundusPhantom;
import picocli.CommandLine;

/** Train, evaluate and report on a phantom cohort, then open the report in headless Chromium and the PDF with pdftoppm. */
@QuarkusTest
@QuarkusTestResource(TestDatabase.class)
class EvaluateAndReportTest {

    private static final Path OUT = Path.of("target", "report-test").toAbsolutePath();

    @Inject
    CommandLine.IFactory factory;

    @Test
    void evaluateThenReportWritesAllFiles() throws Exception {
        TestDatabase.deleteRecursively(OUT);
        new FundusPhantom(80).writeStudy(OUT.resolve("phantom"), 6, 51);
        assertEquals(0, CliRunner.run(factory, "ingest", "folder", OUT.resolve("phantom").toString(), "--cohort", "report-test",
                "--study", "report-test").exitCode());
        CliRunner.Result train = CliRunner.run(factory, "train", "--cohort", "report-test", "--resolution", "64", "--epochs", "2",
                "--batch-size", "4", "--augment", "none", "--validation-fraction", "0.4");
        assertEquals(0, train.exitCode(), train.err());
        String runId = train.out().replaceAll("(?s).*run (\\d+) succeeded.*", "$1");

        CliRunner.Result evaluate = CliRunner.run(factory, "evaluate", "--run", runId, "--tta", "identity,hflip,rot90",
                "--bootstrap", "200");
        assertEquals(0, evaluate.exitCode(), evaluate.err());
        assertTrue(evaluate.out().contains("quadratic_kappa"), evaluate.out());

        CliRunner.Result report = CliRunner.run(factory, "report", "--run", runId);
        assertEquals(0, report.exitCode(), report.err());
        Path folder = TestDatabase.WORKSPACE.resolve("reports").resolve(runId);
        for (String file : List.of("report.html", "report.pdf", "metrics.json", "predictions.csv")) {
            assertTrue(Files.size(folder.resolve(file)) > 0, file + " missing or empty");
        }

        JsonNode metrics = new ObjectMapper().readTree(folder.resolve("metrics.json").toFile());
        JsonNode accuracy = metrics.get("metrics").get("all").get("accuracy");
        assertTrue(accuracy.get("value").asDouble() >= 0, "accuracy below 0");
        assertTrue(accuracy.get("value").asDouble() <= 1, "accuracy above 1");
        assertTrue(accuracy.get("ci_low").asDouble() <= accuracy.get("value").asDouble());
        List<String> csv = Files.readAllLines(folder.resolve("predictions.csv"));
        assertTrue(csv.get(0).contains("rot90_p4"), csv.get(0));
        int predictions = csv.size() - 1;
        assertTrue(predictions > 0);
        long confusionTotal = 0;
        for (JsonNode row : metrics.get("confusion_matrix_rows_reference_columns_predicted")) {
            for (JsonNode cell : row) {
                confusionTotal += cell.asLong();
            }
        }
        assertEquals(predictions, confusionTotal, "confusion matrix and predictions.csv disagree");
        String html = Files.readString(folder.resolve("report.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("Reporting checklist"), "checklist section missing");
        assertTrue(html.contains("data:image/png;base64"), "inline charts missing");

        openInChromium(folder.resolve("report.html"));
        convertPdf(folder.resolve("report.pdf"));
    }

    /** Loads the page in headless Chromium and fails on any console message; a page with a script error proves the check works. */
    private static void openInChromium(Path html) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/chromium")), "skipped: /usr/bin/chromium is absent; run make setup");
        Path broken = OUT.resolve("broken.html");
        Files.writeString(broken, "<html><body><script>missingFunction();</script></body></html>");
        assertTrue(consoleMessages(broken, OUT.resolve("broken.png")).contains("missingFunction"),
                "the console check did not see a deliberate script error");

        Path screenshot = Path.of("target", "report-screenshot.png").toAbsolutePath();
        String console = consoleMessages(html, screenshot);
        assertEquals("", console, "console messages while opening the report");
        assertTrue(Files.size(screenshot) > 10_000, "screenshot " + screenshot + " is nearly empty");
        System.out.println("report screenshot: " + screenshot);
    }

    private static String consoleMessages(Path html, Path screenshot) throws Exception {
        Path profile = Files.createTempDirectory(OUT, "chromium-profile");
        Process process = new ProcessBuilder("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=1", "--window-size=1200,4000",
                "--screenshot=" + screenshot, html.toUri().toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
        StringBuilder console = new StringBuilder();
        for (String line : output.split("\n")) {
            if (line.contains(":CONSOLE")) {
                console.append(line).append('\n');
            }
        }
        return console.toString();
    }

    private static void convertPdf(Path pdf) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/pdftoppm")), "skipped: pdftoppm is absent; run make setup");
        Path prefix = Path.of("target", "report-pdf-page").toAbsolutePath();
        Process process = new ProcessBuilder("/usr/bin/pdftoppm", "-r", "40", "-png", pdf.toString(), prefix.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "pdftoppm did not finish");
        assertEquals(0, process.exitValue(), output);
        long pages = Files.list(prefix.getParent()).filter(p -> p.getFileName().toString().startsWith("report-pdf-page")).count();
        assertEquals(5, pages, "PDF pages");
        System.out.println("report PDF pages: " + prefix + "-*.png");
    }
}
