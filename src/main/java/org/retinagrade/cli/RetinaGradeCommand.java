package org.retinagrade.cli;

import picocli.CommandLine.Command;

/** The {@code retinagrade} command and its subcommands. */
@Command(name = "retinagrade", mixinStandardHelpOptions = true, version = "RetinaGrade 0.1.0",
        description = "Diabetic-retinopathy grading research platform: ingest fundus photographs, run study"
                + " protocols (split, train, evaluate, report), manage cohorts, audit every change.",
        subcommands = {
            RunCommand.class,
            RerunCommand.class,
            RunsCommand.class,
            IngestCommand.class,
            CohortCommand.class,
            TrainCommand.class,
            ModelCommand.class,
            EvaluateCommand.class,
            ReportCommand.class,
            BenchCommand.class,
            AuditCommand.class,
            PhantomCommand.class,
            DicomCommand.class,
            PacsCommand.class,
            AugmentCommand.class,
            ServeCommand.class,
            picocli.CommandLine.HelpCommand.class
        })
public class RetinaGradeCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
