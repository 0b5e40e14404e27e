package org.retinagrade.pacs;

import com.pixelmed.dicom.DicomException;
import com.pixelmed.network.AnyExplicitStorePresentationContextSelectionPolicy;
import com.pixelmed.network.Association;
import com.pixelmed.network.AssociationFactory;
import com.pixelmed.network.DicomNetworkException;
import com.pixelmed.network.ResponseStatus;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.StandardOpenOption;
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
 * sent, so an instance is acknowledged only after the consumer returns. PixelMed negotiates the
 * association and accepts every storage SOP class in any explicit or compressed transfer syntax
 * offered. The messages that follow are read and handled here.
 *
 * <p>Data sets are received into direct buffers, which count against the JVM's direct memory
 * limit (by default the maximum heap size) on top of the heap: one per association, and up to
 * four more queued for the writer thread during a retrieve.
 */
public final class StorageReceiver implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(StorageReceiver.class);
    /**
     * The largest PDU we accept. Senders split each data set into PDUs of at most this size, and
     * 256 KiB in place of 64 KiB received about 15 % faster from Orthanc here (measured 2026-12-05).
     */
    private static final int MAX_PDU_LENGTH = 256 * 1024;
    /** The largest data set accepted in one C-STORE, as for files found in a folder. */
    private static final long MAX_DATA_SET_BYTES = org.retinagrade.ingest.FolderIngestService.MAX_FILE_BYTES;
    private static final byte PDU_DATA = 0x04;
    private static final byte PDU_RELEASE_RQ = 0x05;
    private static final byte PDU_RELEASE_RP = 0x06;
    private static final byte PDU_ABORT = 0x07;
    /** Data sets that may wait for the writer thread at once. */
    private static final int WRITER_BUFFERS = 4;
    /** A buffer that grew beyond this is dropped after use rather than kept for the next data set. */
    private static final int KEPT_BUFFER_BYTES = 64 << 20;
    /**
     * Data sets larger than this are written to their file fragment by fragment as they arrive,
     * while each fragment is still in the CPU cache. Six full-resolution fundus photographs of
     * about 35 MB each took about twice dcmtk's time when buffered whole and then written, and
     * about the same time when written as they arrived (C-MOVE from Orthanc, 2 cores).
     */
    private static final int STREAM_BYTES = 4 << 20;
    /** C-STORE status "Refused: Out of Resources". */
    private static final int OUT_OF_RESOURCES = 0xA700;

    private final ServerSocketChannel server;
    private final String aeTitle;
    private final Path incoming;
    private final int timeoutMillis;
    private final Handler consumer;
    private final ExecutorService associations = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "dicom-association");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong associationCount = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger handingOver = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.Set<Connection> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The thread that writes and hands over files acknowledged on receipt, or null. */
    private final ExecutorService writer;
    /** Free data set buffers for acknowledged instances. When none is free, the association waits for the writer. */
    private final java.util.concurrent.BlockingQueue<ByteBuffer> buffers = new java.util.concurrent.ArrayBlockingQueue<>(WRITER_BUFFERS);
    private final Thread acceptor;
    /** The thread that closes connections whose read or write has waited longer than the timeout. */
    private final Thread watchdog;
    private volatile boolean closed;
    private volatile java.util.Set<String> acceptedCallers = java.util.Set.of();

    /**
     * Starts listening. {@code consumer} receives each file (in {@code incoming}, which it may
     * move or delete) and the calling AE title, and each instance is acknowledged only after the
     * consumer returns. An exception from the consumer aborts the association.
     */
    public StorageReceiver(String bindHost, int port, String aeTitle, Path incoming, int timeoutSeconds,
            BiConsumer<Path, String> consumer) throws IOException {
        this(bindHost, port, aeTitle, incoming, timeoutSeconds, consumer, false);
    }

    /** Receives a written file with the calling AE title and returns the status of the C-STORE response. */
    @FunctionalInterface
    public interface Handler {

        /** Handles the file (which it may move or delete) and returns the status, {@code 0x0000} for success. */
        int handle(Path file, String caller);
    }

    /**
     * Starts listening. Each instance is acknowledged only after the handler returns, with the
     * status it returns. An exception from the handler aborts the association.
     */
    public StorageReceiver(String bindHost, int port, String aeTitle, Path incoming, int timeoutSeconds, Handler handler)
            throws IOException {
        this(bindHost, port, aeTitle, incoming, timeoutSeconds, handler, false);
    }

    /**
     * Starts listening. With {@code acknowledgeOnReceipt}, an instance is acknowledged as soon
     * as its data set has arrived, and one writer thread writes the file and calls the consumer
     * while the sender goes on. Use it only where an instance that is acknowledged but not yet
     * stored can be requested again, as in a retrieve whose job items stay pending until stored.
     * A file that then fails to be written is logged and never reaches the consumer.
     */
    public StorageReceiver(String bindHost, int port, String aeTitle, Path incoming, int timeoutSeconds,
            BiConsumer<Path, String> consumer, boolean acknowledgeOnReceipt) throws IOException {
        this(bindHost, port, aeTitle, incoming, timeoutSeconds, (file, caller) -> {
            consumer.accept(file, caller);
            return ResponseStatus.Success;
        }, acknowledgeOnReceipt);
    }

    private StorageReceiver(String bindHost, int port, String aeTitle, Path incoming, int timeoutSeconds, Handler consumer,
            boolean acknowledgeOnReceipt) throws IOException {
        this.writer = acknowledgeOnReceipt ? Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "dicom-writer");
            thread.setDaemon(true);
            return thread;
        }) : null;
        for (int i = 0; acknowledgeOnReceipt && i < WRITER_BUFFERS; i++) {
            buffers.add(ByteBuffer.allocateDirect(1 << 20));
        }
        this.aeTitle = aeTitle;
        this.incoming = incoming;
        this.timeoutMillis = timeoutSeconds * 1000;
        this.consumer = consumer;
        Files.createDirectories(incoming);
        server = ServerSocketChannel.open();
        server.socket().setReuseAddress(true);
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
        watchdog = new Thread(this::watchTimeouts, "dicom-timeouts");
        watchdog.setDaemon(true);
        watchdog.start();
        LOG.infof("DICOM C-STORE SCP %s listening on %s:%d", aeTitle, bindHost, port());
    }

    public int port() {
        return server.socket().getLocalPort();
    }

    /**
     * Accepts associations only from these calling AE titles (all when the set is empty). Any
     * other caller's association request is rejected (A-ASSOCIATE-RJ), so no data is sent.
     */
    public void acceptOnly(java.util.Set<String> callers) {
        acceptedCallers = java.util.Set.copyOf(callers);
    }

    public String aeTitle() {
        return aeTitle;
    }

    /** Returns the number of instances received and handed over so far. */
    public long received() {
        return received.get();
    }

    private void watchTimeouts() {
        long period = timeoutMillis > 0 ? Math.max(50, Math.min(1000, timeoutMillis / 4)) : 1000;
        while (!closed) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Connection connection : open) {
                connection.endIfTimedOut(now);
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException e) {
                if (!closed) {
                    LOG.errorf("DICOM listener stopped: %s", e.getMessage());
                }
                return;
            } catch (IOException e) {
                // A failure such as too many open files repeats at once, so wait before the next try.
                LOG.warnf("DICOM listener: accept failed, retrying in 1 s: %s", e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException interrupted) {
                    return;
                }
                continue;
            }
            try {
                associations.execute(() -> serve(new Connection(channel, timeoutMillis)));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                new Connection(channel, timeoutMillis).close(); // the receiver is closing
            }
        }
    }

    private void serve(Connection connection) {
        open.add(connection);
        Socket socket = connection.channel.socket();
        IncomingFolder folder = null;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(timeoutMillis);
            java.util.Set<String> callers = acceptedCallers;
            if (!callers.isEmpty()) {
                socket = screenCaller(socket, callers);
                if (socket == null) {
                    return;
                }
            }
            // Each association writes into a folder of its own: files are named by SOP Instance UID,
            // and two senders may send the same instance at the same time.
            folder = new IncomingFolder(Files.createDirectories(incoming.resolve("association-" + associationCount.incrementAndGet())));
            Association association = AssociationFactory.createNewAssociation(socket, aeTitle, MAX_PDU_LENGTH, 0, 0,
                    new AnyExplicitStorePresentationContextSelectionPolicy());
            serveMessages(connection, association, folder);
            LOG.debugf("DICOM association from %s released", connection.peer);
        } catch (ClosedChannelException e) {
            LOG.debugf("DICOM association from %s closed%s", connection.peer, closed ? " as the listener stops" : "");
        } catch (Exception e) {
            String message = e.getMessage();
            if (message == null || message.strip().matches("-?[0-9]+")) {
                // PixelMed reports some malformed association requests with a bare number.
                message = "invalid association request (" + e.getClass().getSimpleName()
                        + (message == null ? "" : ": " + message.strip()) + ")";
            }
            LOG.warnf("DICOM association from %s failed: %s", connection.peer, message);
        } finally {
            open.remove(connection);
            if (folder != null) {
                folder.end();
            }
            connection.close();
        }
    }

    /**
     * Responds to C-ECHO and C-STORE requests until the peer releases the association. PixelMed
     * negotiates the association, and the P-DATA-TF PDUs that follow (PS3.8 section 9.3.5) are
     * read here from the socket channel straight into one direct buffer per data set, which the
     * file is then written from. The command sets are read and written by {@link DimseCommands}.
     * PixelMed's own PDU layer copied each fragment several times, and replacing it raised the
     * receive rate in bench/pacs from about 310 to about 490 instances/s. Reading the command
     * sets without PixelMed then cut the receiving JVM's CPU time during a 500-instance C-MOVE
     * there from about 1.3 to about 0.8 s on 2 cores, mostly through less JIT compilation. A
     * received data set is written with its file meta information as one Part 10 file, handed
     * to the consumer, and only then acknowledged. A file that cannot be written is rejected
     * with status A700 (out of resources), and an exception from the consumer aborts the
     * association.
     */
    private void serveMessages(Connection connection, Association association, IncomingFolder folder)
            throws IOException, DicomException {
        String caller = association.getCallingAETitle();
        ByteBuffer header = ByteBuffer.allocateDirect(6); // a PDU header, or the header of a presentation data value item
        Message message = new Message();
        try {
            receiveMessages(connection, association, folder, caller, header, message);
        } finally {
            message.abandonStream();
        }
    }

    private void receiveMessages(Connection connection, Association association, IncomingFolder folder, String caller,
            ByteBuffer header, Message message) throws IOException, DicomException {
        while (true) {
            header.clear();
            if (!connection.readFully(header, true)) {
                throw new IOException("the peer closed the connection without releasing the association");
            }
            header.flip();
            int type = header.get();
            header.get();
            long length = header.getInt() & 0xFFFFFFFFL;
            if (type == PDU_RELEASE_RQ) {
                connection.skip(length);
                connection.writeFully(ByteBuffer.wrap(new byte[] {PDU_RELEASE_RP, 0, 0, 0, 0, 4, 0, 0, 0, 0}));
                return;
            }
            if (type == PDU_ABORT) {
                throw new IOException("the peer aborted the association");
            }
            if (type != PDU_DATA) {
                connection.abort();
                throw new IOException("unexpected PDU type 0x" + Integer.toHexString(type & 0xFF) + " during the association");
            }
            if (length > MAX_PDU_LENGTH) {
                connection.abort();
                throw new IOException("P-DATA-TF PDU of " + length + " bytes, longer than the negotiated maximum of "
                        + MAX_PDU_LENGTH);
            }
            for (long remaining = length; remaining > 0; ) {
                if (remaining < 6) {
                    connection.abort();
                    throw new IOException("malformed P-DATA-TF PDU: " + remaining + " bytes left, too few for a value item");
                }
                header.clear();
                connection.readFully(header, false);
                header.flip();
                long itemLength = header.getInt() & 0xFFFFFFFFL;
                if (itemLength < 2 || itemLength + 4 > remaining) {
                    connection.abort();
                    throw new IOException("malformed P-DATA-TF PDU: value item of " + itemLength + " bytes in " + remaining);
                }
                remaining -= 4 + itemLength;
                message.contextId = header.get();
                int control = header.get();
                boolean isCommand = (control & 1) != 0;
                if (!isCommand && message.request != null && !message.streamed() && message.size + itemLength - 2 > STREAM_BYTES) {
                    startStream(message, association, folder, caller, connection);
                }
                boolean complete;
                try {
                    complete = message.read(connection, (int) itemLength - 2, isCommand, (control & 2) != 0);
                } catch (IOException | DicomException e) {
                    connection.abort();
                    throw e;
                }
                if (!complete) {
                    continue;
                }
                byte[] response = message.request.commandField() == DimseCommands.C_ECHO_RQ
                        ? message.request.response(ResponseStatus.Success)
                        : store(message, association, folder, caller, connection);
                sendCommand(connection, message.contextId, response);
                message.reset();
            }
        }
    }

    private byte[] store(Message message, Association association, IncomingFolder folder, String caller, Connection connection)
            throws IOException, DicomException {
        DimseCommands.Command request = message.request;
        if (message.streamed()) {
            Path file = message.finishStream(folder.path);
            if (file != null && writer != null) {
                handOverLater(file, request, folder, caller);
                return request.response(ResponseStatus.Success);
            }
            return handOver(file, request, caller, connection);
        }
        String transferSyntax = transferSyntax(association, message.contextId, connection);
        if (writer != null) {
            writeLater(message, folder, transferSyntax, caller);
            return request.response(ResponseStatus.Success);
        }
        Path file = null;
        try {
            file = write(folder.path, request, transferSyntax, caller, message.data, message.size);
        } catch (IOException e) {
            LOG.errorf("cannot write a received instance to %s: %s", folder.path, e.getMessage());
        }
        return handOver(file, request, caller, connection);
    }

    /**
     * Hands a written file to the consumer and returns the response with the consumer's status,
     * or with status A700 (out of resources) when the file could not be written (null).
     */
    private byte[] handOver(Path file, DimseCommands.Command request, String caller, Connection connection) {
        int status = OUT_OF_RESOURCES;
        if (file != null) {
            handingOver.incrementAndGet();
            try {
                received.incrementAndGet();
                status = consumer.handle(file, caller);
            } catch (RuntimeException e) {
                connection.abort();
                throw e;
            } finally {
                handingOver.decrementAndGet();
            }
        }
        return request.response(status);
    }

    private static String transferSyntax(Association association, byte contextId, Connection connection) throws IOException {
        try {
            return association.getTransferSyntaxForPresentationContextID(contextId);
        } catch (DicomNetworkException e) {
            connection.abort();
            throw new IOException("data set on presentation context " + contextId + ", which was not negotiated", e);
        }
    }

    /**
     * Opens the file of a data set that has outgrown {@link #STREAM_BYTES} and writes what was
     * received so far. A file that cannot be created is recorded in the message, whose further
     * fragments are then read and dropped, and the C-STORE response has status A700.
     */
    private static void startStream(Message message, Association association, IncomingFolder folder, String caller,
            Connection connection) throws IOException {
        DimseCommands.Command request = message.request;
        String syntax = transferSyntax(association, message.contextId, connection);
        byte[] meta = DimseCommands.fileMetaInformation(request.affectedSopClassUid(), request.affectedSopInstanceUid(), syntax,
                caller);
        try {
            OpenFile opened = create(folder.path, request.affectedSopInstanceUid());
            message.streamFile = opened.path();
            message.stream = opened.channel();
            writeFully(message.stream, ByteBuffer.wrap(meta), message.data == null ? ByteBuffer.allocate(0)
                    : message.data.duplicate().position(0).limit(message.size));
        } catch (IOException e) {
            message.failStream(e);
        }
    }

    /** Hands a file written on the association's thread to the consumer on the writer thread, after the files queued before it. */
    private void handOverLater(Path file, DimseCommands.Command request, IncomingFolder folder, String caller) throws IOException {
        handingOver.incrementAndGet();
        received.incrementAndGet();
        folder.queuedWrites.incrementAndGet();
        try {
            writer.execute(() -> {
                try {
                    consumer.handle(file, caller);
                } catch (RuntimeException e) {
                    LOG.errorf("received instance %s was acknowledged but not stored (%s); its job item stays pending,"
                            + " so resuming the job requests it again", request.affectedSopInstanceUid(), e.getMessage());
                } finally {
                    folder.writeDone();
                    handingOver.decrementAndGet();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            received.decrementAndGet();
            folder.writeDone();
            handingOver.decrementAndGet();
            throw new IOException("the receiver is closing, so instance " + request.affectedSopInstanceUid() + " was not handed over");
        }
    }

    /** Hands the message's data set to the writer thread and gives the message a fresh buffer. */
    private void writeLater(Message message, IncomingFolder folder, String transferSyntax, String caller) throws IOException {
        DimseCommands.Command request = message.request;
        ByteBuffer data = message.data;
        int size = message.size;
        try {
            message.data = buffers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the file writer", e);
        }
        handingOver.incrementAndGet();
        received.incrementAndGet();
        folder.queuedWrites.incrementAndGet();
        try {
            writer.execute(() -> writeAcknowledged(request, data, size, folder, transferSyntax, caller));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            buffers.offer(data);
            received.decrementAndGet();
            folder.writeDone();
            handingOver.decrementAndGet();
            throw new IOException("the receiver is closing, so instance " + request.affectedSopInstanceUid() + " was not written");
        }
    }

    /** Writes a data set acknowledged on receipt and hands the file over. Runs on the writer thread. */
    private void writeAcknowledged(DimseCommands.Command request, ByteBuffer data, int size, IncomingFolder folder,
            String transferSyntax, String caller) {
        try {
            consumer.handle(write(folder.path, request, transferSyntax, caller, data, size), caller);
        } catch (IOException | DicomException | RuntimeException e) {
            LOG.errorf("received instance %s was acknowledged but not stored (%s); its job item stays pending,"
                    + " so resuming the job requests it again", request.affectedSopInstanceUid(), e.getMessage());
        } finally {
            buffers.offer(data.capacity() <= KEPT_BUFFER_BYTES ? data : ByteBuffer.allocateDirect(1 << 20));
            folder.writeDone();
            handingOver.decrementAndGet();
        }
    }

    /** Sends a command as one P-DATA-TF PDU with a single, last command fragment. */
    private static void sendCommand(Connection connection, byte contextId, byte[] command) throws IOException {
        ByteBuffer pdu = ByteBuffer.allocate(12 + command.length);
        pdu.put(PDU_DATA).put((byte) 0).putInt(6 + command.length);
        pdu.putInt(2 + command.length).put(contextId).put((byte) 3).put(command);
        connection.writeFully(pdu.flip());
    }

    /** Maximum number of bytes of a rejected association request that are read and dropped. */
    private static final long MAX_REQUEST_BYTES = 1L << 16;

    /**
     * Reads the start of the A-ASSOCIATE-RQ (PS3.8 section 9.3.2) and rejects the association
     * with reason "calling AE title not recognized" when its calling AE title is not among the
     * accepted ones. Returns null then, else a socket that replays the bytes read for PixelMed.
     */
    private static Socket screenCaller(Socket socket, java.util.Set<String> callers) throws IOException {
        // PDU type and length (6 bytes), protocol version and reserved (4), called AE title (16), calling AE title (16).
        byte[] start = socket.getInputStream().readNBytes(42);
        if (start.length == 42 && start[0] == 0x01) {
            String caller = new String(start, 26, 16, java.nio.charset.StandardCharsets.US_ASCII).strip();
            if (!callers.contains(caller)) {
                LOG.warnf("DICOM association from %s as AE title %s rejected: not among the accepted AE titles %s",
                        socket.getRemoteSocketAddress(), caller, callers);
                // The rest of the request is read first: closing with unread data would send a reset, which
                // the peer may report in place of the rejection.
                long length = ((start[2] & 0xFFL) << 24) | ((start[3] & 0xFF) << 16) | ((start[4] & 0xFF) << 8) | (start[5] & 0xFF);
                socket.getInputStream().skipNBytes(Math.min(Math.max(0, length - 36), MAX_REQUEST_BYTES));
                // A-ASSOCIATE-RJ: rejected permanent (1), by the service user (1), calling AE title not recognized (3).
                OutputStream out = socket.getOutputStream();
                out.write(new byte[] {0x03, 0, 0, 0, 0, 4, 0, 1, 1, 3});
                out.flush();
                socket.shutdownOutput();
                // The requester closes the connection on the rejection (PS3.8 state Sta13); wait a little for that.
                socket.setSoTimeout(2000);
                try {
                    socket.getInputStream().skipNBytes(MAX_REQUEST_BYTES);
                } catch (IOException e) {
                    LOG.debugf("waiting for the rejected peer to close: %s", e.getMessage());
                }
                return null;
            }
        }
        return new ReplayingSocket(socket, start);
    }

    /** A socket whose input starts with bytes already read from it. Everything else goes to the real socket. */
    private static final class ReplayingSocket extends Socket {

        private final Socket socket;
        private final java.io.InputStream in;

        ReplayingSocket(Socket socket, byte[] replayed) throws IOException {
            this.socket = socket;
            this.in = new java.io.SequenceInputStream(new ByteArrayInputStream(replayed), socket.getInputStream());
        }

        @Override
        public java.io.InputStream getInputStream() {
            return in;
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            return socket.getOutputStream();
        }

        @Override
        public synchronized void close() throws IOException {
            socket.close();
        }

        @Override
        public boolean isClosed() {
            return socket.isClosed();
        }

        @Override
        public void shutdownOutput() throws IOException {
            socket.shutdownOutput();
        }

        @Override
        public InetAddress getInetAddress() {
            return socket.getInetAddress();
        }

        @Override
        public InetAddress getLocalAddress() {
            return socket.getLocalAddress();
        }

        @Override
        public java.net.SocketAddress getLocalSocketAddress() {
            return socket.getLocalSocketAddress();
        }

        @Override
        public java.net.SocketAddress getRemoteSocketAddress() {
            return socket.getRemoteSocketAddress();
        }

        @Override
        public int getPort() {
            return socket.getPort();
        }

        @Override
        public int getLocalPort() {
            return socket.getLocalPort();
        }

        @Override
        public synchronized int getReceiveBufferSize() throws SocketException {
            return socket.getReceiveBufferSize();
        }

        @Override
        public synchronized void setReceiveBufferSize(int size) throws SocketException {
            socket.setReceiveBufferSize(size);
        }

        @Override
        public synchronized int getSendBufferSize() throws SocketException {
            return socket.getSendBufferSize();
        }

        @Override
        public synchronized void setSendBufferSize(int size) throws SocketException {
            socket.setSendBufferSize(size);
        }

        @Override
        public int getSoLinger() throws SocketException {
            return socket.getSoLinger();
        }

        @Override
        public synchronized int getSoTimeout() throws SocketException {
            return socket.getSoTimeout();
        }

        @Override
        public synchronized void setSoTimeout(int timeout) throws SocketException {
            socket.setSoTimeout(timeout);
        }

        @Override
        public boolean getTcpNoDelay() throws SocketException {
            return socket.getTcpNoDelay();
        }

        @Override
        public void setTcpNoDelay(boolean on) throws SocketException {
            socket.setTcpNoDelay(on);
        }
    }

    /**
     * An association's socket channel, read and written in blocking mode. The receiver's
     * watchdog thread ends a read or write that has waited longer than the timeout. Reads do
     * not wait on a selector because the JIT compiler then inlines the selector into the read
     * loop, a compilation of about 0.3 s of CPU time (measured in bench/pacs on 2 cores).
     */
    private static final class Connection {
        private final SocketChannel channel;
        private final long timeoutNanos;
        private final java.net.SocketAddress peer;
        /** When the read or write in progress started (System.nanoTime), or 0 when none is in progress. */
        private volatile long waitingSince;
        private volatile boolean writing;
        private volatile boolean timedOut;
        private boolean aborted;

        Connection(SocketChannel channel, int timeoutMillis) {
            this.channel = channel;
            this.timeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            java.net.SocketAddress address;
            try {
                address = channel.getRemoteAddress();
            } catch (IOException e) {
                address = null;
            }
            this.peer = address;
        }

        /**
         * Fills the buffer. Returns false when {@code mayEnd} is set and the peer closed the
         * connection before the first byte. An end of input anywhere else is an error.
         */
        boolean readFully(ByteBuffer buffer, boolean mayEnd) throws IOException {
            boolean first = true;
            while (buffer.hasRemaining()) {
                int read = transfer(buffer, false);
                if (read < 0) {
                    if (timedOut) {
                        abort();
                        throw timeout();
                    }
                    if (mayEnd && first) {
                        return false;
                    }
                    throw new EOFException("the peer closed the connection in the middle of a PDU");
                }
                first = false;
            }
            return true;
        }

        /** Reads and drops {@code length} bytes. */
        void skip(long length) throws IOException {
            ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(length, 8192));
            for (long left = length; left > 0; left -= scratch.position()) {
                scratch.clear().limit((int) Math.min(left, scratch.capacity()));
                readFully(scratch, false);
            }
        }

        void writeFully(ByteBuffer buffer) throws IOException {
            while (buffer.hasRemaining()) {
                transfer(buffer, true);
            }
        }

        /** Reads into or writes from the buffer once, marked as waiting for the watchdog while the call blocks. */
        private int transfer(ByteBuffer buffer, boolean write) throws IOException {
            writing = write;
            waitingSince = System.nanoTime();
            try {
                return write ? channel.write(buffer) : channel.read(buffer);
            } catch (ClosedChannelException e) {
                throw timedOut ? timeout() : e;
            } finally {
                waitingSince = 0;
                writing = false;
            }
        }

        private SocketTimeoutException timeout() {
            return new SocketTimeoutException("timed out: no data received from or accepted by the peer for "
                    + java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s");
        }

        /**
         * Ends a read or write in progress that has waited longer than the timeout. A read ends
         * with the input shut down, so that an A-ABORT can still be sent, and a write by closing.
         */
        void endIfTimedOut(long now) {
            long since = waitingSince;
            if (timeoutNanos <= 0 || since == 0 || now - since <= timeoutNanos) {
                return;
            }
            timedOut = true;
            if (writing) {
                close();
                return;
            }
            try {
                channel.shutdownInput();
            } catch (IOException e) {
                close();
            }
        }

        /** Sends an A-ABORT once, if the channel is still open. */
        void abort() {
            if (aborted) {
                return;
            }
            aborted = true;
            try {
                writeFully(ByteBuffer.wrap(new byte[] {PDU_ABORT, 0, 0, 0, 0, 4, 0, 0, 0, 0}));
            } catch (IOException e) {
                LOG.debugf("sending A-ABORT failed: %s", e.getMessage());
            }
        }

        /** Closes the channel, which ends a read or write in progress on another thread. */
        void close() {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debugf("closing DICOM socket: %s", e.getMessage());
            }
        }
    }

    /** Writes one received data set as a Part 10 file named by its SOP Instance UID, with one write call. */
    private static Path write(Path folder, DimseCommands.Command request, String transferSyntax, String caller,
            ByteBuffer data, int size) throws IOException, DicomException {
        byte[] meta = DimseCommands.fileMetaInformation(request.affectedSopClassUid(), request.affectedSopInstanceUid(),
                transferSyntax, caller);
        OpenFile opened = create(folder, request.affectedSopInstanceUid());
        try (FileChannel channel = opened.channel()) {
            writeFully(channel, ByteBuffer.wrap(meta), data.duplicate().position(0).limit(size));
        }
        return opened.path();
    }

    /** A file created for a received instance, open for writing. */
    private record OpenFile(Path path, FileChannel channel) {
    }

    /** Creates the file of a received instance, named by its SOP Instance UID, with "~2", "~3" for further copies. */
    private static OpenFile create(Path folder, String uid) throws IOException {
        // The UID comes from the network, so only a well-formed one becomes a file name.
        String name = isUid(uid) ? uid : "instance";
        for (int copy = 1; ; copy++) {
            Path file = folder.resolve(copy == 1 ? name : name + "~" + copy);
            try {
                return new OpenFile(file, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // The same instance was sent again on this association before the first copy was stored.
            }
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer first, ByteBuffer second) throws IOException {
        ByteBuffer[] buffers = {first, second};
        while (buffers[0].hasRemaining() || buffers[1].hasRemaining()) {
            channel.write(buffers);
        }
    }

    /** Returns whether a value is a well-formed UID: at most 64 characters, digits in components separated by single dots. */
    static boolean isUid(String value) {
        if (value == null || value.isEmpty() || value.length() > 64) {
            return false;
        }
        boolean digitBefore = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= '0' && c <= '9') {
                digitBefore = true;
            } else if (c == '.' && digitBefore) {
                digitBefore = false;
            } else {
                return false;
            }
        }
        return digitBefore;
    }

    /** The largest command set accepted. A C-STORE request's takes a few hundred bytes. */
    private static final int MAX_COMMAND_BYTES = 1 << 16;

    /** The command and data set of one request message, collected fragment by fragment. */
    private static final class Message {
        private final ByteArrayOutputStream command = new ByteArrayOutputStream(256);
        /** Data set buffer, or null until the first data fragment allocates it. */
        private ByteBuffer data;
        /** File that a large data set is written to while it arrives (see STREAM_BYTES), or null. */
        private FileChannel stream;
        private Path streamFile;
        /** Error that kept the large data set's file from being written, or null. */
        private IOException streamError;
        private int size;
        private DimseCommands.Command request;
        private byte contextId;

        void reset() {
            if (data != null && data.capacity() > KEPT_BUFFER_BYTES) {
                data = null; // a buffer that grew this large is not kept for the next data set
            }
            stream = null;
            streamFile = null;
            streamError = null;
            command.reset();
            size = 0;
            request = null;
        }

        /** Reads one fragment of the given length; returns true when the message is complete. */
        boolean read(Connection connection, int length, boolean isCommand, boolean last) throws IOException, DicomException {
            if (isCommand) {
                if (command.size() + length > MAX_COMMAND_BYTES) {
                    throw new IOException("command set larger than " + MAX_COMMAND_BYTES + " bytes");
                }
                ByteBuffer fragment = ByteBuffer.allocate(length);
                connection.readFully(fragment, false);
                command.write(fragment.array(), 0, length);
                if (!last) {
                    return false;
                }
                request = DimseCommands.parse(command.toByteArray(), command.size());
                if (request.commandField() == DimseCommands.C_STORE_RQ) {
                    if (!request.hasDataSet()) {
                        throw new IOException("invalid C-STORE-RQ: no data set follows, because Command Data Set Type (0000,0800) is missing or 0101");
                    }
                    return false;
                }
                if (request.commandField() == DimseCommands.C_ECHO_RQ) {
                    return true;
                }
                throw new IOException("unsupported " + DimseCommands.name(request.commandField())
                        + ": this receiver supports only C-STORE and C-ECHO");
            }
            if (request == null || request.commandField() != DimseCommands.C_STORE_RQ) {
                throw new IOException("data set received before a C-STORE request");
            }
            if ((long) size + length > MAX_DATA_SET_BYTES) {
                throw new IOException("data set larger than " + MAX_DATA_SET_BYTES + " bytes");
            }
            if (streamed()) {
                readIntoStream(connection, length);
                size += length;
                return last;
            }
            ensureCapacity(size + length, size);
            connection.readFully(data.limit(size + length).position(size), false);
            size += length;
            return last;
        }

        /** Makes the data buffer hold at least {@code needed} bytes, keeping its first {@code keep} bytes. */
        private void ensureCapacity(int needed, int keep) throws IOException {
            if (data == null || needed > data.capacity()) {
                int capacity = data == null ? Math.max(1 << 20, needed)
                        : (int) Math.min(MAX_DATA_SET_BYTES, Math.max(needed, 2L * data.capacity()));
                ByteBuffer larger;
                try {
                    larger = ByteBuffer.allocateDirect(capacity);
                } catch (OutOfMemoryError e) {
                    throw new IOException("cannot allocate " + capacity + " bytes of direct memory for a data set (" + e.getMessage()
                            + "); give the JVM more with -XX:MaxDirectMemorySize in RETINAGRADE_JAVA_OPTS", e);
                }
                if (data != null) {
                    larger.put(data.position(0).limit(keep));
                }
                data = larger;
            }
        }

        boolean streamed() {
            return stream != null || streamError != null;
        }

        /** Reads a fragment into the data buffer and appends it to the stream's file, or drops it after a write error. */
        private void readIntoStream(Connection connection, int length) throws IOException {
            ensureCapacity(length, 0);
            ByteBuffer fragment = data.limit(length).position(0);
            connection.readFully(fragment, false);
            if (streamError != null) {
                return;
            }
            try {
                fragment.flip();
                while (fragment.hasRemaining()) {
                    stream.write(fragment);
                }
            } catch (IOException e) {
                failStream(e);
            }
        }

        /** Records a write error, and closes and deletes the partly written file. */
        void failStream(IOException error) {
            streamError = error;
            abandonStream();
        }

        /** Closes and deletes a file still being written, as when the association ends midway. */
        void abandonStream() {
            if (stream == null) {
                return;
            }
            try {
                stream.close();
                Files.deleteIfExists(streamFile);
            } catch (IOException e) {
                LOG.warnf("cannot remove the partly received file %s: %s", streamFile, e.getMessage());
            }
            stream = null;
        }

        /** Closes the finished file and returns it, or logs why it could not be written and returns null. */
        Path finishStream(Path folder) {
            if (streamError == null) {
                try {
                    stream.close();
                    return streamFile;
                } catch (IOException e) {
                    failStream(e);
                }
            }
            LOG.errorf("cannot write received instance %s to %s: %s", request.affectedSopInstanceUid(), folder,
                    streamError.getMessage());
            return null;
        }
    }

    /** An association's incoming folder. It is removed, when empty, once the association has ended and its queued writes are done. */
    private static final class IncomingFolder {
        private final Path path;
        private final java.util.concurrent.atomic.AtomicInteger queuedWrites = new java.util.concurrent.atomic.AtomicInteger();
        private volatile boolean ended;

        IncomingFolder(Path path) {
            this.path = path;
        }

        void end() {
            ended = true;
            if (queuedWrites.get() == 0) {
                removeIfEmpty(path);
            }
        }

        void writeDone() {
            if (queuedWrites.decrementAndGet() == 0 && ended) {
                removeIfEmpty(path);
            }
        }
    }

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

    /**
     * Stops accepting and closes the connections still open, because a peer may keep an idle
     * association cached. Then waits up to 30 s for files being handed over (received files
     * and writes still queued), which are not interrupted, and stops the remaining threads.
     */
    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Connection connection : open) {
            connection.close();
        }
        associations.shutdown();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        try {
            // Files still queued for the writer count as being handed over. Two quiet checks 5 ms
            // apart catch a file whose hand-over was just starting.
            int quiet = 0;
            while (quiet < 2 && System.nanoTime() < deadline) {
                quiet = handingOver.get() == 0 ? quiet + 1 : 0;
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (handingOver.get() > 0) {
            LOG.warnf("DICOM listener: %d received files were still being handed over after 30 s", handingOver.get());
        }
        associations.shutdownNow();
        watchdog.interrupt();
        if (writer != null) {
            writer.shutdownNow();
        }
    }
}
