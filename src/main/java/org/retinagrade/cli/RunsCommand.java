package org.retinagrade.cli;

import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code retinagrade runs}: list runs with status and headline metrics. */
@Command(name = "runs", mixinStandardHelpOptions = true, description = "List runs with status, cohort and headline metrics.")
public class RunsCommand implements Callable<Integer>, DatabaseCommand {

    @Inject
    RunList list;

    @Override
    public Integer call() {
        List<Object[]> rows = list.rows();
        if (rows.isEmpty()) {
            System.out.println("no runs yet; start one with: retinagrade run protocols/demo.yaml");
            return 0;
        }
        System.out.printf("%5s  %-11s  %-20s  %-16s  %6s  %-9s  %-9s  %s%n", "run", "status", "protocol", "cohort", "epochs",
                "kappa", "AUC", "started");
        for (Object[] row : rows) {
            System.out.printf(Locale.ROOT, "%5d  %-11s  %-20s  %-16s  %6s  %-9s  %-9s  %s%n", ((Number) row[0]).longValue(),
                    row[1], row[2] == null ? "(train)" : row[2], row[3], row[4] == null ? "0" : row[4], number(row[5]),
                    number(row[6]), row[7]);
        }
        return 0;
    }

    private static String number(Object value) {
        return value == null ? "-" : String.format(Locale.ROOT, "%.4f", ((Number) value).doubleValue());
    }

    /** The query behind the listing. */
    @jakarta.enterprise.context.ApplicationScoped
    public static class RunList {

        @Inject
        EntityManager entityManager;

        @Transactional
        @SuppressWarnings("unchecked")
        public List<Object[]> rows() {
            return entityManager.createNativeQuery("SELECT r.id, r.status, p.name, c.name,"
                    + " (SELECT max(epoch) FROM run_metric m WHERE m.run_id = r.id),"
                    + " (SELECT value FROM run_metric m WHERE m.run_id = r.id AND m.epoch IS NULL AND m.subgroup = ''"
                    + "  AND m.name = 'quadratic_kappa'),"
                    + " (SELECT value FROM run_metric m WHERE m.run_id = r.id AND m.epoch IS NULL AND m.subgroup = ''"
                    + "  AND m.name = 'referable_auc'),"
                    + " to_char(r.started_at, 'YYYY-MM-DD HH24:MI') FROM run r LEFT JOIN protocol p ON p.id = r.protocol_id"
                    + " LEFT JOIN cohort c ON c.id = r.cohort_id ORDER BY r.id").getResultList();
        }
    }
}
