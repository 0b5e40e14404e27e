package org.retinagrade.pacs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.CodeStringAttribute;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SetOfDicomFiles;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.dicom.UniqueIdentifierAttribute;
import com.pixelmed.dicom.UnsignedShortAttribute;
import com.pixelmed.network.Association;
import com.pixelmed.network.AssociationFactory;
import com.pixelmed.network.MultipleInstanceTransferStatusHandler;
import com.pixelmed.network.PresentationContext;
import com.pixelmed.network.StorageSOPClassSCU;
import com.pixelmed.network.CEchoRequestCommandMessage;
import com.pixelmed.network.CompositeResponseHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Sends to the C-STORE receiver with PixelMed's storage and verification SCUs on loopback. The
 * data sets span several PDUs and grow the receive buffer, and each received file must hold
 * exactly the data set sent.
 */
class StorageReceiverTest {

    private static final Path SCRATCH = Path.of("target", "storage-receiver-test").toAbsolutePath();

    @Test
    void receivedFilesHoldTheDataSetsSent() throws Exception {
        Path folder = fresh("synchronous");
        Path incoming = folder.resolve("incoming");
        Map<String, byte[]> received = new ConcurrentHashMap<>();
        List<String> callers = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (StorageReceiver receiver = new StorageReceiver("127.0.0.1", 0, "RECEIVER", incoming, 30, (file, caller) -> {
            callers.add(caller);
            received.put(file.getFileName().toString(), read(file));
            return 0x0000;
        })) {
            // 64 x 64 fits the first buffer. 1100 x 1000 RGB (3.3 MB) takes several PDUs and a larger
            // buffer. 1600 x 1200 RGB (5.8 MB) is over 4 MiB, so it is written to its file as it arrives.
            Path small = write(folder.resolve("small.dcm"), "1.2.3.4.1", 64, 64, 1);
            Path large = write(folder.resolve("large.dcm"), "1.2.3.4.22", 1000, 1100, 2);
            Path streamed = write(folder.resolve("streamed.dcm"), "1.2.3.4.333", 1200, 1600, 3);
            for (Path file : List.of(small, large, streamed)) {
                AttributeList sent = readList(file);
                new StorageSOPClassSCU("127.0.0.1", receiver.port(), "RECEIVER", "SENDER", file.toString(),
                        SOPClass.OphthalmicPhotography8BitImageStorage, Attribute.getSingleStringValueOrNull(sent,
                                TagFromName.SOPInstanceUID), 0);
            }
            assertEquals(3, receiver.received());
        }
        assertEquals(List.of("SENDER", "SENDER", "SENDER"), callers);
        assertSameDataSet(folder.resolve("small.dcm"), received.get("1.2.3.4.1"));
        assertSameDataSet(folder.resolve("large.dcm"), received.get("1.2.3.4.22"));
        assertSameDataSet(folder.resolve("streamed.dcm"), received.get("1.2.3.4.333"));
    }

    @Test
    void acknowledgedOnReceiptStillWritesEveryInstance() throws Exception {
        Path folder = fresh("on-receipt");
        Path incoming = folder.resolve("incoming");
        Map<String, byte[]> received = new ConcurrentHashMap<>();
        // Seven instances on one association, more than the writer's four buffers. The fourth,
        // 700 x 800 RGB (1.7 MB), is larger than a buffer's first 1 MiB. The sixth, 1200 x 1600
        // RGB (5.8 MB), is over 4 MiB, so it is written to its file as it arrives.
        SetOfDicomFiles files = new SetOfDicomFiles();
        for (int i = 1; i <= 7; i++) {
            int rows = i == 4 ? 700 : i == 6 ? 1200 : 400 + 10 * i;
            int columns = i == 4 ? 800 : i == 6 ? 1600 : 500;
            files.add(write(folder.resolve("f" + i + ".dcm"), "1.2.3.5." + i, rows, columns, i).toString());
        }
        try (StorageReceiver receiver = new StorageReceiver("127.0.0.1", 0, "RECEIVER", incoming, 30,
                (file, caller) -> received.put(file.getFileName().toString(), read(file)), true)) {
            int[] failures = new int[1];
            new StorageSOPClassSCU("127.0.0.1", receiver.port(), "RECEIVER", "SENDER", files, 0,
                    new MultipleInstanceTransferStatusHandler() {
                        @Override
                        public void updateStatus(int remaining, int completed, int failed, int warning, String sop) {
                            failures[0] = failed;
                        }
                    }, 0);
            assertEquals(0, failures[0]);
        }
        assertEquals(7, received.size());
        for (int i = 1; i <= 7; i++) {
            assertSameDataSet(folder.resolve("f" + i + ".dcm"), received.get("1.2.3.5." + i));
        }
    }

