package org.retinagrade.pacs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.dicom.VersionAndConstants;
import com.pixelmed.network.CEchoRequestCommandMessage;
import com.pixelmed.network.CMoveResponseCommandMessage;
import com.pixelmed.network.CStoreRequestCommandMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Checks the command sets and file meta information we encode against PixelMed's reading and writing of them. */
class DimseCommandsTest {

    private static final String INSTANCE = "1.2.826.0.1.3680043.2.1125.77.1"; // odd length, so it is padded

    @Test
    void storeRequestFromPixelMedIsRead() throws Exception {
        byte[] bytes = new CStoreRequestCommandMessage(SOPClass.OphthalmicPhotography8BitImageStorage, INSTANCE).getBytes();
        DimseCommands.Command request = DimseCommands.parse(bytes, bytes.length);
        assertEquals(DimseCommands.C_STORE_RQ, request.commandField());
        assertEquals(SOPClass.OphthalmicPhotography8BitImageStorage, request.affectedSopClassUid());
        assertEquals(INSTANCE, request.affectedSopInstanceUid());
        assertTrue(request.hasDataSet());
        assertEquals(-1, request.status());
        AttributeList pixelmed = read(bytes, TransferSyntax.ImplicitVRLittleEndian);
        assertEquals(Attribute.getSingleIntegerValueOrDefault(pixelmed, TagFromName.MessageID, -1), request.messageId());
    }

