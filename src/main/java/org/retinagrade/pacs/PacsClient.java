package org.retinagrade.pacs;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.CodeStringAttribute;
import com.pixelmed.dicom.DateAttribute;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.IntegerStringAttribute;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.PersonNameAttribute;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.ShortStringAttribute;
import com.pixelmed.dicom.StoredFilePathStrategy;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.UniqueIdentifierAttribute;
import com.pixelmed.network.AReleaseException;
import com.pixelmed.network.Association;
import com.pixelmed.network.CMoveRequestCommandMessage;
import com.pixelmed.network.CompositeResponseHandler;
import com.pixelmed.network.DicomNetworkException;
import com.pixelmed.network.FindSOPClassSCU;
import com.pixelmed.network.GetSOPClassSCU;
import com.pixelmed.network.IdentifierHandler;
import com.pixelmed.network.MoveSOPClassSCU;
import com.pixelmed.network.PDataPDU;
import com.pixelmed.network.PresentationDataValue;
import com.pixelmed.network.ReceivedObjectHandler;
import com.pixelmed.network.VerificationSOPClassSCU;
import java.lang.reflect.Field;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * DICOM SCU for one PACS, built on PixelMed. It sends C-ECHO, C-FIND in the Study Root model
 * at study, series and image level, C-MOVE to an AE title and C-GET into a folder. The
 * C-FIND and C-MOVE associations get TCP_NODELAY and the configured read timeout.
 */
public final class PacsClient {

    /** Storage SOP classes offered for C-GET: ophthalmic photography and the common image classes. */
    private static final Set<String> GET_STORAGE_CLASSES = Set.of(
            "1.2.840.10008.5.1.4.1.1.77.1.5.1", "1.2.840.10008.5.1.4.1.1.77.1.5.2", "1.2.840.10008.5.1.4.1.1.77.1.5.4",
            "1.2.840.10008.5.1.4.1.1.77.1.5.5", "1.2.840.10008.5.1.4.1.1.77.1.5.6",
            "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.5.1.4.1.1.1",
            "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4");

    /** Study-level query keys. Null or empty values match everything. Dates are "YYYYMMDD-YYYYMMDD" ranges. */
    public record StudyQuery(String patientId, String studyDateRange, String modality, String accessionNumber, String studyInstanceUid) {
    }

    private final PacsSettings settings;

    public PacsClient(PacsSettings settings) {
        this.settings = settings;
    }

    public PacsSettings settings() {
        return settings;
    }

    /** Sends a C-ECHO to the PACS and throws a PacsException when it fails. */
    public void echo() throws PacsException {
        try {
            new VerificationSOPClassSCU(settings.host(), settings.port(), settings.calledAeTitle(), settings.aeTitle(), false,
                    settings.timeoutSeconds() * 1000);
        } catch (Exception e) {
            throw failure("C-ECHO", e);
        }
    }

    /** Queries matching studies with a C-FIND at study level. */
    public List<AttributeList> findStudies(StudyQuery query) throws PacsException {
        try {
            AttributeList keys = new AttributeList();
            level(keys, "STUDY");
            string(keys, new LongStringAttribute(TagFromName.PatientID), query.patientId());
            string(keys, new PersonNameAttribute(TagFromName.PatientName), null);
            string(keys, new DateAttribute(TagFromName.StudyDate), query.studyDateRange());
            string(keys, new ShortStringAttribute(TagFromName.AccessionNumber), query.accessionNumber());
            string(keys, new CodeStringAttribute(TagFromName.ModalitiesInStudy), query.modality());
            string(keys, new UniqueIdentifierAttribute(TagFromName.StudyInstanceUID), query.studyInstanceUid());
            string(keys, new LongStringAttribute(TagFromName.StudyDescription), null);
            string(keys, new IntegerStringAttribute(TagFromName.NumberOfStudyRelatedInstances), null);
            return find(keys);
        } catch (DicomException e) {
            throw failure("C-FIND", e);
        }
    }

