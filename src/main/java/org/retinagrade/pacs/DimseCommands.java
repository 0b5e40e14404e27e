package org.retinagrade.pacs;

import com.pixelmed.dicom.VersionAndConstants;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads and writes the few DIMSE command sets that the C-STORE receiver and the C-MOVE client
 * handle (PS3.7 section 9.3 and annex E), and the file meta information of the Part 10 files
 * the receiver writes (PS3.10 section 7.1). A command set is a group 0000 data set in implicit
 * VR little endian.
 *
 * <p>PixelMed can do the same with its AttributeList, but that builds a sorted map of attribute
 * objects for every message. In bench/pacs that work, in the interpreter and then in the JIT
 * compilers, took CPU time that the sending PACS needed on a 2-core machine.
 */
final class DimseCommands {

    static final int C_STORE_RQ = 0x0001;
    static final int C_ECHO_RQ = 0x0030;
    private static final int C_STORE_RSP = 0x8001;
    private static final int C_ECHO_RSP = 0x8030;
    /** Command Data Set Type value meaning that no data set follows. */
    private static final int NO_DATA_SET = 0x0101;

    private DimseCommands() {
    }

    /**
     * Fields of a command set that the receiver and the C-MOVE client use. The status and the
     * numbers of remaining, completed, failed and warning sub-operations are -1 when absent.
     */
    record Command(int commandField, int messageId, String affectedSopClassUid, String affectedSopInstanceUid,
            boolean hasDataSet, int status, int remaining, int completed, int failed, int warnings) {

        /** Encodes the response to this request with the given status. */
        byte[] response(int status) {
            return DimseCommands.response(this, status);
        }
    }

    /**
     * Reads a command set and skips unknown elements. An element that runs past the end, or a
     * command set with no Command Field, is an error.
     */
    static Command parse(byte[] command, int length) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(command, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        int field = -1;
        int messageId = 0;
        int dataSetType = NO_DATA_SET;
        int status = -1;
        int[] subOperations = {-1, -1, -1, -1};
        String sopClass = null;
        String sopInstance = null;

        while (in.remaining() >= 8) {
            int group = in.getShort() & 0xFFFF;
            int element = in.getShort() & 0xFFFF;
            long valueLength = in.getInt() & 0xFFFFFFFFL;
            if (valueLength > in.remaining()) {
                throw new IOException(String.format("invalid command set: element (%04X,%04X) claims %d bytes, but %d are left",
                        group, element, valueLength, in.remaining()));
            }
            int start = in.position();
            int end = start + (int) valueLength;
            if (group == 0x0000) {
                switch (element) {
                    case 0x0002 -> sopClass = text(command, start, end);
                    case 0x0100 -> field = unsignedShort(in, valueLength);
                    case 0x0110 -> messageId = unsignedShort(in, valueLength);
                    case 0x0800 -> dataSetType = unsignedShort(in, valueLength);
                    case 0x0900 -> status = unsignedShort(in, valueLength);
                    case 0x1020, 0x1021, 0x1022, 0x1023 -> subOperations[element - 0x1020] = unsignedShort(in, valueLength);
                    case 0x1000 -> sopInstance = text(command, start, end);
                    default -> {
                    }
                }
            }
            in.position(end);
        }

        if (in.hasRemaining()) {
            throw new IOException("invalid command set: " + in.remaining() + " bytes left over after the last element");
        }
        if (field < 0) {
            throw new IOException("invalid command set: missing Command Field (0000,0100)");
        }
        return new Command(field, messageId, sopClass, sopInstance, dataSetType != NO_DATA_SET, status, subOperations[0],
                subOperations[1], subOperations[2], subOperations[3]);
    }

    /** Returns the PS3.7 annex E name of a command field, for messages. */
    static String name(int commandField) {
        return switch (commandField) {
            case 0x0001 -> "C-STORE-RQ";
            case 0x0010 -> "C-GET-RQ";
            case 0x0020 -> "C-FIND-RQ";
            case 0x0021 -> "C-MOVE-RQ";
            case 0x0030 -> "C-ECHO-RQ";
            case 0x0FFF -> "C-CANCEL-RQ";
            case 0x0100 -> "N-EVENT-REPORT-RQ";
            case 0x0110 -> "N-GET-RQ";
            case 0x0120 -> "N-SET-RQ";
            case 0x0130 -> "N-ACTION-RQ";
            case 0x0140 -> "N-CREATE-RQ";
            case 0x0150 -> "N-DELETE-RQ";
            default -> String.format("command 0x%04X", commandField);
        };
    }

