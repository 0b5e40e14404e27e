package org.retinagrade.cli;

import jakarta.inject.Inject;
import java.util.concurrent.Callable;
import org.retinagrade.audit.AuditEvent;
import org.retinagrade.audit.AuditTrail;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retinagrade audit verify|log}. */
@Command(name = "audit", description = "Inspect and verify the hash-chained audit trail.", mixinStandardHelpOptions = true,
        subcommands = {AuditCommand.Verify.class, AuditCommand.Log.class})
public class AuditCommand {

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Walk the audit chain and report the first broken link. Exit status 0 when intact, 1 when broken.")
    static class Verify implements Callable<Integer>, DatabaseCommand {

        @Inject
        AuditTrail auditTrail;

        @Override
        public Integer call() {
            AuditTrail.Verification result = auditTrail.verify();
            if (result.intact()) {
                System.out.println("audit chain intact: " + result.eventsChecked() + " events verified");
                return 0;
            }
            System.out.println("audit chain broken at event " + result.firstBrokenId().get() + ": " + result.problem()
                    + " (" + result.eventsChecked() + " events before it verified)");
            return 1;
        }
    }

    @Command(name = "log", description = "Print the most recent audit events, oldest first.", mixinStandardHelpOptions = true)
    static class Log implements Callable<Integer>, DatabaseCommand {

        @Option(names = "--limit", defaultValue = "20", description = "Number of events to print (default: ${DEFAULT-VALUE}).")
        int limit;

        @Inject
        AuditTrail auditTrail;

        @Override
        public Integer call() {
            if (limit < 1) {
                System.err.println("retinagrade audit log: invalid --limit " + limit + ": expected 1 or more");
                return 2;
            }
            for (AuditEvent e : auditTrail.latest(limit)) {
                System.out.printf("%6d %s %-12s %-22s %s %s %s%n", e.id, e.occurredAt, e.actor, e.action, e.entity,
                        e.entityId == null ? "-" : e.entityId, e.details);
            }
            return 0;
        }
    }
}
