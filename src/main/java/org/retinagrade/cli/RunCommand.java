package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.retinagrade.study.ProtocolException;
import org.retinagrade.study.ProtocolLoader;
import org.retinagrade.study.StudyProtocol;
import org.retinagrade.study.StudyRunner;
import org.retinagrade.training.GraderTrainer;
import org.retinagrade.training.StopRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code retinagrade run PROTOCOL [--data DIR]} and {@code retinagrade run --resume RUN_ID}. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {
            "Run a study protocol end to end: ingest the data folder into the cohort, assign the patient-level split,"
                    + " train, evaluate with test-time augmentation and write reports/<run-id>/. The protocol is checked"
                    + " against protocols/protocol.schema.json before anything is written.",
            "Ctrl-C (or SIGTERM) stops training before its next step and leaves the run interrupted, to be continued"
                    + " with --resume; a second Ctrl-C exits at once.",
            "Exit status: 0 on success, 2 for an invalid protocol or arguments, 1 when a stage failed, 130 when training"
                    + " was stopped."
        })
public class RunCommand implements Callable<Integer>, DatabaseCommand {

    @Parameters(index = "0", arity = "0..1", paramLabel = "PROTOCOL", description = "Protocol YAML file, such as protocols/demo.yaml.")
    Path protocolFile;

    @Option(names = "--data", paramLabel = "DIR", description = "Data folder; replaces cohort.source.path of the protocol.")
    Path data;

    @Option(names = "--resume", paramLabel = "RUN_ID", description = "Continue this stopped run from its last checkpoint.")
    Long resume;

    @Option(names = "--actor", defaultValue = "${sys:user.name}", description = "Name recorded in the audit trail (default: the OS user).")
    String actor;

    @Inject
    StudyRunner runner;

    @Override
    public Integer call() {
        StopRequest.install(System.err);
        try {
            StudyRunner.Result result;
            if (resume != null) {
                if (protocolFile != null) {
                    throw new IllegalArgumentException("give either PROTOCOL or --resume RUN_ID, not both");
                }
                result = runner.resume(resume, actor, System.err);
            } else {
                if (protocolFile == null) {
                    throw new IllegalArgumentException("missing PROTOCOL (or --resume RUN_ID)");
                }
                StudyProtocol protocol = ProtocolLoader.load(protocolFile, data);
                result = runner.run(protocol, actor, System.err);
            }
            System.out.printf(Locale.ROOT, "run %d succeeded: quadratic kappa %s, referable AUC %s; report %s%n", result.runId(),
                    EvaluateCommand.format(result.metrics().get("quadratic_kappa")).replaceFirst("^quadratic_kappa\\s+", "").trim(),
                    EvaluateCommand.format(result.metrics().get("referable_auc")).replaceFirst("^referable_auc\\s+", "").trim(),
                    result.reportFolder() == null ? "disabled" : result.reportFolder().resolve("report.html"));
            return 0;
        } catch (ProtocolException e) {
            System.err.println("retinagrade run: " + e.getMessage());
            return 2;
        } catch (GraderTrainer.Interrupted e) {
            System.err.println("retinagrade run: " + e.getMessage());
            return 130;
        } catch (IllegalArgumentException e) {
            System.err.println("retinagrade run: " + e.getMessage());
            return 2;
        } catch (IOException | RuntimeException e) {
            System.err.println("retinagrade run: failed: " + e);
            return 1;
        }
    }
}
