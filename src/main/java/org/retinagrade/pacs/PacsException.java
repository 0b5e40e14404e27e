package org.retinagrade.pacs;

/** Failure of a DICOM network operation. The message names the peer and what to check. */
public class PacsException extends Exception {

    public PacsException(String message, Throwable cause) {
        super(message, cause);
    }

    public PacsException(String message) {
        super(message);
    }
}
