package org.retinagrade.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeFactory;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomDictionary;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.SequenceItem;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.ValueRepresentation;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.retinagrade.ingest.Pseudonymizer;

/**
 * Tests of de-identification per PS3.15 Table E.1-1. A data set with every attribute of the
 * table filled with a recognisable identifying value is de-identified and written to a Part 10
 * file. The values also sit inside a nested sequence, in private attributes and in an overlay.
 * Read back, the file contains no identifying value anywhere.
 */
class DeidentifierTest {

    private static final String MARK = "IDENTIFYING";
    private static final Pseudonymizer KEYED = new Pseudonymizer(new byte[32]);

    @Test
    void noAttributeOfTheProfileSurvives() throws Exception {
        List<AttributeTag> tags = profileTags();
        assertTrue(tags.size() > 400, "profile table has only " + tags.size() + " tags");
        AttributeList list = new AttributeList();
        int filled = 0;
        for (AttributeTag tag : tags) {
            Attribute attribute = identifying(tag, 0);
            if (attribute != null) {
                list.put(attribute);
                filled++;
            }
        }
        assertTrue(filled > 350, "only " + filled + " attributes could be filled");

        // The same attributes one level down, inside a sequence the profile does not name.
        SequenceAttribute nested = new SequenceAttribute(new AttributeTag(0x0040, 0xA730)); // Content Sequence
        AttributeList item = new AttributeList();
        item.put(identifying(TagFromName.PatientName, 1));
        item.put(identifying(TagFromName.InstitutionName, 1));
        item.put(identifying(TagFromName.ReferencedSOPInstanceUID, 1));
        nested.addItem(item);
        list.put(nested);

        LongStringAttribute privateCreator = new LongStringAttribute(new AttributeTag(0x0029, 0x0010));
        privateCreator.addValue("ACME " + MARK);
        list.put(privateCreator);
        LongStringAttribute privateValue = new LongStringAttribute(new AttributeTag(0x0029, 0x1010));
        privateValue.addValue(MARK + " private");
        list.put(privateValue);

        OtherByteAttribute overlay = new OtherByteAttribute(new AttributeTag(0x6000, 0x3000));
        overlay.setValues((MARK + "!").getBytes(StandardCharsets.US_ASCII));
        list.put(overlay);
        LongStringAttribute sourceAe = new LongStringAttribute(new AttributeTag(0x0002, 0x0016)); // Source Application Entity Title
        sourceAe.addValue(MARK + "AE");
        list.put(sourceAe);
        required(list);

        String originalSop = Attribute.getSingleStringValueOrEmptyString(list, TagFromName.SOPInstanceUID);
        DicomMetadata metadata = DicomMetadata.of(list);
        Deidentifier deidentifier = new Deidentifier(KEYED, false);
        deidentifier.apply(list, metadata);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        com.pixelmed.dicom.FileMetaInformation.addFileMetaInformation(list, "1.2.840.10008.1.2.1", "TEST");
        list.write(out, "1.2.840.10008.1.2.1", true, true);
        byte[] written = out.toByteArray();

        assertFalse(new String(written, StandardCharsets.ISO_8859_1).contains(MARK),
                "an identifying value survived in the written file");
        String text = new String(written, StandardCharsets.ISO_8859_1);
        assertFalse(text.contains("19610704"), "an identifying date survived in the written file");
        assertFalse(text.contains("101112"), "an identifying time survived in the written file");
        assertFalse(text.contains("061Y"), "an identifying age survived in the written file");
        assertFalse(new String(written, StandardCharsets.ISO_8859_1).contains("1.2.999.1"),
                "an original UID survived in the written file");

        AttributeList reread = new AttributeList();
        reread.read(new DicomInputStream(new ByteArrayInputStream(written)));
        String pseudonym = deidentifier.patientPseudonym(metadata);
        assertEquals(pseudonym, Attribute.getSingleStringValueOrEmptyString(reread, TagFromName.PatientID));
        assertEquals(pseudonym, Attribute.getSingleStringValueOrEmptyString(reread, TagFromName.PatientName));
        assertEquals("YES", Attribute.getSingleStringValueOrEmptyString(reread, TagFromName.PatientIdentityRemoved));
        String storedSop = Attribute.getSingleStringValueOrEmptyString(reread, TagFromName.SOPInstanceUID);
        assertEquals(deidentifier.mapUid(originalSop), storedSop);
        assertTrue(storedSop.startsWith("2.25."), storedSop);
        assertTrue(storedSop.length() <= 64, storedSop);
        assertEquals(storedSop, Attribute.getSingleStringValueOrEmptyString(reread, TagFromName.MediaStorageSOPInstanceUID));
        assertNull(reread.get(new AttributeTag(0x0029, 0x1010)), "private attribute kept");
        assertNull(reread.get(new AttributeTag(0x6000, 0x3000)), "overlay kept");
        assertEquals("OP", Attribute.getSingleStringValueOrEmptyString(reread, TagFromName.Modality), "non-identifying attribute lost");
    }

