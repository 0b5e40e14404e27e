package org.retinagrade.pacs;

import com.pixelmed.network.AnyExplicitStorePresentationContextSelectionPolicy;
import com.pixelmed.network.ReceivedObjectHandler;
import com.pixelmed.network.StorageSOPClassSCP;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * DICOM C-STORE SCP that accepts associations on a port. Every connection gets TCP_NODELAY,
 * because on loopback Nagle's algorithm combined with delayed ACKs would cap transfers at about
 * 11 instances per second. Each received file goes to a consumer before the C-STORE response is
 * sent, so an instance is acknowledged only after the consumer returns. PixelMed's
 * {@link StorageSOPClassSCP} implements the protocol and accepts every storage SOP class in any
 * explicit or compressed transfer syntax offered.
 */
public final class StorageReceiver implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(StorageReceiver.class);

    private final ServerSocket server;
    private final String aeTitle;
    private final Path incoming;
    private final int timeoutMillis;
    private final BiConsumer<Path, String> consumer;
    private final ExecutorService associations = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "dicom-association");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong associationCount = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger handingOver = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.Set<Socket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closed;

    /**
     * Starts listening. {@code consumer} receives each file (in {@code incoming}, which it may
     * move or delete) and the calling AE title. An exception from it makes the C-STORE fail.
     */
    public StorageReceiver(String bindHost, int port, String aeTitle, Path incoming, int timeoutSeconds,
            BiConsumer<Path, String> consumer) throws IOException {
        this.aeTitle = aeTitle;
        this.incoming = incoming;
        this.timeoutMillis = timeoutSeconds * 1000;
        this.consumer = consumer;
        Files.createDirectories(incoming);
        server = new ServerSocket();
        server.setReuseAddress(true);
        try {
            server.bind(new InetSocketAddress(InetAddress.getByName(bindHost), port));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen for DICOM on " + bindHost + ":" + port + " (" + e.getMessage()
                    + "); choose another port with --listen-port, stop what uses it, or check the address", e);
        }
        acceptor = new Thread(this::acceptLoop, "dicom-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.infof("DICOM C-STORE SCP %s listening on %s:%d", aeTitle, bindHost, server.getLocalPort());
    }

    public int port() {
        return server.getLocalPort();
    }

    public String aeTitle() {
        return aeTitle;
    }

    /** Returns the number of instances received and handed over so far. */
    public long received() {
        return received.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (SocketException e) {
                if (!closed) {
                    LOG.errorf("DICOM listener stopped: %s", e.getMessage());
                }
                return;
            } catch (IOException e) {
                LOG.warnf("DICOM listener: accept failed: %s", e.getMessage());
                continue;
            }
            associations.submit(() -> serve(socket));
        }
    }

    private void serve(Socket socket) {
        open.add(socket);
        Path folder = null;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(timeoutMillis);
            ReceivedObjectHandler handler = new ReceivedObjectHandler() {
                @Override
                public void sendReceivedObjectIndication(String fileName, String transferSyntax, String callingAeTitle) {
                    handingOver.incrementAndGet();
                    try {
                        received.incrementAndGet();
                        consumer.accept(Path.of(fileName), callingAeTitle);
                    } finally {
                        handingOver.decrementAndGet();
                    }
                }
            };
            // Each association writes into a folder of its own: files are named by SOP Instance UID,
            // and two senders may send the same instance at the same time.
            folder = Files.createDirectories(incoming.resolve("association-" + associationCount.incrementAndGet()));
            new StorageSOPClassSCP(socket, aeTitle, 65536, 0, 0, folder.toFile(),
                    com.pixelmed.dicom.StoredFilePathStrategy.BYSOPINSTANCEUIDINSINGLEFOLDER, handler, null, null, null, null,
                    new AnyExplicitStorePresentationContextSelectionPolicy()).run();
        } catch (Exception e) {
            LOG.warnf("DICOM association from %s failed: %s", socket.getRemoteSocketAddress(), e.getMessage());
        } finally {
            open.remove(socket);
            removeIfEmpty(folder);
            try {
                socket.close();
            } catch (IOException e) {
                LOG.debugf("closing DICOM socket: %s", e.getMessage());
            }
        }
    }

    /**
     * Stops accepting and closes the connections still open, because a peer may keep an idle
     * association cached. Then waits up to 30 s for files being handed over, which are not
     * interrupted, and stops the association threads (PixelMed keeps a released association's
     * thread waiting out its ARTIM timer, about 5 s, before it closes the connection).
     */
    private static void removeIfEmpty(Path folder) {
        if (folder == null) {
            return;
        }
        try {
            Files.deleteIfExists(folder);
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            LOG.debugf("keeping %s: it still contains received files", folder);
        } catch (IOException e) {
            LOG.debugf("cannot remove %s: %s", folder, e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket socket : open) {
            socket.close();
        }
        associations.shutdown();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        try {
            int quiet = 0;
            while (quiet < 2 && System.nanoTime() < deadline && !associations.isTerminated()) {
                quiet = handingOver.get() == 0 ? quiet + 1 : 0;
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (handingOver.get() > 0) {
            LOG.warnf("DICOM listener: %d received files were still being handed over after 30 s", handingOver.get());
        }
        associations.shutdownNow();
    }
}