    private static byte[] response(Command request, int status) {
        boolean store = request.commandField() == C_STORE_RQ;
        byte[] sopClass = uid(request.affectedSopClassUid());
        byte[] sopInstance = store ? uid(request.affectedSopInstanceUid()) : null;
        // Elements after the group length: four unsigned shorts of 10 bytes each, and the UIDs.
        int groupLength = 4 * 10 + 8 + sopClass.length + (store ? 8 + sopInstance.length : 0);
        ByteBuffer out = ByteBuffer.allocate(12 + groupLength).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0x0000_0000).putInt(4).putInt(groupLength);
        out.putInt(0x0002_0000).putInt(sopClass.length).put(sopClass);
        unsignedShort(out, 0x0100, store ? C_STORE_RSP : C_ECHO_RSP);
        unsignedShort(out, 0x0120, request.messageId());
        unsignedShort(out, 0x0800, NO_DATA_SET);
        unsignedShort(out, 0x0900, status);
        if (store) {
            out.putInt(0x1000_0000).putInt(sopInstance.length).put(sopInstance);
        }
        return out.array();
    }

    /**
     * Encodes the 128-byte preamble, "DICM" and the file meta information group in explicit VR
     * little endian. The implementation class UID and version name are PixelMed's, as in the
     * files the receiver wrote through PixelMed before.
     */
    static byte[] fileMetaInformation(String sopClassUid, String sopInstanceUid, String transferSyntaxUid,
            String sourceAeTitle) {
        byte[] sopClass = uid(sopClassUid);
        byte[] sopInstance = uid(sopInstanceUid);
        byte[] syntax = uid(transferSyntaxUid);
        byte[] implementation = uid(VersionAndConstants.implementationClassUID);
        byte[] version = text(VersionAndConstants.implementationVersionName);
        byte[] source = text(sourceAeTitle == null ? "" : sourceAeTitle);
        int groupLength = 12 + 2 + 8 * 6 + sopClass.length + sopInstance.length + syntax.length + implementation.length
                + version.length + source.length;
        ByteBuffer out = ByteBuffer.allocate(128 + 4 + 12 + groupLength).order(ByteOrder.LITTLE_ENDIAN);
        out.position(128);
        out.put("DICM".getBytes(StandardCharsets.US_ASCII));
        explicit(out, 0x0000, "UL", new byte[] {(byte) groupLength, (byte) (groupLength >>> 8), (byte) (groupLength >>> 16),
            (byte) (groupLength >>> 24)});
        out.putShort((short) 0x0002).putShort((short) 0x0001).put("OB".getBytes(StandardCharsets.US_ASCII)).putShort((short) 0)
                .putInt(2).put((byte) 0).put((byte) 1);
        explicit(out, 0x0002, "UI", sopClass);
        explicit(out, 0x0003, "UI", sopInstance);
        explicit(out, 0x0010, "UI", syntax);
        explicit(out, 0x0012, "UI", implementation);
        explicit(out, 0x0013, "SH", version);
        explicit(out, 0x0016, "AE", source);
        return out.array();
    }

    private static void explicit(ByteBuffer out, int element, String vr, byte[] value) {
        out.putShort((short) 0x0002).putShort((short) element).put(vr.getBytes(StandardCharsets.US_ASCII))
                .putShort((short) value.length).put(value);
    }

    private static void unsignedShort(ByteBuffer out, int element, int value) {
        out.putShort((short) 0x0000).putShort((short) element).putInt(2).putShort((short) value);
    }

    private static int unsignedShort(ByteBuffer in, long valueLength) throws IOException {
        if (valueLength != 2) {
            throw new IOException("invalid command set: an unsigned short element of " + valueLength + " bytes");
        }
        return in.getShort(in.position()) & 0xFFFF;
    }

    /** Reads a UI or AE value, without the padding (NUL or space) and surrounding spaces. */
    private static String text(byte[] bytes, int start, int end) {
        while (end > start && (bytes[end - 1] == 0 || bytes[end - 1] == ' ')) {
            end--;
        }
        while (start < end && bytes[start] == ' ') {
            start++;
        }
        return new String(bytes, start, end - start, StandardCharsets.US_ASCII);
    }

    /** Encodes a UID padded with NUL to an even length. */
    private static byte[] uid(String value) {
        return padded(value == null ? "" : value, (byte) 0);
    }

    /** Encodes a text value padded with a space to an even length. */
    private static byte[] text(String value) {
        return padded(value, (byte) ' ');
    }

    private static byte[] padded(String value, byte pad) {
        byte[] ascii = value.getBytes(StandardCharsets.US_ASCII);
        if (ascii.length % 2 == 0) {
            return ascii;
        }
        byte[] even = java.util.Arrays.copyOf(ascii, ascii.length + 1);
        even[ascii.length] = pad;
        return even;
    }
}
