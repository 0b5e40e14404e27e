package org.retinagrade.training;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * A request to stop training, made by Ctrl-C (SIGINT) or SIGTERM once a command has called
 * {@link #install}. The training loop checks it before each step and stops with
 * {@link GraderTrainer.Interrupted}, so the command can mark the run interrupted and print how
 * to resume it. A second signal does what the signal would have done without the handler:
 * the JVM shuts down at once.
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
            SignalHandler[] previous = new SignalHandler[1];
            previous[0] = Signal.handle(signal, received -> {
                if (REQUESTED.compareAndSet(false, true)) {
                    messages.printf("%nstop requested (SIG%s): training stops before its next step;"
                            + " send it again to exit at once%n", name);
                    return;
                }
                try {
                    previous[0].handle(received);
                } catch (UnsupportedOperationException e) {
                    // The previous handler was the operating system's default, which Java cannot call.
                    System.exit(128 + received.getNumber());
                }
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
