package org.retinagrade.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.CodeStringAttribute;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.SequenceItem;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.ValueRepresentation;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.retinagrade.ingest.Pseudonymizer;

/**
 * De-identifies a data set per the Basic Application Level Confidentiality Profile of DICOM
 * PS3.15 Annex E, Table E.1-1, which is a resource of this package. Attributes marked X are
 * removed, Z emptied and D replaced by a dummy value. Attributes marked U (UIDs) are remapped
 * consistently to "2.25." UIDs derived from a keyed hash, unless UIDs are retained. Private
 * attributes, curves and overlays are removed, and nested sequences are treated the same way.
 * Patient ID and Patient's Name become the keyed pseudonym. Patient Identity Removed and
 * De-identification Method record what was done.
 */
public final class Deidentifier {

    /** The profile's row for one attribute. */
    record Rule(AttributeTag tag, String name, String action) {
    }

    private static final Map<AttributeTag, Rule> RULES = loadRules();
    private static final int MAX_DEPTH = 64;

    private final Pseudonymizer pseudonymizer;
    private final boolean retainUids;

    public Deidentifier(Pseudonymizer pseudonymizer, boolean retainUids) {
        this.pseudonymizer = pseudonymizer;
        this.retainUids = retainUids;
    }

    /** Returns the number of rows of Table E.1-1 applied (wildcard rows count once). */
    public static int ruleCount() {
        return RULES.size() + 3;
    }

    /** Returns the pseudonymous patient key used for Patient ID and Patient's Name. */
    public String patientPseudonym(DicomMetadata metadata) {
        String issuer = metadata.patientIdIssuer() == null ? "" : metadata.patientIdIssuer();
        String id = metadata.patientId() == null ? "unknown:" + metadata.studyInstanceUid() : metadata.patientId();
        return pseudonymizer.pseudonym("dicom:" + issuer, id);
    }

    /** Returns the UID stored for an original UID: the same UID when retained, otherwise its keyed remapping. */
    public String mapUid(String uid) {
        if (uid == null || retainUids) {
            return uid;
        }
        String digest = pseudonymizer.pseudonym("uid", uid);
        return "2.25." + new BigInteger(digest, 16);
    }

    /** De-identifies the data set in place. The writer must rebuild the file meta information. */
    public void apply(AttributeList list, DicomMetadata metadata) throws DicomException {
        clean(list, 0);
        String pseudonym = patientPseudonym(metadata);
        replace(list, TagFromName.PatientID, pseudonym);
        replace(list, TagFromName.PatientName, pseudonym);
        CodeStringAttribute removed = new CodeStringAttribute(TagFromName.PatientIdentityRemoved);
        removed.addValue("YES");
        list.put(removed);
        LongStringAttribute method = new LongStringAttribute(TagFromName.DeidentificationMethod);
        method.addValue(retainUids ? "PS3.15 E.1-1 Basic Profile, Retain UIDs" : "PS3.15 E.1-1 Basic Profile");
        list.put(method);
        list.remove(TagFromName.MediaStorageSOPInstanceUID);
    }

    private void clean(AttributeList list, int depth) throws DicomException {
        if (depth > MAX_DEPTH) {
            throw new DicomException("sequences nested deeper than " + MAX_DEPTH + " levels");
        }
        List<AttributeTag> tags = new ArrayList<>(list.keySet());
        for (AttributeTag tag : tags) {
            if (tag.getGroup() == 0x0002) {
                // File meta information of the source (AE titles, addresses, private data): the
                // writer adds new file meta information.
                list.remove(tag);
                continue;
            }
            if (tag.isPrivate() || isCurveOrOverlay(tag)) {
                list.remove(tag);
                continue;
            }
            Rule rule = RULES.get(tag);
            Attribute attribute = list.get(tag);
            if (rule == null) {
                if (attribute instanceof SequenceAttribute sequence) {
                    cleanItems(sequence, depth);
                }
                continue;
            }
            String action = rule.action();
            if (action.equals("U") || (action.endsWith("U*") && !(attribute instanceof SequenceAttribute))) {
                remapUids(list, tag, attribute);
            } else if (action.startsWith("X")) {
                list.remove(tag);
            } else if (action.startsWith("Z")) {
                empty(list, tag, attribute);
            } else if (action.equals("D")) {
                dummy(list, tag, attribute);
            } else {
                list.remove(tag);
            }
        }
    }