    /** Queries the series of a study with a C-FIND at series level. */
    public List<AttributeList> findSeries(String studyInstanceUid, String modality) throws PacsException {
        try {
            AttributeList keys = new AttributeList();
            level(keys, "SERIES");
            string(keys, new UniqueIdentifierAttribute(TagFromName.StudyInstanceUID), studyInstanceUid);
            string(keys, new UniqueIdentifierAttribute(TagFromName.SeriesInstanceUID), null);
            string(keys, new CodeStringAttribute(TagFromName.Modality), modality);
            string(keys, new CodeStringAttribute(TagFromName.Laterality), null);
            string(keys, new IntegerStringAttribute(TagFromName.NumberOfSeriesRelatedInstances), null);
            return find(keys);
        } catch (DicomException e) {
            throw failure("C-FIND", e);
        }
    }

    /** Queries the instances of a study with a C-FIND at image level and returns their {series UID, SOP Instance UID} pairs. */
    public List<String[]> findInstances(String studyInstanceUid) throws PacsException {
        try {
            AttributeList keys = new AttributeList();
            level(keys, "IMAGE");
            string(keys, new UniqueIdentifierAttribute(TagFromName.StudyInstanceUID), studyInstanceUid);
            string(keys, new UniqueIdentifierAttribute(TagFromName.SeriesInstanceUID), null);
            string(keys, new UniqueIdentifierAttribute(TagFromName.SOPInstanceUID), null);
            List<String[]> result = new ArrayList<>();
            for (AttributeList response : find(keys)) {
                result.add(new String[] {
                    Attribute.getSingleStringValueOrEmptyString(response, TagFromName.SeriesInstanceUID),
                    Attribute.getSingleStringValueOrEmptyString(response, TagFromName.SOPInstanceUID)});
            }
            return result;
        } catch (DicomException e) {
            throw failure("C-FIND", e);
        }
    }

    private List<AttributeList> find(AttributeList keys) throws PacsException {
        List<AttributeList> responses = new ArrayList<>();
        Association association = null;
        try {
            association = FindSOPClassSCU.getSuitableAssociation(settings.host(), settings.port(), settings.calledAeTitle(),
                    settings.aeTitle(), SOPClass.StudyRootQueryRetrieveInformationModelFind);
            tune(association);
            new FindSOPClassSCU(association, SOPClass.StudyRootQueryRetrieveInformationModelFind, keys,
                    new IdentifierHandler() {
                        @Override
                        public void doSomethingWithIdentifier(AttributeList identifier) {
                            responses.add(identifier);
                        }
                    });
            return responses;
        } catch (Exception e) {
            throw failure("C-FIND", e);
        } finally {
            release(association);
        }
    }

    /**
     * Moves whole series or single instances to an AE title with C-MOVE, on one association.
     * Each request is {study, series, SOP Instance UID or null for the whole series}. A request
     * that ends with any status other than success stops the retrieve with an exception, as
     * PixelMed's C-MOVE SCU does, and the instances not yet received stay pending.
     */
    public void move(String destinationAeTitle, List<String[]> requests) throws PacsException {
        Association association = null;
        try {
            association = MoveSOPClassSCU.getSuitableAssociation(settings.host(), settings.port(), settings.calledAeTitle(),
                    settings.aeTitle(), SOPClass.StudyRootQueryRetrieveInformationModelMove);
            tune(association);
            for (String[] request : requests) {
                DimseCommands.Command response = moveOne(association, destinationAeTitle, retrieveIdentifier(request));
                if (response.status() != 0x0000) {
                    throw new PacsException("C-MOVE with " + settings.peer() + " as " + settings.aeTitle() + ": "
                            + describe(request) + " ended with status " + describeStatus(response) + "; "
                            + moveHint(response.status(), destinationAeTitle));
                }
            }
        } catch (PacsException e) {
            throw e;
        } catch (Exception e) {
            throw failure("C-MOVE", e);
        } finally {
            release(association);
        }
    }

    /** Describes a C-MOVE status (PS3.4 annex C.4.2) with the numbers of sub-operations the PACS reported. */
    static String describeStatus(DimseCommands.Command response) {
        int status = response.status();
        String meaning;
        if (status >= 0xA700 && status <= 0xA7FF) {
            meaning = "refused: out of resources";
        } else if (status == 0xA801) {
            meaning = "refused: move destination unknown";
        } else if (status == 0xA900) {
            meaning = "identifier does not match SOP class";
        } else if (status == 0xB000) {
            meaning = "warning: sub-operations complete, one or more failures";
        } else if (status == 0xFE00) {
            meaning = "cancelled";
        } else if (status >= 0xC000 && status <= 0xCFFF) {
            meaning = "failed: unable to process";
        } else {
            meaning = "failed";
        }
        StringBuilder text = new StringBuilder(String.format("0x%04X (%s", status, meaning));
        if (response.completed() >= 0 || response.failed() >= 0) {
            text.append(String.format(", %d completed, %d failed", Math.max(0, response.completed()), Math.max(0, response.failed())));
        }
        return text.append(')').toString();
    }