    @Test
    void echoIsAnswered() throws Exception {
        try (StorageReceiver receiver = new StorageReceiver("127.0.0.1", 0, "RECEIVER", fresh("echo"), 30,
                (file, caller) -> 0x0000)) {
            LinkedList<PresentationContext> contexts = new LinkedList<>();
            contexts.add(new PresentationContext((byte) 1, SOPClass.Verification, TransferSyntax.ImplicitVRLittleEndian));
            Association association = AssociationFactory.createNewAssociation("127.0.0.1", receiver.port(), "RECEIVER", "SENDER",
                    contexts, null, false);
            AttributeList[] response = new AttributeList[1];
            association.setReceivedDataHandler(new CompositeResponseHandler() {
                @Override
                protected void evaluateStatusAndSetSuccess(AttributeList list) {
                    response[0] = list;
                    setDone(true);
                }
            });
            association.send(association.getSuitablePresentationContextID(SOPClass.Verification),
                    new CEchoRequestCommandMessage().getBytes(), null);
            association.waitForCommandPDataPDUs();
            association.release();
            assertEquals(0x8030, Attribute.getSingleIntegerValueOrDefault(response[0], TagFromName.CommandField, -1));
            assertEquals(0x0000, Attribute.getSingleIntegerValueOrDefault(response[0], TagFromName.Status, -1));
        }
    }

