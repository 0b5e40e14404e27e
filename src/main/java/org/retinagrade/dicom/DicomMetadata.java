package org.retinagrade.dicom;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.TagFromName;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * The attributes of one DICOM instance that RetinaGrade stores in its database, read from the
 * original (not yet de-identified) data set. Laterality comes from Image Laterality, then
 * from the series' Laterality. The acquisition date comes from the first of Acquisition
 * DateTime, Acquisition Date, Content Date and Study Date that contains a valid date.
 */
public record DicomMetadata(String patientId, String patientIdIssuer, String studyInstanceUid, String seriesInstanceUid,
        String sopInstanceUid, String sopClassUid, String modality, String laterality, LocalDate acquisitionDate,
        LocalDate studyDate, String accessionNumber, String manufacturer, String modelName, int rows, int columns,
        String pixelSpacing, int frames) {

    public static DicomMetadata of(AttributeList list) {
        String laterality = lateralityOf(text(list, TagFromName.ImageLaterality));
        if (laterality == null) {
            laterality = lateralityOf(text(list, TagFromName.Laterality));
        }
        LocalDate acquisition = date(text(list, TagFromName.AcquisitionDateTime));
        for (AttributeTag tag : new AttributeTag[] {TagFromName.AcquisitionDate, TagFromName.ContentDate, TagFromName.StudyDate}) {
            if (acquisition == null) {
                acquisition = date(text(list, tag));
            }
        }
        String spacing = text(list, TagFromName.PixelSpacing);
        if (spacing == null) {
            spacing = text(list, TagFromName.ImagerPixelSpacing);
        }
        int frames = 1;
        try {
            String value = text(list, TagFromName.NumberOfFrames);
            frames = value == null ? 1 : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            frames = 1;
        }
        return new DicomMetadata(text(list, TagFromName.PatientID), text(list, TagFromName.IssuerOfPatientID),
                text(list, TagFromName.StudyInstanceUID), text(list, TagFromName.SeriesInstanceUID),
                text(list, TagFromName.SOPInstanceUID), text(list, TagFromName.SOPClassUID),
                text(list, TagFromName.Modality), laterality, acquisition, date(text(list, TagFromName.StudyDate)),
                text(list, TagFromName.AccessionNumber), text(list, TagFromName.Manufacturer),
                text(list, TagFromName.ManufacturerModelName),
                Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Rows, 0),
                Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Columns, 0), spacing, frames);
    }

    /** Returns "L" or "R" for DICOM laterality codes, null for "B", "U", empty or absent. */
    static String lateralityOf(String value) {
        if (value == null) {
            return null;
        }
        return switch (value.strip().toUpperCase(java.util.Locale.ROOT)) {
            case "L" -> "L";
            case "R" -> "R";
            default -> null;
        };
    }

    private static String text(AttributeList list, AttributeTag tag) {
        Attribute attribute = list.get(tag);
        if (attribute == null) {
            return null;
        }
        try {
            String[] values = attribute.getStringValues();
            if (values == null || values.length == 0) {
                return null;
            }
            String joined = String.join("\\", values).strip();
            return joined.isEmpty() ? null : joined;
        } catch (com.pixelmed.dicom.DicomException e) {
            return null;
        }
    }

    private static LocalDate date(String value) {
        if (value == null || value.length() < 8) {
            return null;
        }
        try {
            return LocalDate.parse(value.substring(0, 8), DateTimeFormatter.BASIC_ISO_DATE);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
