package org.retinagrade.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.CodeStringAttribute;
import com.pixelmed.dicom.DateAttribute;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.IntegerStringAttribute;
import com.pixelmed.dicom.LongStringAttribute;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.PersonNameAttribute;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.ShortStringAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TimeAttribute;
import com.pixelmed.dicom.UniqueIdentifierAttribute;
import com.pixelmed.dicom.UnsignedShortAttribute;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import org.opencv.core.Mat;

/**
 * Builder and writer of Ophthalmic Photography 8 Bit Image Storage objects
 * (SOP Class 1.2.840.10008.5.1.4.1.1.77.1.5.1) from fundus photographs. Each object contains
 * uncompressed RGB pixels in Explicit VR Little Endian, with patient, study, series and
 * laterality but no grade. UIDs are derived from the given keys under the 2.25 root, so the
 * same input gives the same objects.
 */
public final class OphthalmicPhotography {

    public static final String SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.5.1";

    /** Identity of one object: patient, study and series keys, laterality (L or R) and instance number. */
    public record Identity(String patientId, String patientName, String studyKey, LocalDate studyDate,
            String accessionNumber, String laterality, String seriesKey, String instanceKey, int instanceNumber) {
    }

    private OphthalmicPhotography() {
    }

    /** Returns a deterministic "2.25." UID for a key. */
    public static String uidFor(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(("retinagrade-uid:" + key).getBytes(StandardCharsets.UTF_8));
            return "2.25." + new BigInteger(1, java.util.Arrays.copyOf(digest, 16));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Builds the data set for an RGB image (OpenCV Mat of 8-bit RGB) from a lossless source. */
    public static AttributeList build(Mat rgb, Identity identity) throws DicomException {
        return build(rgb, identity, false);
    }

    /**
     * Builds the data set for an RGB image (OpenCV Mat of 8-bit RGB). A lossy source (a JPEG
     * file) is recorded as such in Lossy Image Compression, although the pixels are stored
     * uncompressed.
     */
    public static AttributeList build(Mat rgb, Identity identity, boolean lossySource) throws DicomException {
        if (rgb.channels() != 3 || rgb.depth() != org.opencv.core.CvType.CV_8U) {
            throw new IllegalArgumentException("expected an 8-bit RGB image, got " + rgb);
        }
        int rows = rgb.rows();
        int columns = rgb.cols();
        byte[] pixels = new byte[rows * columns * 3];
        rgb.get(0, 0, pixels);

        AttributeList list = new AttributeList();
        String date = identity.studyDate().format(DateTimeFormatter.BASIC_ISO_DATE);
        put(list, new UniqueIdentifierAttribute(TagFromName.SOPClassUID), SOP_CLASS);
        put(list, new UniqueIdentifierAttribute(TagFromName.SOPInstanceUID), uidFor("instance:" + identity.instanceKey()));
        put(list, new CodeStringAttribute(TagFromName.SpecificCharacterSet), "ISO_IR 192");
        put(list, new PersonNameAttribute(TagFromName.PatientName), identity.patientName());
        put(list, new LongStringAttribute(TagFromName.PatientID), identity.patientId());
        list.put(new DateAttribute(TagFromName.PatientBirthDate));
        list.put(new CodeStringAttribute(TagFromName.PatientSex));
        put(list, new UniqueIdentifierAttribute(TagFromName.StudyInstanceUID), uidFor("study:" + identity.studyKey()));
        put(list, new DateAttribute(TagFromName.StudyDate), date);
        put(list, new TimeAttribute(TagFromName.StudyTime), "090000");
        list.put(new PersonNameAttribute(TagFromName.ReferringPhysicianName));
        put(list, new ShortStringAttribute(TagFromName.StudyID), "1");
        put(list, new ShortStringAttribute(TagFromName.AccessionNumber), identity.accessionNumber());
        put(list, new CodeStringAttribute(TagFromName.Modality), "OP");
        put(list, new UniqueIdentifierAttribute(TagFromName.SeriesInstanceUID), uidFor("series:" + identity.seriesKey()));
        put(list, new IntegerStringAttribute(TagFromName.SeriesNumber), identity.laterality().equals("R") ? "1" : "2");
        put(list, new CodeStringAttribute(TagFromName.Laterality), identity.laterality());
        put(list, new UniqueIdentifierAttribute(TagFromName.FrameOfReferenceUID), uidFor("frame:" + identity.seriesKey()));
        put(list, new LongStringAttribute(TagFromName.Manufacturer), "RetinaGrade");
        put(list, new LongStringAttribute(TagFromName.ManufacturerModelName), "dicom from-image");
        put(list, new IntegerStringAttribute(TagFromName.InstanceNumber), Integer.toString(identity.instanceNumber()));
        CodeStringAttribute imageType = new CodeStringAttribute(TagFromName.ImageType);
        imageType.addValue("ORIGINAL");
        imageType.addValue("PRIMARY");
        list.put(imageType);
        put(list, new DateAttribute(TagFromName.ContentDate), date);
        put(list, new TimeAttribute(TagFromName.ContentTime), "090000");
        put(list, new com.pixelmed.dicom.DateTimeAttribute(TagFromName.AcquisitionDateTime), date + "090000");
        put(list, new CodeStringAttribute(TagFromName.ImageLaterality), identity.laterality());
        put(list, new CodeStringAttribute(TagFromName.BurnedInAnnotation), "NO");
        put(list, new CodeStringAttribute(TagFromName.LossyImageCompression), lossySource ? "01" : "00");
        if (lossySource) {
            put(list, new CodeStringAttribute(TagFromName.LossyImageCompressionMethod), "ISO_10918_1");
        }
        coded(list, TagFromName.AnatomicRegionSequence, "81745001", "SCT", "Eye");
        list.put(new SequenceAttribute(TagFromName.AcquisitionContextSequence));
        // Ophthalmic Photographic Parameters: the device type (Type 1) and the Type 2 attributes,
        // left empty because a wrapped photograph does not record them.
        coded(list, dictionaryTag("AcquisitionDeviceTypeCodeSequence"), "409898007", "SCT", "Fundus Camera");
        for (String sequence : new String[] {"IlluminationTypeCodeSequence", "LightPathFilterTypeStackCodeSequence",
            "ImagePathFilterTypeStackCodeSequence", "LensesCodeSequence", "RefractiveStateSequence"}) {
            list.put(new SequenceAttribute(dictionaryTag(sequence)));
        }
        for (String empty : new String[] {"PatientEyeMovementCommanded", "HorizontalFieldOfView", "EmmetropicMagnification",
            "IntraOcularPressure", "PupilDilated", "DetectorType"}) {
            AttributeTag tag = dictionaryTag(empty);
            list.put(com.pixelmed.dicom.AttributeFactory.newAttribute(tag,
                    com.pixelmed.dicom.DicomDictionary.StandardDictionary.getValueRepresentationFromTag(tag)));
        }

        unsigned(list, TagFromName.SamplesPerPixel, 3);
        put(list, new CodeStringAttribute(TagFromName.PhotometricInterpretation), "RGB");
        unsigned(list, TagFromName.PlanarConfiguration, 0);
        unsigned(list, TagFromName.Rows, rows);
        unsigned(list, TagFromName.Columns, columns);
        unsigned(list, TagFromName.BitsAllocated, 8);
        unsigned(list, TagFromName.BitsStored, 8);
        unsigned(list, TagFromName.HighBit, 7);
        unsigned(list, TagFromName.PixelRepresentation, 0);
        OtherByteAttribute pixelData = new OtherByteAttribute(TagFromName.PixelData);
        pixelData.setValues(pixels);
        list.put(pixelData);
        return list;
    }

    /** Writes a data set as a Part 10 file (preamble, file meta information, Explicit VR Little Endian). */
    public static void write(AttributeList list, OutputStream out, String sourceAet) throws DicomException, IOException {
        list.remove(TagFromName.FileMetaInformationGroupLength);
        String syntax = TransferSyntaxes.EXPLICIT_LITTLE;
        FileMetaInformation.addFileMetaInformation(list, syntax, sourceAet);
        list.write(out, syntax, true, true);
    }

    private static void coded(AttributeList list, AttributeTag tag, String value, String scheme, String meaning)
            throws DicomException {
        SequenceAttribute sequence = new SequenceAttribute(tag);
        sequence.addItem(new com.pixelmed.dicom.CodedSequenceItem(value, scheme, meaning).getAttributeList());
        list.put(sequence);
    }

    private static AttributeTag dictionaryTag(String name) {
        AttributeTag tag = com.pixelmed.dicom.DicomDictionary.StandardDictionary.getTagFromName(name);
        if (tag == null) {
            throw new IllegalStateException("PixelMed's dictionary has no attribute named " + name);
        }
        return tag;
    }

    private static void put(AttributeList list, Attribute attribute, String value) throws DicomException {
        if (value != null) {
            attribute.addValue(value);
        }
        list.put(attribute);
    }

    private static void unsigned(AttributeList list, AttributeTag tag, int value) throws DicomException {
        UnsignedShortAttribute attribute = new UnsignedShortAttribute(tag);
        attribute.addValue(value);
        list.put(attribute);
    }
}
