package org.retinagrade.pacs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Tests of the DICOMweb client's multipart parsing, DICOM JSON conversion and settings checks, without a server. */
class DicomWebClientTest {

    private static final Path SCRATCH = Path.of("target", "dicomweb-client-test").toAbsolutePath();
    private static final String BOUNDARY = "b1c2-d3e4";

    @Test
    void singlePartExtracted() throws Exception {
        byte[] content = randomBytes(70_000);
        // The content contains a line break and two dashes that are not followed by the boundary.
        System.arraycopy("\r\n--b1c2".getBytes(StandardCharsets.US_ASCII), 0, content, 500, 8);
        Path response = write("single", multipart(List.of(content)));

        Path target = SCRATCH.resolve("single.dcm");
        DicomWebClient.extractSinglePart(response, BOUNDARY, target);

        assertArrayEquals(content, Files.readAllBytes(target));
    }

    @Test
    void truncatedResponseRejected() throws Exception {
        byte[] whole = multipart(List.of(randomBytes(5000)));
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 40);
        Path response = write("truncated", cut);

        IOException error = assertThrows(IOException.class,
                () -> DicomWebClient.extractSinglePart(response, BOUNDARY, SCRATCH.resolve("truncated.dcm")));
        assertTrue(error.getMessage().contains("truncated"), error.getMessage());
    }

    @Test
    void twoPartsRejected() throws Exception {
        Path response = write("two", multipart(List.of(randomBytes(300), randomBytes(300))));

        IOException error = assertThrows(IOException.class,
                () -> DicomWebClient.extractSinglePart(response, BOUNDARY, SCRATCH.resolve("two.dcm")));
        assertTrue(error.getMessage().contains("more than one part"), error.getMessage());
    }

    @Test
    void missingBoundaryRejected() throws Exception {
        Path response = write("none", "{\"error\": \"not multipart\"}".getBytes(StandardCharsets.US_ASCII));

        IOException error = assertThrows(IOException.class,
                () -> DicomWebClient.extractSinglePart(response, BOUNDARY, SCRATCH.resolve("none.dcm")));
        assertTrue(error.getMessage().contains("no part"), error.getMessage());
    }

    @Test
    void boundaryParsedFromContentType() throws Exception {
        assertEquals("abc", DicomWebClient.boundaryOf("multipart/related; type=\"application/dicom\"; boundary=abc", "/x"));
        assertEquals("a b", DicomWebClient.boundaryOf("Multipart/Related; boundary=\"a b\"; type=application/dicom", "/x"));

        PacsException json = assertThrows(PacsException.class, () -> DicomWebClient.boundaryOf("application/dicom+json", "/x"));
        assertTrue(json.getMessage().contains("'application/dicom+json'"), json.getMessage());
        assertThrows(PacsException.class, () -> DicomWebClient.boundaryOf("multipart/related; type=application/dicom", "/x"));
    }

    @Test
    void dicomJsonConvertedToAttributes() throws Exception {
        String json = """
                [{"0020000D": {"vr": "UI", "Value": ["1.2.3"]},
                  "00100010": {"vr": "PN", "Value": [{"Alphabetic": "DOE^JANE"}]},
                  "00201208": {"vr": "IS", "Value": [40]},
                  "00080061": {"vr": "CS", "Value": ["OP", "OT"]},
                  "00080090": {"vr": "PN"},
                  "00081111": {"vr": "SQ", "Value": [{}]},
                  "7FE00010": {"vr": "OB", "BulkDataURI": "http://127.0.0.1/bulk"}}]
                """;
        List<JsonNode> objects = new ArrayList<>();
        new ObjectMapper().readTree(json).forEach(objects::add);

        AttributeList list = DicomWebClient.toAttributeLists(objects).get(0);

        assertEquals("1.2.3", Attribute.getSingleStringValueOrEmptyString(list, TagFromName.StudyInstanceUID));
        assertEquals("DOE^JANE", Attribute.getSingleStringValueOrEmptyString(list, TagFromName.PatientName));
        assertEquals("40", Attribute.getSingleStringValueOrEmptyString(list, TagFromName.NumberOfStudyRelatedInstances));
        assertEquals("OP\\OT", Attribute.getDelimitedStringValuesOrEmptyString(list, TagFromName.ModalitiesInStudy));
        assertEquals("", Attribute.getSingleStringValueOrEmptyString(list, TagFromName.ReferringPhysicianName));
        assertEquals(null, list.get(TagFromName.ReferencedStudySequence), "sequences are skipped");
    }

    @Test
    void invalidSettingsRejected() {
        IllegalArgumentException scheme = assertThrows(IllegalArgumentException.class,
                () -> new DicomWebSettings("ftp://127.0.0.1/dicom-web", null, null, 30));
        assertTrue(scheme.getMessage().contains("invalid DICOMweb URL 'ftp://127.0.0.1/dicom-web'"), scheme.getMessage());

        IllegalArgumentException credentials = assertThrows(IllegalArgumentException.class,
                () -> new DicomWebSettings("http://user:secret@127.0.0.1:8042/dicom-web", null, null, 30));
        assertTrue(credentials.getMessage().contains("not in the URL"), credentials.getMessage());
        assertFalse(credentials.getMessage().contains("secret"), "the password is not echoed: " + credentials.getMessage());

        IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
                () -> new DicomWebSettings("http://127.0.0.1:99999/dicom-web", null, null, 30));
        assertTrue(port.getMessage().contains("port 99999 is out of range"), port.getMessage());

        IllegalArgumentException noPassword = assertThrows(IllegalArgumentException.class,
                () -> new DicomWebSettings("http://127.0.0.1:8042/dicom-web", "reader", null, 30));
        assertTrue(noPassword.getMessage().contains("RETINAGRADE_PACS_DICOMWEB_PASSWORD"), noPassword.getMessage());

        IllegalArgumentException slash = assertThrows(IllegalArgumentException.class,
                () -> new DicomWebSettings("http://alice:s3/cret@127.0.0.1:8042/dicom-web", null, null, 30));
        assertFalse(slash.getMessage().contains("s3/cret"), "no part of the password is echoed: " + slash.getMessage());

        assertEquals("http://127.0.0.1:8042/dicom-web", new DicomWebSettings("http://127.0.0.1:8042/dicom-web/", null, null, 30).url());

        // Configured credentials go only to the configured server unless a user is given with the other URL.
        DicomWebSettings configured = new DicomWebSettings("http://127.0.0.1:8042/dicom-web", "reader", "pw", 30);
        assertEquals("reader", configured.with(null, null, 5).user());
        assertEquals(null, configured.with("http://127.0.0.1:9042/dicom-web", null, null).user());
        assertEquals(null, configured.with("http://127.0.0.1:9042/dicom-web", null, null).password());
        assertEquals("pw", configured.with("http://127.0.0.1:9042/dicom-web", "other", null).password());
        assertFalse(configured.toString().contains("pw"), configured.toString());
    }

    private static byte[] multipart(List<byte[]> parts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.write(("--" + BOUNDARY + "\r\nContent-Type: application/dicom\r\nContent-Length: " + part.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(part);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        return bytes;
    }

    private static Path write(String name, byte[] bytes) throws IOException {
        Files.createDirectories(SCRATCH);
        return Files.write(SCRATCH.resolve(name + ".multipart"), bytes);
    }
}
