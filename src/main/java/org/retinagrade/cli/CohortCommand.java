package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.retinagrade.study.CohortService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code retinagrade cohort list|show}. */
@Command(name = "cohort", description = "Create, list and inspect cohorts.", mixinStandardHelpOptions = true,
        subcommands = {CohortCommand.Create.class, CohortCommand.ListCohorts.class, CohortCommand.Show.class})
public class CohortCommand {

    @Command(name = "create", description = "Create an empty cohort; `ingest folder` and `run` add images to it.",
            mixinStandardHelpOptions = true)
    static class Create implements Callable<Integer>, DatabaseCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "Cohort name: letters, digits, dots, underscores, hyphens.")
        String name;

        @picocli.CommandLine.Option(names = "--actor", defaultValue = "${sys:user.name}",
                description = "Name recorded in the audit trail (default: the OS user).")
        String actor;

        @Inject
        CohortService service;

        @Override
        public Integer call() {
            if (service.summary(name).isPresent()) {
                System.err.println("retinagrade cohort create: cohort '" + name + "' already exists");
                return 2;
            }
            try {
                service.findOrCreate(name, actor);
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade cohort create: " + e.getMessage());
                return 2;
            }
            System.out.println("created cohort " + name);
            return 0;
        }
    }

    @Command(name = "list", description = "List cohorts with their member counts.", mixinStandardHelpOptions = true)
    static class ListCohorts implements Callable<Integer>, DatabaseCommand {

        @Inject
        CohortService service;

        @Override
        public Integer call() {
            List<CohortService.Summary> summaries = service.summaries();
            if (summaries.isEmpty()) {
                System.out.println("no cohorts yet; create one with: retinagrade ingest folder DIR --cohort NAME");
                return 0;
            }
            System.out.printf("%-24s %8s %8s  %s%n", "cohort", "images", "patients", "per grade 0/1/2/3/4/unlabelled");
            for (CohortService.Summary s : summaries) {
                System.out.printf("%-24s %8d %8d  %s%n", s.name(), s.members(), s.patients(), joinCounts(s.perGrade()));
            }
            return 0;
        }
    }

    @Command(name = "show", description = "Show a cohort's counts per grade, split and laterality.", mixinStandardHelpOptions = true)
    static class Show implements Callable<Integer>, DatabaseCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "Cohort name.")
        String name;

        @Inject
        CohortService service;

        @Override
        public Integer call() {
            Optional<CohortService.Summary> summary = service.summary(name);
            if (summary.isEmpty()) {
                System.err.println("retinagrade cohort show: cohort '" + name + "' not found; `retinagrade cohort list` lists cohorts");
                return 2;
            }
            print(summary.get());
            return 0;
        }
    }

    static void print(CohortService.Summary s) {
        System.out.println("cohort " + s.name());
        System.out.println("  images:     " + s.members());
        System.out.println("  patients:   " + s.patients());
        System.out.println("  per grade:  " + formatCounts(s.perGrade()));
        System.out.println("  per split:  " + formatCounts(s.perSplit()));
        System.out.println("  laterality: " + formatCounts(s.perLaterality()));
    }

    private static String formatCounts(Map<String, Long> counts) {
        if (counts.isEmpty()) {
            return "none";
        }
        StringBuilder text = new StringBuilder();
        counts.forEach((key, count) -> text.append(text.isEmpty() ? "" : ", ").append(key).append(" ").append(count));
        return text.toString();
    }

    private static String joinCounts(Map<String, Long> counts) {
        return String.join("/", counts.values().stream().map(String::valueOf).toList());
    }
}
