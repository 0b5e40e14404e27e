package org.retinagrade.pacs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeFactory;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DICOMweb client for one server: QIDO-RS searches for studies, series and instances (PS3.18
 * section 10.6) and WADO-RS retrieval of single instances as Part 10 files (section 10.4).
 * Search results in the DICOM JSON model are converted to PixelMed attribute lists, so callers
 * treat them like C-FIND responses. Instances are requested with {@code transfer-syntax=*}, so
 * the server sends them as stored, without transcoding.
 */
public final class DicomWebClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DICOM_PARTS = "multipart/related; type=\"application/dicom\"; transfer-syntax=*";
    /** Results requested per QIDO-RS page. Servers may return fewer, and paging goes on until a page comes back short. */
    private static final int PAGE = 1000;

    private final DicomWebSettings settings;
    private final HttpClient http;
    private final int pageSize;

    public DicomWebClient(DicomWebSettings settings) {
        this(settings, PAGE);
    }

    /** Creates a client that requests search results in pages of the given size (tests use small pages). */
    DicomWebClient(DicomWebSettings settings, int pageSize) {
        this.settings = settings;
        this.pageSize = pageSize;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(settings.timeoutSeconds()))
                .followRedirects(HttpClient.Redirect.NEVER).build(); // credentials must not follow a redirect elsewhere
    }

    public DicomWebSettings settings() {
        return settings;
    }

    /** Sends a one-result study search and throws a PacsException unless the server responds. */
    public void check() throws PacsException {
        search("/studies", Map.of("limit", "1"));
    }

    /** Searches matching studies (QIDO-RS). Null or blank keys match everything. */
    public List<AttributeList> searchStudies(PacsClient.StudyQuery query) throws PacsException {
        Map<String, String> keys = new LinkedHashMap<>();
        put(keys, "PatientID", query.patientId());
        put(keys, "StudyDate", query.studyDateRange());
        put(keys, "ModalitiesInStudy", query.modality());
        put(keys, "AccessionNumber", query.accessionNumber());
        put(keys, "StudyInstanceUID", query.studyInstanceUid());
        keys.put("includefield", "00201208,00080061,00100020,00080020");
        return toAttributeLists(searchAll("/studies", keys));
    }

    /** Searches the series of a study (QIDO-RS), optionally of one modality. */
    public List<AttributeList> searchSeries(String studyInstanceUid, String modality) throws PacsException {
        Map<String, String> keys = new LinkedHashMap<>();
        put(keys, "Modality", modality);
        keys.put("includefield", "00200060,00201209");
        return toAttributeLists(searchAll("/studies/" + encode(studyInstanceUid) + "/series", keys));
    }

    /** Searches the instances of a study (QIDO-RS) and returns their {series UID, SOP Instance UID} pairs. */
    public List<String[]> searchInstances(String studyInstanceUid) throws PacsException {
        List<String[]> result = new ArrayList<>();
        for (JsonNode instance : searchAll("/studies/" + encode(studyInstanceUid) + "/instances", new LinkedHashMap<>())) {
            String series = firstValue(instance, "0020000E");
            String sop = firstValue(instance, "00080018");
            if (!series.isEmpty() && !sop.isEmpty()) {
                result.add(new String[] {series, sop});
            }
        }
        return result;
    }

    /**
     * Retrieves one instance (WADO-RS) into the folder as a Part 10 file named after its SOP
     * Instance UID. The response is written under a temporary name and the file is moved into
     * place only when it is complete. Throws NotFound when the server does not have the instance.
     */
    public Path retrieveInstance(String study, String series, String sop, Path folder) throws PacsException, IOException {
        String path = "/studies/" + encode(study) + "/series/" + encode(series) + "/instances/" + encode(sop);
        Path response = folder.resolve(".response-" + safeName(sop));
        Path partial = folder.resolve(".partial-" + safeName(sop));
        try {
            HttpResponse<Path> reply = send(path, DICOM_PARTS, HttpResponse.BodyHandlers.ofFile(response, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING));
            if (reply.statusCode() == 404) {
                throw new NotFound("instance " + sop + " is not on " + settings.url() + " (HTTP 404)");
            }
            check(reply, "GET " + path);
            String contentType = reply.headers().firstValue("Content-Type").orElse("");
            extractSinglePart(response, boundaryOf(contentType, path), partial);
            Path target = folder.resolve(safeName(sop));
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            Files.deleteIfExists(response);
            Files.deleteIfExists(partial);
        }
    }

    /** An instance or study that the server does not have. */
    public static final class NotFound extends PacsException {

        NotFound(String message) {
            super(message);
        }
    }

    private List<JsonNode> searchAll(String path, Map<String, String> keys) throws PacsException {
        List<JsonNode> results = new ArrayList<>();
        JsonNode previousFirst = null;
        for (int offset = 0; ; ) {
            Map<String, String> page = new LinkedHashMap<>(keys);
            page.put("limit", Integer.toString(pageSize));
            page.put("offset", Integer.toString(offset));
            List<JsonNode> found = search(path, page);
            if (!found.isEmpty() && found.get(0).equals(previousFirst)) {
                // A server that ignores offset would send the same page for ever.
                throw new PacsException("DICOMweb search " + settings.url() + path + " returned the same " + pageSize + " results for"
                        + " offset " + offset + " as for the page before: the server ignores offset, so narrow the query");
            }
            results.addAll(found);
            // A server may cap a page below the limit (PS3.18 8.3.4.4.1), so only an empty page ends the search.
            if (found.isEmpty()) {
                return results;
            }
            offset += found.size();
            previousFirst = found.get(0);
        }
    }

    private List<JsonNode> search(String path, Map<String, String> keys) throws PacsException {
        StringBuilder query = new StringBuilder();
        // Orthanc's DICOMweb plugin ignores an includefield list whose commas are percent-encoded, so they stay literal.
        keys.forEach((key, value) -> query.append(query.length() == 0 ? "?" : "&").append(key).append('=')
                .append(key.equals("includefield") ? encode(value).replace("%2C", ",") : encode(value)));
        String request = path + query;
        HttpResponse<byte[]> reply = send(request, "application/dicom+json", HttpResponse.BodyHandlers.ofByteArray());
        if (reply.statusCode() == 204) {
            return List.of(); // no match, as some servers respond
        }
        check(reply, "GET " + request);
        try {
            JsonNode root = JSON.readTree(reply.body());
            if (root == null || !root.isArray()) {
                throw new PacsException("DICOMweb search " + settings.url() + request + " did not return a JSON array; check that"
                        + " the URL is the DICOMweb service root");
            }
            List<JsonNode> results = new ArrayList<>();
            root.forEach(results::add);
            return results;
        } catch (IOException e) {
            throw new PacsException("DICOMweb search " + settings.url() + request + " returned invalid JSON: " + e.getMessage()
                    + "; check that the URL is the DICOMweb service root", e);
        }
    }

    private <T> HttpResponse<T> send(String path, String accept, HttpResponse.BodyHandler<T> handler) throws PacsException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(settings.url() + path))
                .timeout(Duration.ofSeconds(settings.timeoutSeconds())).header("Accept", accept).GET();
        if (settings.user() != null) {
            String credentials = settings.user() + ":" + settings.password();
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        try {
            return http.send(request.build(), handler);
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw new PacsException("DICOMweb GET " + settings.url() + path + " failed: cannot connect"
                    + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")") + "; check that the server runs there", e);
        } catch (javax.net.ssl.SSLException e) {
            throw new PacsException("DICOMweb GET " + settings.url() + path + " failed in the TLS handshake (" + e.getMessage()
                    + "); check whether the server speaks https or plain http", e);
        } catch (HttpTimeoutException e) {
            throw new PacsException("DICOMweb GET " + settings.url() + path + " timed out after " + settings.timeoutSeconds()
                    + " s; raise --timeout or check the server", e);
        } catch (IOException e) {
            throw new PacsException("DICOMweb GET " + settings.url() + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PacsException("DICOMweb GET " + settings.url() + path + " was interrupted", e);
        }
    }

    private void check(HttpResponse<?> reply, String request) throws PacsException {
        int status = reply.statusCode();
        if (status == 200 || status == 206) {
            return; // 206: a partial search result, and the next page requests the rest
        }
        if (status >= 300 && status < 400) {
            throw new HttpStatus(status, "DICOMweb " + request + " on " + settings.url() + " was redirected (HTTP " + status + ") to "
                    + reply.headers().firstValue("Location").orElse("an unnamed location") + "; give that address as --dicomweb-url,"
                    + " because redirects are not followed with credentials");
        }
        String hint = switch (status) {
            case 401, 403 -> settings.user() == null
                    ? "the server requires credentials and none were sent: give --dicomweb-user (or retinagrade.pacs.dicomweb.user)"
                            + " and set RETINAGRADE_PACS_DICOMWEB_PASSWORD"
                    : "check the user (--dicomweb-user or retinagrade.pacs.dicomweb.user) and the password"
                            + " (RETINAGRADE_PACS_DICOMWEB_PASSWORD)";
            case 400, 404 -> "check that the URL is the DICOMweb service root, for example http://127.0.0.1:8042/dicom-web";
            case 406 -> "the server cannot send the requested media type";
            default -> "check the server's log";
        };
        throw new HttpStatus(status, "DICOMweb " + request + " on " + settings.url() + " failed with HTTP " + status + "; " + hint);
    }

    /** An HTTP status other than success from the server; the server itself was reached. */
    public static final class HttpStatus extends PacsException {

        private final int status;

        HttpStatus(int status, String message) {
            super(message);
            this.status = status;
        }

        /** Returns true for a status that every later request would get too (authentication, redirect). */
        public boolean affectsAll() {
            return status == 401 || status == 403 || (status >= 300 && status < 400);
        }
    }

    /** Returns the boundary parameter of a multipart/related Content-Type. */
    static String boundaryOf(String contentType, String path) throws PacsException {
        if (!contentType.toLowerCase(Locale.ROOT).startsWith("multipart/related")) {
            throw new PacsException("DICOMweb GET " + path + " returned Content-Type '" + contentType
                    + "' where multipart/related was expected");
        }
        for (String parameter : contentType.split(";")) {
            String[] pair = parameter.strip().split("=", 2);
            if (pair.length == 2 && pair[0].strip().equalsIgnoreCase("boundary")) {
                String value = pair[1].strip();
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1);
                }
                if (!value.isEmpty()) {
                    return value;
                }
            }
        }
        throw new PacsException("DICOMweb GET " + path + " returned multipart/related without a boundary");
    }

    /**
     * Copies the body of the only part of a multipart/related response (RFC 2046 section 5.1)
     * to the target. Throws IOException when the response has no complete application/dicom
     * part, or more than one.
     */
    static void extractSinglePart(Path response, String boundary, Path target) throws IOException {
        try (FileChannel channel = FileChannel.open(response, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE - 64) {
                throw new IOException("multipart response of " + size + " bytes is larger than the 2 GB supported for one instance");
            }
            MappedByteBuffer body = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
            int first = indexOf(body, delimiter, 0);
            if (first < 0) {
                throw new IOException("multipart response contains no part (boundary " + boundary + " not found)");
            }
            byte[] headerEnd = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            int headersStart = first + delimiter.length;
            int contentStart = indexOf(body, headerEnd, headersStart);
            if (contentStart < 0) {
                throw new IOException("multipart response is truncated in the part headers");
            }
            String headers = ascii(body, headersStart, contentStart).toLowerCase(Locale.ROOT);
            contentStart += headerEnd.length;
            if (!headers.replace("content-type:", "content-type: ").replace(":  ", ": ").contains("content-type: application/dicom")) {
                throw new IOException("multipart part is not application/dicom; part headers: " + headers.strip());
            }
            byte[] closing = ("\r\n--" + boundary).getBytes(StandardCharsets.US_ASCII);
            int contentEnd = indexOf(body, closing, contentStart);
            if (contentEnd < 0) {
                throw new IOException("multipart response is truncated: the part has no closing boundary");
            }
            int after = contentEnd + closing.length;
            if (after + 2 > size || body.get(after) != '-' || body.get(after + 1) != '-') {
                throw new IOException("multipart response contains more than one part where one instance was requested");
            }
            try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer content = body.duplicate().position(contentStart).limit(contentEnd);
                while (content.hasRemaining()) {
                    out.write(content);
                }
            }
        }
    }

    private static int indexOf(ByteBuffer buffer, byte[] pattern, int from) {
        int last = buffer.limit() - pattern.length;
        for (int i = from; i <= last; i++) {
            if (buffer.get(i) != pattern[0]) {
                continue;
            }
            int j = 1;
            while (j < pattern.length && buffer.get(i + j) == pattern[j]) {
                j++;
            }
            if (j == pattern.length) {
                return i;
            }
        }
        return -1;
    }

    private static String ascii(ByteBuffer buffer, int from, int to) {
        byte[] bytes = new byte[to - from];
        buffer.get(from, bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /** Converts DICOM JSON model objects to attribute lists, keeping string and number values and skipping sequences and bulk data. */
    static List<AttributeList> toAttributeLists(List<JsonNode> objects) throws PacsException {
        List<AttributeList> lists = new ArrayList<>();
        for (JsonNode object : objects) {
            AttributeList list = new AttributeList();
            for (Iterator<Map.Entry<String, JsonNode>> fields = object.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                String vr = field.getValue().path("vr").asText("");
                if (!field.getKey().matches("[0-9A-Fa-f]{8}") || vr.length() != 2 || vr.equals("SQ")) {
                    continue;
                }
                int tag = (int) Long.parseLong(field.getKey(), 16);
                try {
                    Attribute attribute = AttributeFactory.newAttribute(new AttributeTag(tag >>> 16, tag & 0xFFFF),
                            vr.getBytes(StandardCharsets.US_ASCII));
                    for (JsonNode value : field.getValue().path("Value")) {
                        String text = value.isObject() ? value.path("Alphabetic").asText("") : value.asText("");
                        attribute.addValue(text);
                    }
                    list.put(attribute);
                } catch (DicomException | RuntimeException e) {
                    throw new PacsException("DICOMweb search returned an invalid value for " + field.getKey() + " (VR " + vr + "): "
                            + e.getMessage(), e);
                }
            }
            lists.add(list);
        }
        return lists;
    }

    private static String firstValue(JsonNode object, String tag) {
        JsonNode value = object.path(tag).path("Value").path(0);
        return value.isMissingNode() ? "" : value.asText("");
    }

    private static void put(Map<String, String> keys, String key, String value) {
        if (value != null && !value.isBlank()) {
            keys.put(key, value.strip());
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** Returns a file name for a UID: UIDs contain only digits and dots, anything else is replaced. */
    private static String safeName(String uid) {
        return uid.replaceAll("[^0-9A-Za-z.]", "_");
    }
}