    private String moveHint(int status, String destinationAeTitle) {
        if (status == 0xA801) {
            return "register AE title " + destinationAeTitle + " with our host and listening port in the PACS; resuming does"
                    + " not help until then";
        }
        if (status >= 0xA700 && status <= 0xA7FF) {
            return "the PACS is out of resources; resume the job later";
        }
        if (status == 0xB000 || status == 0xFE00) {
            return "resuming the job requests the missing instances again";
        }
        // A C-MOVE that starts and then fails is most often a PACS that cannot connect back to us.
        return "the PACS accepted the request but could not send the instances: check that it has AE title "
                + destinationAeTitle + " registered with our host and port " + settings.listenPort()
                + " (--listen-port), and that it can reach that port";
    }

    /**
     * Sends one C-MOVE request on the association and returns the final response. PixelMed's
     * MoveSOPClassSCU would read every pending response (one per instance moved) into an
     * attribute list, whereas {@link MoveResponses} reads only the fields it needs.
     */
    private static DimseCommands.Command moveOne(Association association, String destinationAeTitle, AttributeList identifier)
            throws DicomNetworkException, DicomException, java.io.IOException, AReleaseException {
        String sopClass = SOPClass.StudyRootQueryRetrieveInformationModelMove;
        byte context = association.getSuitablePresentationContextID(sopClass);
        byte[] command = new CMoveRequestCommandMessage(sopClass, destinationAeTitle).getBytes();
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream(256);
        com.pixelmed.dicom.DicomOutputStream out = new com.pixelmed.dicom.DicomOutputStream(data, null,
                association.getTransferSyntaxForPresentationContextID(context));
        identifier.write(out);
        out.close();
        if (data.size() % 2 != 0) {
            data.write(0); // a data set has an even length
        }
        MoveResponses responses = new MoveResponses();
        association.setReceivedDataHandler(responses);
        association.send(context, command, null);
        association.send(context, null, data.toByteArray());
        association.waitForPDataPDUsUntilHandlerReportsDone();
        if (responses.last == null) {
            throw new java.io.IOException("the C-MOVE ended without a final response");
        }
        return responses.last;
    }

    /**
     * Collects the C-MOVE responses of one request: pending ones (FF00) until a final one,
     * which it keeps. FF01, a pending status of C-FIND, is taken as pending too. A final
     * response may be followed by a data set (the Failed SOP Instance UID List), which is read
     * and dropped.
     */
    private static final class MoveResponses extends CompositeResponseHandler {
        /** Pending responses in a row without fewer remaining sub-operations, after which the retrieve stops. */
        private static final int MAX_STALLED_RESPONSES = 100;
        private final java.io.ByteArrayOutputStream commandBytes = new java.io.ByteArrayOutputStream(256);
        private DimseCommands.Command last;
        private int lastRemaining = Integer.MAX_VALUE;
        private int stalled;

        @Override
        public void sendPDataIndication(PDataPDU pdata, Association association) throws java.io.IOException {
            for (Object value : pdata.getPDVList()) {
                PresentationDataValue fragment = (PresentationDataValue) value;
                if (!fragment.isCommand()) {
                    if (fragment.isLastFragment()) {
                        setDone(last != null);
                    }
                    continue;
                }
                commandBytes.write(fragment.getValue());
                if (!fragment.isLastFragment()) {
                    continue;
                }
                DimseCommands.Command response = DimseCommands.parse(commandBytes.toByteArray(), commandBytes.size());
                commandBytes.reset();
                if (response.commandField() != 0x8021) {
                    throw new java.io.IOException("expected a C-MOVE response, received " + DimseCommands.name(response.commandField()));
                }
                if (response.status() < 0) {
                    throw new java.io.IOException("C-MOVE response without a Status (0000,0900) element");
                }
                if (response.status() == 0xFF00 || response.status() == 0xFF01) {
                    checkProgress(response.remaining());
                    continue;
                }
                last = response;
                setDone(!response.hasDataSet());
            }
        }