    @Test
    void storeResponseReadsBackInPixelMed() throws Exception {
        byte[] bytes = new CStoreRequestCommandMessage(SOPClass.OphthalmicPhotography8BitImageStorage, INSTANCE).getBytes();
        DimseCommands.Command request = DimseCommands.parse(bytes, bytes.length);
        byte[] response = request.response(0xC000);
        AttributeList list = read(response, TransferSyntax.ImplicitVRLittleEndian);
        assertEquals(0x8001, Attribute.getSingleIntegerValueOrDefault(list, TagFromName.CommandField, -1));
        assertEquals(request.messageId(), Attribute.getSingleIntegerValueOrDefault(list, TagFromName.MessageIDBeingRespondedTo, -1));
        assertEquals(0x0101, Attribute.getSingleIntegerValueOrDefault(list, TagFromName.CommandDataSetType, -1));
        assertEquals(0xC000, Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Status, -1));
        assertEquals(INSTANCE, Attribute.getSingleStringValueOrNull(list, TagFromName.AffectedSOPInstanceUID));
        assertEquals(SOPClass.OphthalmicPhotography8BitImageStorage,
                Attribute.getSingleStringValueOrNull(list, TagFromName.AffectedSOPClassUID));
        // The group length counts every byte after its own element.
        assertEquals(response.length - 12, Attribute.getSingleIntegerValueOrDefault(list, new com.pixelmed.dicom.AttributeTag(0x0000, 0x0000), -1));
        assertEquals(0, response.length % 2);
    }

    @Test
    void echoRequestAndResponse() throws Exception {
        byte[] bytes = new CEchoRequestCommandMessage().getBytes();
        DimseCommands.Command request = DimseCommands.parse(bytes, bytes.length);
        assertEquals(DimseCommands.C_ECHO_RQ, request.commandField());
        assertFalse(request.hasDataSet());
        AttributeList list = read(request.response(0), TransferSyntax.ImplicitVRLittleEndian);
        assertEquals(0x8030, Attribute.getSingleIntegerValueOrDefault(list, TagFromName.CommandField, -1));
        assertEquals(0, Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Status, -1));
        assertEquals(null, list.get(TagFromName.AffectedSOPInstanceUID));
    }

    @Test
    void moveResponseStatusIsRead() throws Exception {
        byte[] pending = new CMoveResponseCommandMessage(SOPClass.StudyRootQueryRetrieveInformationModelMove, 7, 0xFF00, false,
                12, 3, 0, 0).getBytes();
        assertEquals(0xFF00, DimseCommands.parse(pending, pending.length).status());
        byte[] failed = new CMoveResponseCommandMessage(SOPClass.StudyRootQueryRetrieveInformationModelMove, 7, 0xA801, false,
                0, 0, 0, 0).getBytes();
        DimseCommands.Command response = DimseCommands.parse(failed, failed.length);
        assertEquals(0xA801, response.status());
        assertEquals(0x8021, response.commandField());
        DimseCommands.Command counted = DimseCommands.parse(pending, pending.length);
        assertEquals(12, counted.remaining());
        assertEquals(3, counted.completed());
        assertEquals(0, counted.failed());
        assertEquals(0, counted.warnings());
    }

    @Test
    void moveStatusesAreDescribed() throws Exception {
        byte[] partial = new CMoveResponseCommandMessage(SOPClass.StudyRootQueryRetrieveInformationModelMove, 7, 0xB000, false,
                0, 8, 2, 0).getBytes();
        assertEquals("0xB000 (warning: sub-operations complete, one or more failures, 8 completed, 2 failed)",
                PacsClient.describeStatus(DimseCommands.parse(partial, partial.length)));
        byte[] unknown = new CMoveResponseCommandMessage(SOPClass.StudyRootQueryRetrieveInformationModelMove, 7, 0xA801, false,
                0, 0, 0, 0).getBytes();
        assertTrue(PacsClient.describeStatus(DimseCommands.parse(unknown, unknown.length))
                .startsWith("0xA801 (refused: move destination unknown"));
        byte[] busy = new CMoveResponseCommandMessage(SOPClass.StudyRootQueryRetrieveInformationModelMove, 7, 0xA702, false,
                0, 0, 0, 0).getBytes();
        assertTrue(PacsClient.describeStatus(DimseCommands.parse(busy, busy.length)).contains("out of resources"));
    }

    @Test
    void fileMetaInformationReadsBackInPixelMed() throws Exception {
        byte[] meta = DimseCommands.fileMetaInformation(SOPClass.OphthalmicPhotography8BitImageStorage, INSTANCE,
                TransferSyntax.JPEGBaseline, "ORTHANC");
        assertArrayEquals(new byte[128], java.util.Arrays.copyOf(meta, 128));
        assertEquals("DICM", new String(meta, 128, 4, StandardCharsets.US_ASCII));
        AttributeList list = new AttributeList();
        try (DicomInputStream in = new DicomInputStream(new ByteArrayInputStream(meta))) {
            list.read(in);
        }
        assertEquals(SOPClass.OphthalmicPhotography8BitImageStorage,
                Attribute.getSingleStringValueOrNull(list, TagFromName.MediaStorageSOPClassUID));
        assertEquals(INSTANCE, Attribute.getSingleStringValueOrNull(list, TagFromName.MediaStorageSOPInstanceUID));
        assertEquals(TransferSyntax.JPEGBaseline, Attribute.getSingleStringValueOrNull(list, TagFromName.TransferSyntaxUID));
        assertEquals(VersionAndConstants.implementationClassUID,
                Attribute.getSingleStringValueOrNull(list, TagFromName.ImplementationClassUID));
        assertEquals("ORTHANC", Attribute.getSingleStringValueOrNull(list, TagFromName.SourceApplicationEntityTitle));
        assertEquals(meta.length - 128 - 4 - 12,
                Attribute.getSingleIntegerValueOrDefault(list, TagFromName.FileMetaInformationGroupLength, -1));
    }

    @Test
    void malformedCommandSetsAreRejected() {
        // An element that claims more bytes than are left.
        byte[] overrun = element(0x0100, 40, new byte[] {1, 0});
        IOException e = assertThrows(IOException.class, () -> DimseCommands.parse(overrun, overrun.length));
        assertTrue(e.getMessage().contains("(0000,0100) claims 40 bytes"), e.getMessage());
        // No Command Field.
        byte[] noField = element(0x0110, 2, new byte[] {1, 0});
        e = assertThrows(IOException.class, () -> DimseCommands.parse(noField, noField.length));
        assertTrue(e.getMessage().contains("missing Command Field"), e.getMessage());
        // A Command Field of four bytes.
        byte[] wide = element(0x0100, 4, new byte[] {1, 0, 0, 0});
        e = assertThrows(IOException.class, () -> DimseCommands.parse(wide, wide.length));
        assertTrue(e.getMessage().contains("unsigned short element of 4 bytes"), e.getMessage());
        // Bytes left over that cannot hold an element header.
        byte[] field = element(0x0100, 2, new byte[] {1, 0});
        byte[] trailing = java.util.Arrays.copyOf(field, field.length + 3);
        e = assertThrows(IOException.class, () -> DimseCommands.parse(trailing, trailing.length));
        assertTrue(e.getMessage().contains("3 bytes left over"), e.getMessage());
    }

    private static byte[] element(int element, int declaredLength, byte[] value) {
        ByteBuffer out = ByteBuffer.allocate(8 + value.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putShort((short) 0).putShort((short) element).putInt(declaredLength).put(value);
        return out.array();
    }

    private static AttributeList read(byte[] bytes, String transferSyntax) throws Exception {
        AttributeList list = new AttributeList();
        list.read(new DicomInputStream(new ByteArrayInputStream(bytes), transferSyntax, false));
        return list;
    }
}
