package org.retinagrade.dicom;

/** Failure to decode a DICOM file. The message gives the reason and names the value at fault. */
public final class DicomDecodeException extends Exception {

    public DicomDecodeException(String message) {
        super(message);
    }

    public DicomDecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
