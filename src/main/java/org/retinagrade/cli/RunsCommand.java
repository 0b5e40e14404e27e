package org.retinagrade.cli;

import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code retinagrade runs [RUN]}: list runs with status and headline metrics, or one run's metrics per epoch. */
@Command(name = "runs", mixinStandardHelpOptions = true, description = {"List runs with status, cohort and headline metrics.",
    "With RUN: that run's status, error and training metrics per epoch, as stored in the database. The kappa and AUC of"
            + " the listing are test (or validation) metrics of the evaluation, so they appear once a run is evaluated."})
public class RunsCommand implements Callable<Integer>, DatabaseCommand {

    @Inject
    RunList list;

    @Parameters(index = "0", arity = "0..1", paramLabel = "RUN", description = "Run id to show per epoch.")
    Long run;

    @Override
    public Integer call() {
        if (run != null) {
            return showRun(run);
        }
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

    private int showRun(long runId) {
        Object[] run = list.run(runId);
        if (run == null) {
            System.err.println("retinagrade runs: run " + runId + " not found; `retinagrade runs` lists runs");
            return 2;
        }
        System.out.printf("run %d: %s, started %s, finished %s%n", runId, run[0], run[1] == null ? "-" : run[1],
                run[2] == null ? "-" : run[2]);
        if (run[3] != null) {
            System.out.println("error: " + run[3]);
        }
        List<Object[]> epochs = list.epochs(runId);
        if (epochs.isEmpty()) {
            System.out.println("no finished epoch stored");
            return 0;
        }
        System.out.printf("%5s  %10s  %14s  %16s  %8s  %13s  %10s%n", "epoch", "train loss", "validation NLL",
                "validation kappa", "accuracy", "learning rate", "images/s");
        for (Object[] row : epochs) {
            System.out.printf(Locale.ROOT, "%5d  %10s  %14s  %16s  %8s  %13s  %10s%n", ((Number) row[0]).intValue(),
                    number(row[1]), number(row[2]), number(row[3]), number(row[4]),
                    row[5] == null ? "-" : String.format(Locale.ROOT, "%.2e", ((Number) row[5]).doubleValue()),
                    row[6] == null ? "-" : String.format(Locale.ROOT, "%.1f", ((Number) row[6]).doubleValue()));
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

        /** Returns status, start, end and error of a run, or null when there is no such run. */
        @Transactional
        @SuppressWarnings("unchecked")
        public Object[] run(long runId) {
            List<Object[]> rows = entityManager.createNativeQuery("SELECT status, to_char(started_at, 'YYYY-MM-DD HH24:MI:SS'),"
                    + " to_char(finished_at, 'YYYY-MM-DD HH24:MI:SS'), error FROM run WHERE id = ?1")
                    .setParameter(1, runId).getResultList();
            return rows.isEmpty() ? null : rows.get(0);
        }

        /** Returns one row per stored epoch: epoch, then the training metrics in the order of the table. */
        @Transactional
        @SuppressWarnings("unchecked")
        public List<Object[]> epochs(long runId) {
            return entityManager.createNativeQuery("SELECT epoch,"
                    + " max(value) FILTER (WHERE name = 'train_loss'), max(value) FILTER (WHERE name = 'validation_nll'),"
                    + " max(value) FILTER (WHERE name = 'validation_quadratic_kappa'),"
                    + " max(value) FILTER (WHERE name = 'validation_accuracy'), max(value) FILTER (WHERE name = 'learning_rate'),"
                    + " max(value) FILTER (WHERE name = 'images_per_second')"
                    + " FROM run_metric WHERE run_id = ?1 AND epoch IS NOT NULL AND subgroup = '' GROUP BY epoch ORDER BY epoch")
                    .setParameter(1, runId).getResultList();
        }
    }
}