    @Test
    void uidsAreRemappedConsistentlyOrRetained() throws Exception {
        Deidentifier remapping = new Deidentifier(KEYED, false);
        assertEquals(remapping.mapUid("1.2.3.4"), new Deidentifier(KEYED, false).mapUid("1.2.3.4"));
        assertNotEquals(remapping.mapUid("1.2.3.4"), remapping.mapUid("1.2.3.5"));
        assertNotEquals(remapping.mapUid("1.2.3.4"),
                new Deidentifier(new Pseudonymizer(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}), false).mapUid("1.2.3.4"),
                "another site key must give other UIDs");
        assertEquals("1.2.3.4", new Deidentifier(KEYED, true).mapUid("1.2.3.4"));
    }

    /** Reads the tags of Table E.1-1 that have a fixed group and element. Wildcard rows are tested with an overlay above. */
    private static List<AttributeTag> profileTags() throws IOException {
        List<AttributeTag> tags = new ArrayList<>();
        try (InputStream in = DeidentifierTest.class.getResourceAsStream("/dicom/ps3.15-table-e1-1.tsv")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String tag = line.split("\t")[0];
                if (tag.matches("[0-9A-F]{8}")) {
                    tags.add(new AttributeTag(Integer.parseInt(tag.substring(0, 4), 16), Integer.parseInt(tag.substring(4), 16)));
                }
            }
        }
        return tags;
    }

    /** Creates an attribute with an identifying value of its VR, or returns null for an unknown tag or a numeric VR. */
    private static Attribute identifying(AttributeTag tag, int depth) throws Exception {
        byte[] vr = DicomDictionary.StandardDictionary.getValueRepresentationFromTag(tag);
        if (vr == null) {
            return null;
        }
        Attribute attribute = AttributeFactory.newAttribute(tag, vr);
        if (ValueRepresentation.isSequenceVR(vr)) {
            SequenceAttribute sequence = (SequenceAttribute) attribute;
            AttributeList item = new AttributeList();
            LongStringAttribute text = new LongStringAttribute(TagFromName.CodeMeaning);
            text.addValue(MARK + " in sequence");
            item.put(text);
            sequence.addItem(new SequenceItem(item));
        } else if (ValueRepresentation.isUniqueIdentifierVR(vr)) {
            attribute.addValue("1.2.999.1." + Integer.toUnsignedString(tag.hashCode()) + depth);
        } else if (ValueRepresentation.isDateVR(vr)) {
            attribute.addValue("19610704");
        } else if (ValueRepresentation.isTimeVR(vr)) {
            attribute.addValue("101112");
        } else if (ValueRepresentation.isDateTimeVR(vr)) {
            attribute.addValue("19610704101112");
        } else if (ValueRepresentation.isAgeStringVR(vr)) {
            attribute.addValue("061Y");
        } else if (ValueRepresentation.isCodeStringVR(vr)) {
            attribute.addValue(MARK);
        } else if (ValueRepresentation.isIntegerStringVR(vr) || ValueRepresentation.isDecimalStringVR(vr)
                || ValueRepresentation.isUnsignedShortVR(vr) || ValueRepresentation.isSignedShortVR(vr)
                || ValueRepresentation.isUnsignedLongVR(vr) || ValueRepresentation.isSignedLongVR(vr)
                || ValueRepresentation.isFloatSingleVR(vr) || ValueRepresentation.isFloatDoubleVR(vr)) {
            return null; // numbers cannot carry the mark, so the textual attributes cover their removal
        } else if (ValueRepresentation.isOtherByteVR(vr) || ValueRepresentation.isOtherWordVR(vr)
                || ValueRepresentation.isUnknownVR(vr)) {
            ((com.pixelmed.dicom.OtherByteAttribute) (attribute = new OtherByteAttribute(tag)))
                    .setValues((MARK + "!").getBytes(StandardCharsets.US_ASCII));
        } else {
            attribute.addValue(MARK + " " + tag);
        }
        return attribute;
    }

    private static void required(AttributeList list) throws Exception {
        for (Map.Entry<AttributeTag, String> entry : Map.of(
                TagFromName.SOPClassUID, OphthalmicPhotography.SOP_CLASS,
                TagFromName.Modality, "OP").entrySet()) {
            Attribute attribute = AttributeFactory.newAttribute(entry.getKey(),
                    DicomDictionary.StandardDictionary.getValueRepresentationFromTag(entry.getKey()));
            attribute.addValue(entry.getValue());
            list.put(attribute);
        }
    }
}
