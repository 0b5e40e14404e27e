package org.retinagrade.db;

import java.nio.file.Path;

/** Starts the embedded server on the data directory in args[0], prints "started" and waits to be killed. */
public final class HoldDatabaseMain {

    private HoldDatabaseMain() {
    }

    public static void main(String[] args) throws Exception {
        EmbeddedDatabase.start(Path.of(args[0]));
        System.out.println("started");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
