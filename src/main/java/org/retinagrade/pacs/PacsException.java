package org.retinagrade.pacs;

/** A DICOM network operation that failed; the message names the peer and what to check. */
public final class PacsException extends Exception {

    public PacsException(String message, Throwable cause) {
        super(message, cause);
    }

    public PacsException(String message) {
        super(message);
    }
}
