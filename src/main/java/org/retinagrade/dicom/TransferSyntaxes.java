package org.retinagrade.dicom;

import java.util.Map;

/** Names of the transfer syntaxes that RetinaGrade meets, for messages and reports. */
public final class TransferSyntaxes {

    public static final String IMPLICIT_LITTLE = "1.2.840.10008.1.2";
    public static final String EXPLICIT_LITTLE = "1.2.840.10008.1.2.1";
    public static final String DEFLATED_EXPLICIT_LITTLE = "1.2.840.10008.1.2.1.99";
    public static final String EXPLICIT_BIG = "1.2.840.10008.1.2.2";
    public static final String RLE = "1.2.840.10008.1.2.5";
    public static final String HTJ2K = "1.2.840.10008.1.2.4.203";

    private static final Map<String, String> NAMES = Map.ofEntries(
            Map.entry(IMPLICIT_LITTLE, "Implicit VR Little Endian"),
            Map.entry(EXPLICIT_LITTLE, "Explicit VR Little Endian"),
            Map.entry(DEFLATED_EXPLICIT_LITTLE, "Deflated Explicit VR Little Endian"),
            Map.entry(EXPLICIT_BIG, "Explicit VR Big Endian"),
            Map.entry("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
            Map.entry("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"),
            Map.entry("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"),
            Map.entry("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])"),
            Map.entry("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
            Map.entry("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)"),
            Map.entry("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)"),
            Map.entry("1.2.840.10008.1.2.4.91", "JPEG 2000"),
            Map.entry("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)"),
            Map.entry("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)"),
            Map.entry("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000"),
            Map.entry("1.2.840.10008.1.2.5", "RLE Lossless"),
            Map.entry("1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression"));

    private TransferSyntaxes() {
    }

    /** Returns "UID (name)" for a known transfer syntax, otherwise the UID alone. */
    public static String describe(String uid) {
        String name = NAMES.get(uid);
        return name == null ? uid : uid + " (" + name + ")";
    }

    /** Returns true for the uncompressed (native) transfer syntaxes. */
    public static boolean isNative(String uid) {
        return IMPLICIT_LITTLE.equals(uid) || EXPLICIT_LITTLE.equals(uid) || DEFLATED_EXPLICIT_LITTLE.equals(uid)
                || EXPLICIT_BIG.equals(uid);
    }

    /** Returns true for the lossless encodings, whose decoded pixels must match other decoders exactly. */
    public static boolean isLossless(String uid) {
        return isNative(uid) || uid.equals("1.2.840.10008.1.2.4.57") || uid.equals("1.2.840.10008.1.2.4.70")
                || uid.equals("1.2.840.10008.1.2.4.80") || uid.equals("1.2.840.10008.1.2.4.90")
                || uid.equals("1.2.840.10008.1.2.5");
    }
}