    @Test
    void idleAssociationIsClosedAfterTheTimeout() throws Exception {
        try (StorageReceiver receiver = new StorageReceiver("127.0.0.1", 0, "RECEIVER", fresh("idle"), 1,
                (file, caller) -> 0x0000)) {
            Association association = open(receiver.port());
            long start = System.nanoTime();
            // Nothing is sent, so the receiver ends the association after its 1 s timeout.
            assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> assertThrows(Exception.class, association::waitForOnePDataPDU));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds >= 0.9, "ended after " + seconds + " s, before the timeout");
        }
    }

    @Test
    void closingTheReceiverEndsIdleAssociations() throws Exception {
        Association association;
        try (StorageReceiver receiver = new StorageReceiver("127.0.0.1", 0, "RECEIVER", fresh("closing"), 600,
                (file, caller) -> 0x0000)) {
            association = open(receiver.port());
        }
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(Exception.class, association::waitForOnePDataPDU));
    }

    @Test
    void onlyWellFormedUidsNameFiles() {
        assertTrue(StorageReceiver.isUid("1.2.826.0.1.3680043.2.1125.77.1"));
        assertTrue(StorageReceiver.isUid("1"));
        assertFalse(StorageReceiver.isUid(null));
        assertFalse(StorageReceiver.isUid(""));
        assertFalse(StorageReceiver.isUid("1..2"));
        assertFalse(StorageReceiver.isUid(".1.2"));
        assertFalse(StorageReceiver.isUid("1.2."));
        assertFalse(StorageReceiver.isUid("../../etc/passwd"));
        assertFalse(StorageReceiver.isUid("1.2/3"));
        assertFalse(StorageReceiver.isUid("1." + "2".repeat(63)));
    }

    private static Association open(int port) throws Exception {
        LinkedList<PresentationContext> contexts = new LinkedList<>();
        contexts.add(new PresentationContext((byte) 1, SOPClass.OphthalmicPhotography8BitImageStorage,
                TransferSyntax.ExplicitVRLittleEndian));
        return AssociationFactory.createNewAssociation("127.0.0.1", port, "RECEIVER", "SENDER", contexts, null, false);
    }

    /** Writes an Ophthalmic Photography file with random RGB pixels in explicit VR little endian. */
    private static Path write(Path file, String sopInstanceUid, int rows, int columns, long seed) throws Exception {
        AttributeList list = new AttributeList();
        uid(list, TagFromName.SOPClassUID, SOPClass.OphthalmicPhotography8BitImageStorage);
        uid(list, TagFromName.SOPInstanceUID, sopInstanceUid);
        uid(list, TagFromName.StudyInstanceUID, "1.2.3.9");
        uid(list, TagFromName.SeriesInstanceUID, "1.2.3.9.1");
        CodeStringAttribute modality = new CodeStringAttribute(TagFromName.Modality);
        modality.addValue("OP");
        list.put(modality);
        CodeStringAttribute photometric = new CodeStringAttribute(TagFromName.PhotometricInterpretation);
        photometric.addValue("RGB");
        list.put(photometric);
        unsigned(list, TagFromName.Rows, rows);
        unsigned(list, TagFromName.Columns, columns);
        unsigned(list, TagFromName.SamplesPerPixel, 3);
        unsigned(list, TagFromName.PlanarConfiguration, 0);
        unsigned(list, TagFromName.BitsAllocated, 8);
        unsigned(list, TagFromName.BitsStored, 8);
        unsigned(list, TagFromName.HighBit, 7);
        unsigned(list, TagFromName.PixelRepresentation, 0);
        byte[] pixels = new byte[rows * columns * 3];
        new Random(seed).nextBytes(pixels);
        OtherByteAttribute pixelData = new OtherByteAttribute(TagFromName.PixelData);
        pixelData.setValues(pixels);
        list.put(pixelData);
        FileMetaInformation.addFileMetaInformation(list, TransferSyntax.ExplicitVRLittleEndian, "TEST");
        list.write(file.toFile(), TransferSyntax.ExplicitVRLittleEndian, true, true);
        return file;
    }

    private static void assertSameDataSet(Path sent, byte[] receivedFile) throws Exception {
        assertTrue(receivedFile != null, "no file was received for " + sent.getFileName());
        AttributeList expected = readList(sent);
        AttributeList actual = new AttributeList();
        try (DicomInputStream in = new DicomInputStream(new java.io.ByteArrayInputStream(receivedFile))) {
            actual.read(in);
        }
        assertEquals("SENDER", Attribute.getSingleStringValueOrNull(actual, TagFromName.SourceApplicationEntityTitle));
        assertEquals(Attribute.getSingleStringValueOrNull(expected, TagFromName.SOPInstanceUID),
                Attribute.getSingleStringValueOrNull(actual, TagFromName.MediaStorageSOPInstanceUID));
        assertEquals(TransferSyntax.ExplicitVRLittleEndian,
                Attribute.getSingleStringValueOrNull(actual, TagFromName.TransferSyntaxUID));
        assertArrayEquals(expected.get(TagFromName.PixelData).getByteValues(), actual.get(TagFromName.PixelData).getByteValues());
        expected.removeGroupLengthAttributes();
        expected.removeMetaInformationHeaderAttributes();
        actual.removeGroupLengthAttributes();
        actual.removeMetaInformationHeaderAttributes();
        assertEquals(expected.keySet(), actual.keySet());
        assertEquals(expected.toString(), actual.toString());
    }

    private static AttributeList readList(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toFile());
        return list;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void uid(AttributeList list, com.pixelmed.dicom.AttributeTag tag, String value) throws Exception {
        UniqueIdentifierAttribute attribute = new UniqueIdentifierAttribute(tag);
        attribute.addValue(value);
        list.put(attribute);
    }

    private static void unsigned(AttributeList list, com.pixelmed.dicom.AttributeTag tag, int value) throws Exception {
        UnsignedShortAttribute attribute = new UnsignedShortAttribute(tag);
        attribute.addValue(value);
        list.put(attribute);
    }

    private static Path fresh(String name) throws java.io.IOException {
        Path folder = SCRATCH.resolve(name);
        org.retinagrade.TestDatabase.deleteRecursively(folder);
        return Files.createDirectories(folder);
    }
}
