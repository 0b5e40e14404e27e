package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.retinagrade.report.ReportService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retinagrade report --run RUN}. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write reports/<run-id>/ for an evaluated run: report.html (self-contained), report.pdf,"
                + " metrics.json and predictions.csv."})
public class ReportCommand implements Callable<Integer>, DatabaseCommand {

    @Option(names = "--run", required = true, description = "Run id, evaluated with `retinagrade evaluate` first.")
    long run;

    @Inject
    ReportService service;

    @Override
    public Integer call() {
        try {
            Path folder = service.write(run);
            System.out.println("wrote " + folder.resolve("report.html") + ", report.pdf, metrics.json and predictions.csv");
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("retinagrade report: " + e.getMessage());
            return 2;
        } catch (java.io.IOException e) {
            System.err.println("retinagrade report: " + e.getMessage());
            return 1;
        }
    }
}
