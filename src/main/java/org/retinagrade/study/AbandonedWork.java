package org.retinagrade.study;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.retinagrade.audit.AuditTrail;
import org.retinagrade.ingest.IngestJob;

/**
 * Runs and ingest jobs left "running" by a process that ended without finishing them
 * (kill -9, a crash, a second Ctrl-C). Only one process at a time can use the embedded
 * database, so at start-up with it nothing else can be running them, and they are marked
 * interrupted. With a shared server ({@code DB_URL}) another process may be running them,
 * so they are left as they are.
 */
@ApplicationScoped
public class AbandonedWork {

    /** System property that the launcher sets when this process has the embedded database to itself. */
    public static final String EXCLUSIVE_DATABASE = "retinagrade.database.exclusive";

    static final String REASON = "the process that ran it ended without finishing it (killed or crashed); --resume continues it";

    private static final Logger LOG = Logger.getLogger(AbandonedWork.class);

    @Inject
    AuditTrail auditTrail;

    void onStart(@Observes StartupEvent event) {
        if (Boolean.getBoolean(EXCLUSIVE_DATABASE)) {
            markInterrupted();
        }
    }

    /** Marks every running run and ingest job interrupted and returns how many it marked. */
    @Transactional
    public int markInterrupted() {
        List<Run> runs = Run.list("status", "running");
        for (Run run : runs) {
            run.status = "interrupted";
            run.error = REASON;
            run.finishedAt = Instant.now();
            auditTrail.append("retinagrade", "run.finished", "run", run.id, Map.of("status", "interrupted", "reason", REASON));
            LOG.warnf("run %d was left running by a process that ended; marked interrupted (continue with --resume)", run.id);
        }
        List<IngestJob> jobs = IngestJob.list("status", "running");
        for (IngestJob job : jobs) {
            job.status = "interrupted";
            job.finishedAt = Instant.now();
            auditTrail.append("retinagrade", "ingest.interrupted", "ingest_job", job.id, Map.of("reason", REASON));
            LOG.warnf("ingest job %d was left running by a process that ended; marked interrupted (%s)", job.id,
                    job.kind.equals("folder") || job.kind.equals("csv") ? "re-run ingest folder, which skips what is stored"
                            : "continue with retinagrade ingest resume " + job.id);
        }
        return runs.size() + jobs.size();
    }
}
