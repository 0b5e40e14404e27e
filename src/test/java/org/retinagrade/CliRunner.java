package org.retinagrade;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.retinagrade.cli.RetinaGradeCommand;
import picocli.CommandLine;

/** Runs a {@code retinagrade} command inside the test application and captures what it prints. */
public final class CliRunner {

    private CliRunner() {
    }

    public record Result(int exitCode, String out, String err) {
    }

    public static synchronized Result run(CommandLine.IFactory factory, String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = new CommandLine(RetinaGradeCommand.class, factory).execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
            originalOut.print(out.toString(StandardCharsets.UTF_8));
            originalErr.print(err.toString(StandardCharsets.UTF_8));
        }
    }
}
