package org.retinagrade.pacs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real Orthanc for the PACS tests, started in the test's own network namespace (see
 * bin/java-in-netns). It runs with HTTP authentication on, TCP_NODELAY set and DICOM access only
 * for the registered AE titles, which are ours (RETINAGRADE) and dcmtk's STORESCU. With the
 * orthanc-dicomweb package installed, it also serves DICOMweb at {@link #DICOMWEB_URL}. Its database
 * lives under target/ and survives {@link #kill()} and {@link #start()}.
 */
final class OrthancPeer implements AutoCloseable {

    static final int DICOM_PORT = 4242;
    static final String AE_TITLE = "ORTHANC";
    static final String DICOMWEB_URL = "http://127.0.0.1:8042/dicom-web";
    static final String HTTP_USER = "retinagrade";
    static final String HTTP_PASSWORD = "test-only-password";
    private static final Path DICOMWEB_PLUGIN = Path.of("/usr/share/orthanc/plugins/libOrthancDicomWeb.so");

    private final Path home;
    private final int ourPort;
    private Process process;

    OrthancPeer(Path home, int ourPort) {
        this.home = home;
        this.ourPort = ourPort;
    }

    /** Returns true when the tests run in a private namespace and Orthanc and dcmtk are installed. */
    static boolean available() {
        String ns = System.getenv("RETINAGRADE_NETNS");
        return ns != null && !ns.equals("unavailable") && Files.isExecutable(Path.of("/usr/sbin/Orthanc"))
                && Files.isExecutable(Path.of("/usr/bin/storescu"));
    }

    /** Returns true when Orthanc's DICOMweb plugin (Debian orthanc-dicomweb) is installed, so Orthanc serves QIDO-RS and WADO-RS. */
    static boolean dicomWebAvailable() {
        return Files.isReadable(DICOMWEB_PLUGIN);
    }

    static String whyUnavailable() {
        return "PACS tests need a private network namespace (root and iproute2; got RETINAGRADE_NETNS="
                + System.getenv("RETINAGRADE_NETNS") + "), Orthanc (/usr/sbin/Orthanc) and dcmtk; skipping";
    }

    void start() throws IOException, InterruptedException {
        Files.createDirectories(home.resolve("db"));
        Path config = home.resolve("orthanc.json");
        Files.writeString(config, """
                {
                  "Name": "retinagrade-test",
                  "StorageDirectory": "%s",
                  "IndexDirectory": "%s",
                  "DicomAet": "%s",
                  "DicomPort": %d,
                  "HttpPort": 8042,
                  "RemoteAccessAllowed": false,
                  "AuthenticationEnabled": true,
                  "RegisteredUsers": {"%s": "%s"},
                  "DicomModalities": {
                    "retinagrade": ["RETINAGRADE", "127.0.0.1", %d],
                    "storescu": ["STORESCU", "127.0.0.1", 104]
                  },
                  "DicomAlwaysAllowEcho": true,
                  "DicomAlwaysAllowStore": false,
                  "DicomAlwaysAllowFind": false,
                  "DicomAlwaysAllowMove": false,
                  "DicomAlwaysAllowGet": false,
                  "DicomCheckModalityHost": false,
                  "Plugins": [%s],
                  "DicomWeb": {"Enable": true, "Root": "/dicom-web/"}
                }
                """.formatted(home.resolve("db"), home.resolve("db"), AE_TITLE, DICOM_PORT, HTTP_USER, HTTP_PASSWORD, ourPort,
                dicomWebAvailable() ? "\"" + DICOMWEB_PLUGIN + "\"" : ""));
        ProcessBuilder builder = new ProcessBuilder("/usr/sbin/Orthanc", config.toString())
                .redirectErrorStream(true).redirectOutput(home.resolve("orthanc.log").toFile());
        builder.environment().put("TCP_NODELAY", "1");
        process = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("Orthanc exited at start-up; see " + home.resolve("orthanc.log"));
            }
            if (run(List.of("/usr/bin/echoscu", "-aec", AE_TITLE, "127.0.0.1", Integer.toString(DICOM_PORT))) == 0) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IOException("Orthanc did not respond to C-ECHO within 30 s; see " + home.resolve("orthanc.log"));
    }

    /** Starts Orthanc again when it is not running, because an earlier test may have stopped it. */
    void ensureStarted() throws IOException, InterruptedException {
        if (process == null || !process.isAlive()) {
            start();
        }
    }

    /** Stops Orthanc at once (SIGKILL), as a crash or power cut would. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Pushes the .dcm files under the folder with dcmtk's storescu as AE STORESCU and returns its exit status. */
    int push(Path folder, String calledAe, int port, String... options) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/storescu", "-aet", "STORESCU", "-aec", calledAe));
        command.addAll(List.of(options));
        command.addAll(List.of("+sd", "+r", "+sp", "*.dcm", "127.0.0.1", Integer.toString(port), folder.toString()));
        return run(command);
    }

    static int run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("TCP_NODELAY", "1");
        Process child = builder.start();
        child.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        if (!child.waitFor(120, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            return -1;
        }
        return child.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
