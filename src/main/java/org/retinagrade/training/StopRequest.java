package org.retinagrade.training;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * A request to stop training, made by Ctrl-C (SIGINT) or SIGTERM once a command has called
 * {@link #install}. The training loop checks it before each step and stops with
 * {@link GraderTrainer.Interrupted}, so the command can mark the run interrupted and print how
 * to resume it. A second signal exits at once with status 130: shutdown hooks still stop the
 * embedded database, but the run stays marked running, as after a kill, until the next start
 * marks it interrupted ({@code AbandonedWork}).
 */
public final class StopRequest {

    private static final AtomicBoolean REQUESTED = new AtomicBoolean();
    private static boolean installed;

    private StopRequest() {
    }

    /** Installs the handlers for SIGINT and SIGTERM. Later calls do nothing. */
    public static synchronized void install(PrintStream messages) {
        if (installed) {
            return;
        }
        installed = true;
        for (String name : new String[] {"INT", "TERM"}) {
            Signal signal = new Signal(name);
            Signal.handle(signal, received -> {
                if (REQUESTED.compareAndSet(false, true)) {
                    messages.printf("%nstop requested (SIG%s): training stops before its next step;"
                            + " send it again to exit at once%n", name);
                    return;
                }
                messages.printf("%nsecond stop request (SIG%s): exiting at once; --resume continues the run from its"
                        + " last checkpoint%n", name);
                // The training thread keeps running while the application shuts down, so its errors
                // from then on are noise. Output is silenced before the exit.
                PrintStream silent = new PrintStream(OutputStream.nullOutputStream());
                System.setOut(silent);
                System.setErr(silent);
                System.exit(130);
            });
        }
    }

    /** Returns whether a stop has been requested. */
    public static boolean requested() {
        return REQUESTED.get();
    }

    /** Makes or clears a request, as a signal would (for tests). */
    static void set(boolean requested) {
        REQUESTED.set(requested);
    }
}