        /** Stops a C-MOVE whose PACS keeps sending pending responses without the remaining sub-operations going down. */
        private void checkProgress(int remaining) throws java.io.IOException {
            if (remaining < 0) {
                return;
            }
            stalled = remaining < lastRemaining ? 0 : stalled + 1;
            lastRemaining = Math.min(lastRemaining, remaining);
            if (stalled >= MAX_STALLED_RESPONSES) {
                throw new java.io.IOException("the PACS sent " + MAX_STALLED_RESPONSES + " pending C-MOVE responses in a row"
                        + " without progress (" + remaining + " sub-operations remaining)");
            }
        }

        @Override
        protected void evaluateStatusAndSetSuccess(AttributeList list) {
            // Not called: sendPDataIndication above reads the responses itself.
        }
    }

    /** Retrieves whole series or single instances with C-GET and passes each received file to the handler. */
    public void get(List<String[]> requests, Path incoming, ReceivedObjectHandler handler) throws PacsException {
        try {
            for (String[] request : requests) {
                new GetSOPClassSCU(settings.host(), settings.port(), settings.calledAeTitle(), settings.aeTitle(),
                        SOPClass.StudyRootQueryRetrieveInformationModelGet, retrieveIdentifier(request), null,
                        incoming.toFile(), StoredFilePathStrategy.BYSOPINSTANCEUIDINSINGLEFOLDER, handler,
                        new HashSet<>(GET_STORAGE_CLASSES), true, false, false);
            }
        } catch (Exception e) {
            throw failure("C-GET", e);
        }
    }

    private static AttributeList retrieveIdentifier(String[] request) throws DicomException {
        AttributeList identifier = new AttributeList();
        if (request[2] != null) {
            level(identifier, "IMAGE");
        } else if (request[1] != null) {
            level(identifier, "SERIES");
        } else {
            level(identifier, "STUDY");
        }
        string(identifier, new UniqueIdentifierAttribute(TagFromName.StudyInstanceUID), request[0]);
        if (request[1] != null) {
            string(identifier, new UniqueIdentifierAttribute(TagFromName.SeriesInstanceUID), request[1]);
        }
        if (request[2] != null) {
            string(identifier, new UniqueIdentifierAttribute(TagFromName.SOPInstanceUID), request[2]);
        }
        return identifier;
    }

    private static String describe(String[] request) {
        if (request[2] != null) {
            return "instance " + request[2];
        }
        if (request[1] != null) {
            return "series " + request[1];
        }
        return "study " + request[0];
    }

    private void tune(Association association) {
        try {
            Field field = Association.class.getDeclaredField("socket");
            field.setAccessible(true);
            Socket socket = (Socket) field.get(association);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(settings.timeoutSeconds() * 1000);
        } catch (ReflectiveOperationException | java.io.IOException | RuntimeException e) {
            // PixelMed changed its internals. The operation still works, but is slower on loopback.
            org.jboss.logging.Logger.getLogger(PacsClient.class).debugf("cannot set TCP_NODELAY: %s", e.getMessage());
        }
    }

    private static void release(Association association) {
        if (association != null) {
            try {
                association.release();
            } catch (Exception e) {
                try {
                    association.abort();
                } catch (Exception ignored) {
                    // The peer is gone, so nothing is left to close.
                }
            }
        }
    }

    private static void level(AttributeList list, String level) throws DicomException {
        string(list, new CodeStringAttribute(TagFromName.QueryRetrieveLevel), level);
    }

    private static void string(AttributeList list, Attribute attribute, String value) throws DicomException {
        if (value != null && !value.isBlank()) {
            attribute.addValue(value.strip());
        }
        list.put(attribute);
    }

    private PacsException failure(String operation, Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        String hint = "check that the PACS runs there and accepts our AE title";
        return new PacsException(operation + " with " + settings.peer() + " as " + settings.aeTitle() + " failed: " + message
                + "; " + hint, e);
    }

    static AttributeTag tag(int group, int element) {
        return new AttributeTag(group, element);
    }
}
