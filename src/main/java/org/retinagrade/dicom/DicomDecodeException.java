package org.retinagrade.dicom;

/** A DICOM file that cannot be decoded here; the message says why and names the value at fault. */
public final class DicomDecodeException extends Exception {

    public DicomDecodeException(String message) {
        super(message);
    }

    public DicomDecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