    private void cleanItems(SequenceAttribute sequence, int depth) throws DicomException {
        for (int i = 0; i < sequence.getNumberOfItems(); i++) {
            SequenceItem item = sequence.getItem(i);
            clean(item.getAttributeList(), depth + 1);
        }
    }

    private void remapUids(AttributeList list, AttributeTag tag, Attribute attribute) throws DicomException {
        if (!ValueRepresentation.isUniqueIdentifierVR(attribute.getVR())) {
            list.remove(tag);
            return;
        }
        String[] values = attribute.getStringValues();
        attribute.removeValues();
        if (values != null) {
            for (String value : values) {
                attribute.addValue(mapUid(value.strip()));
            }
        }
    }

    private static void empty(AttributeList list, AttributeTag tag, Attribute attribute) throws DicomException {
        if (attribute instanceof SequenceAttribute) {
            list.put(new SequenceAttribute(tag));
        } else {
            attribute.removeValues();
        }
    }

    private static void dummy(AttributeList list, AttributeTag tag, Attribute attribute) throws DicomException {
        byte[] vr = attribute.getVR();
        String value;
        if (ValueRepresentation.isDateVR(vr)) {
            value = "19000101";
        } else if (ValueRepresentation.isTimeVR(vr)) {
            value = "000000";
        } else if (ValueRepresentation.isDateTimeVR(vr)) {
            value = "19000101000000";
        } else if (ValueRepresentation.isCodeStringVR(vr)) {
            value = "REMOVED";
        } else if (ValueRepresentation.isPersonNameVR(vr) || ValueRepresentation.isLongStringVR(vr)
                || ValueRepresentation.isShortStringVR(vr) || ValueRepresentation.isLongTextVR(vr)
                || ValueRepresentation.isShortTextVR(vr) || ValueRepresentation.isUnlimitedTextVR(vr)
                || ValueRepresentation.isUnlimitedCharactersVR(vr)) {
            value = "REMOVED";
        } else if (ValueRepresentation.isIntegerStringVR(vr) || ValueRepresentation.isDecimalStringVR(vr)) {
            value = "0";
        } else {
            // Binary, numeric and sequence values have no meaningful dummy, so their values are removed.
            empty(list, tag, attribute);
            return;
        }
        attribute.removeValues();
        attribute.addValue(value);
    }

    private static void replace(AttributeList list, AttributeTag tag, String value) throws DicomException {
        Attribute attribute = list.get(tag);
        if (attribute == null) {
            attribute = tag.equals(TagFromName.PatientName) ? new com.pixelmed.dicom.PersonNameAttribute(tag)
                    : new LongStringAttribute(tag);
            list.put(attribute);
        }
        attribute.removeValues();
        attribute.addValue(value);
    }

    private static boolean isCurveOrOverlay(AttributeTag tag) {
        int group = tag.getGroup();
        if ((group & 0xFF00) == 0x5000) {
            return true;
        }
        return (group & 0xFF00) == 0x6000 && (tag.getElement() == 0x3000 || tag.getElement() == 0x4000);
    }

    private static Map<AttributeTag, Rule> loadRules() {
        Map<AttributeTag, Rule> rules = new HashMap<>();
        try (InputStream in = Deidentifier.class.getResourceAsStream("/dicom/ps3.15-table-e1-1.tsv")) {
            if (in == null) {
                throw new IllegalStateException("resource /dicom/ps3.15-table-e1-1.tsv is missing from the build");
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("#") || line.startsWith("tag\t") || line.isBlank()) {
                    continue;
                }
                String[] fields = line.split("\t");
                String tag = fields[0];
                if (!tag.matches("[0-9A-F]{8}")) {
                    continue; // wildcard rows (curves, overlays) and private attributes are handled by group
                }
                AttributeTag parsed = new AttributeTag(Integer.parseInt(tag.substring(0, 4), 16),
                        Integer.parseInt(tag.substring(4), 16));
                rules.put(parsed, new Rule(parsed, fields[1], fields[2].strip()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.copyOf(rules);
    }

    /** Returns the tags of the profile table with their actions, for tests and documentation. */
    static Map<AttributeTag, Rule> rules() {
        return RULES;
    }
}
