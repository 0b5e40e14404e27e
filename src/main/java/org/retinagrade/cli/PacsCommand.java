package org.retinagrade.cli;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.retinagrade.ingest.IngestJob;
import org.retinagrade.pacs.DicomWebClient;
import org.retinagrade.pacs.DicomWebSettings;
import org.retinagrade.pacs.PacsClient;
import org.retinagrade.pacs.PacsException;
import org.retinagrade.pacs.PacsListener;
import org.retinagrade.pacs.PacsRetrieveService;
import org.retinagrade.pacs.PacsSettings;
import org.retinagrade.pacs.StorageReceiver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The {@code retinagrade pacs ...} commands, which query, retrieve from and receive from a PACS over DICOM. */
@Command(name = "pacs", mixinStandardHelpOptions = true,
        description = {
            "Query and retrieve from a PACS over DICOM (C-ECHO, C-FIND, C-MOVE, C-GET) or DICOMweb (QIDO-RS, WADO-RS),"
                    + " and receive pushed images (C-STORE).",
            "Defaults come from the configuration keys retinagrade.pacs.* (see the README), and the options override them."
        },
        subcommands = {PacsCommand.Echo.class, PacsCommand.Find.class, PacsCommand.Retrieve.class, PacsCommand.Listen.class})
public class PacsCommand {

    /** Our own AE options, all that a receiver needs. */
    static class Local {

        @Option(names = "--ae-title", paramLabel = "AE", description = "Our AE title (default: retinagrade.pacs.ae-title, RETINAGRADE).")
        String aeTitle;

        @Option(names = "--listen-port", description = "Our C-STORE port for C-MOVE and pushes (default: retinagrade.pacs.listen-port, 11112).")
        Integer listenPort;

        @Option(names = "--timeout", paramLabel = "SECONDS", description = "Network timeout in seconds (default: retinagrade.pacs.timeout, 30).")
        Integer timeout;

        PacsSettings settings() {
            return PacsSettings.fromConfig().with(aeTitle, listenPort, null, null, null, timeout);
        }
    }

    /** Connection options of the subcommands that talk to a PACS. */
    static class Connection extends Local {

        @Option(names = "--host", description = "PACS host name or address (default: retinagrade.pacs.host, 127.0.0.1).")
        String host;

        @Option(names = "--port", description = "PACS DICOM port (default: retinagrade.pacs.port, 4242).")
        Integer port;

        @Option(names = "--called-ae", paramLabel = "AE", description = "PACS AE title (default: retinagrade.pacs.called-ae-title, ORTHANC).")
        String calledAe;

        @Option(names = "--dicomweb-url", paramLabel = "URL", description = "DICOMweb service root for --dicomweb and --method"
                + " dicomweb (default: retinagrade.pacs.dicomweb.url, http://127.0.0.1:8042/dicom-web).")
        String dicomWebUrl;

        @Option(names = "--dicomweb-user", paramLabel = "USER", description = "HTTP Basic user for DICOMweb (default:"
                + " retinagrade.pacs.dicomweb.user, none). The password comes from RETINAGRADE_PACS_DICOMWEB_PASSWORD.")
        String dicomWebUser;

        @Override
        PacsSettings settings() {
            return PacsSettings.fromConfig().with(aeTitle, listenPort, host, port, calledAe, timeout);
        }

        DicomWebSettings dicomWeb() {
            return DicomWebSettings.fromConfig().with(dicomWebUrl, dicomWebUser, timeout);
        }
    }

    @Command(name = "echo", mixinStandardHelpOptions = true, description = "Check the association with C-ECHO, or with --dicomweb"
            + " the DICOMweb server with a one-result study search. Exit status: 0 when the PACS responds, 1 when it does not,"
            + " 2 for invalid arguments.")
    static class Echo implements Callable<Integer> {

        @Mixin
        Connection connection;

        @Option(names = "--dicomweb", description = "Check the DICOMweb server at --dicomweb-url instead of the DICOM port.")
        boolean dicomWeb;

        @Override
        public Integer call() {
            try {
                if (dicomWeb) {
                    DicomWebSettings settings = connection.dicomWeb();
                    long start = System.nanoTime();
                    new DicomWebClient(settings).check();
                    System.out.printf("QIDO-RS %s%s: success (%.0f ms)%n", settings.url(),
                            settings.user() == null ? "" : " as " + settings.user(), (System.nanoTime() - start) / 1e6);
                    return 0;
                }
                PacsSettings settings = connection.settings();
                long start = System.nanoTime();
                new PacsClient(settings).echo();
                System.out.printf("C-ECHO %s as %s: success (%.0f ms)%n", settings.peer(), settings.aeTitle(),
                        (System.nanoTime() - start) / 1e6);
                return 0;
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade pacs echo: " + e.getMessage());
                return 2;
            } catch (PacsException e) {
                System.err.println("retinagrade pacs echo: " + e.getMessage());
                return 1;
            }
        }
    }

    /** Study query options shared by find and retrieve. */
    static class Query {

        @Option(names = "--patient-id", description = "Patient ID to match.")
        String patientId;

        @Option(names = "--date", paramLabel = "RANGE", description = "Study date or range, YYYYMMDD or YYYYMMDD-YYYYMMDD.")
        String date;

        @Option(names = "--modality", description = "Modality in the study, for example OP.")
        String modality;

        @Option(names = "--accession", description = "Accession number to match.")
        String accession;

        @Option(names = "--study-uid", paramLabel = "UID", description = "Study Instance UID. Repeat the option for several studies.")
        List<String> studyUids = new ArrayList<>();

        List<PacsClient.StudyQuery> queries() {
            if (date != null) {
                checkDateRange(date);
            }
            List<PacsClient.StudyQuery> queries = new ArrayList<>();
            if (studyUids.isEmpty()) {
                queries.add(new PacsClient.StudyQuery(patientId, date, modality, accession, null));
            }
            for (String uid : studyUids) {
                queries.add(new PacsClient.StudyQuery(patientId, date, modality, accession, uid));
            }
            return queries;
        }

        /** Rejects a date or range that is not YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD with real, ordered dates. */
        static void checkDateRange(String range) {
            String expected = "': expected YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD";
            if (!range.matches("\\d{8}|\\d{8}-\\d{8}|\\d{8}-|-\\d{8}")) {
                throw new IllegalArgumentException("invalid --date '" + range + expected);
            }
            String[] parts = range.split("-", -1);
            java.time.LocalDate first = null;
            java.time.LocalDate last = null;
            try {
                for (int i = 0; i < parts.length; i++) {
                    if (!parts[i].isEmpty()) {
                        java.time.LocalDate parsed = java.time.LocalDate.parse(parts[i],
                                java.time.format.DateTimeFormatter.BASIC_ISO_DATE.withResolverStyle(java.time.format.ResolverStyle.STRICT));
                        if (i == 0) {
                            first = parsed;
                        } else {
                            last = parsed;
                        }
                    }
                }
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalArgumentException("invalid --date '" + range + "': not a calendar date" + expected.substring(1));
            }
            if (first != null && last != null && last.isBefore(first)) {
                throw new IllegalArgumentException("invalid --date '" + range + "': the range ends before it starts");
            }
        }

        boolean empty() {
            return patientId == null && date == null && modality == null && accession == null && studyUids.isEmpty();
        }
    }

    @Command(name = "find", mixinStandardHelpOptions = true,
            description = {"List matching studies (C-FIND, study level, or QIDO-RS with --dicomweb), and with --series their"
                    + " series.",
                "Exit status: 0 when the query ran (also when nothing matched), 2 for invalid arguments, 1 when the PACS"
                        + " could not be queried."})
    static class Find implements Callable<Integer> {

        @Mixin
        Connection connection;

        @Mixin
        Query query;

        @Option(names = "--series", description = "Also list each study's series (C-FIND, series level).")
        boolean series;

        @Option(names = "--dicomweb", description = "Search the DICOMweb server at --dicomweb-url (QIDO-RS) instead of C-FIND.")
        boolean dicomWeb;

        @Override
        public Integer call() {
            try {
                StudySearch search = StudySearch.of(connection, dicomWeb);
                List<String> lines = new ArrayList<>();
                for (PacsClient.StudyQuery studyQuery : query.queries()) {
                    for (AttributeList study : search.studies(studyQuery)) {
                        String uid = value(study, TagFromName.StudyInstanceUID);
                        lines.add(String.format("%-64s %-10s %-16s %-8s %s", uid, value(study, TagFromName.StudyDate),
                                value(study, TagFromName.PatientID), value(study, TagFromName.NumberOfStudyRelatedInstances),
                                value(study, TagFromName.ModalitiesInStudy)));
                        if (series) {
                            for (AttributeList found : search.series(uid, query.modality)) {
                                lines.add(String.format("  series %s modality %s laterality %s images %s",
                                        value(found, TagFromName.SeriesInstanceUID), value(found, TagFromName.Modality),
                                        value(found, TagFromName.Laterality), value(found, TagFromName.NumberOfSeriesRelatedInstances)));
                            }
                        }
                    }
                }
                int count = (int) lines.stream().filter(line -> !line.startsWith("  ")).count();
                System.out.printf("%-64s %-10s %-16s %-8s %s%n", "study_instance_uid", "date", "patient_id", "images", "modalities");
                lines.forEach(System.out::println);
                System.err.println(count + (count == 1 ? " study" : " studies") + " found");
                return 0;
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade pacs find: " + e.getMessage());
                return 2;
            } catch (PacsException e) {
                System.err.println("retinagrade pacs find: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "retrieve", mixinStandardHelpOptions = true,
            description = {
                "Retrieve the matching studies into a cohort, as one ingest job with an item per instance.",
                "C-MOVE (default) sends the instances to our own C-STORE SCP on --listen-port, so register our AE title"
                        + " and that port as a modality in the PACS. C-GET (--method get) needs no registration of the port.",
                "--method dicomweb searches (QIDO-RS) and retrieves (WADO-RS) over HTTP from --dicomweb-url instead.",
                "Instances already stored are not fetched again. When the PACS goes away midway the job is left"
                        + " 'interrupted', and `retinagrade ingest resume JOB` then fetches only what is missing.",
                "Exit status: 0 when every instance was stored or already present, 3 when some are missing or"
                        + " quarantined or no study matches, 2 for invalid arguments, 1 when the PACS could not be queried."
            })
    static class Retrieve implements Callable<Integer>, DatabaseCommand {

        @Mixin
        Connection connection;

        @Mixin
        Query query;

        @Option(names = "--method", defaultValue = "move", description = "move, get or dicomweb (default: ${DEFAULT-VALUE}).")
        String method;

        @Mixin
        DicomTarget target;

        @Inject
        PacsRetrieveService service;

        @Override
        public Integer call() {
            try {
                PacsRetrieveService.Method chosen = switch (method.toLowerCase(java.util.Locale.ROOT)) {
                    case "move" -> PacsRetrieveService.Method.MOVE;
                    case "get" -> PacsRetrieveService.Method.GET;
                    case "dicomweb" -> PacsRetrieveService.Method.DICOMWEB;
                    default -> throw new IllegalArgumentException("invalid --method '" + method + "': use move, get or dicomweb");
                };
                boolean overHttp = chosen == PacsRetrieveService.Method.DICOMWEB;
                if (query.empty()) {
                    throw new IllegalArgumentException("give --study-uid or at least one query key (--patient-id, --date,"
                            + " --modality, --accession); retrieving a whole PACS is not supported");
                }
                StudySearch search = StudySearch.of(connection, overHttp);
                List<String> studies = new ArrayList<>();
                for (PacsClient.StudyQuery studyQuery : query.queries()) {
                    for (AttributeList found : search.studies(studyQuery)) {
                        String uid = value(found, TagFromName.StudyInstanceUID);
                        if (!uid.isEmpty() && !studies.contains(uid)) {
                            studies.add(uid);
                        }
                    }
                }
                if (studies.isEmpty()) {
                    System.err.println("retinagrade pacs retrieve: no study on " + search.peer() + " matches the query; nothing retrieved");
                    return 3;
                }
                IngestJob job = overHttp
                        ? service.retrieve(connection.dicomWeb(), studies, target.options(), System.err::println)
                        : service.retrieve(connection.settings(), studies, chosen, target.options(), System.err::println);
                System.out.println(job.summary());
                return job.status.equals("completed") && job.quarantined == 0 ? 0 : 3;
            } catch (IllegalArgumentException e) {
                System.err.println("retinagrade pacs retrieve: " + e.getMessage());
                return 2;
            } catch (PacsException e) {
                System.err.println("retinagrade pacs retrieve: " + e.getMessage());
                return 1;
            } catch (java.io.IOException e) {
                System.err.println("retinagrade pacs retrieve: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "listen", mixinStandardHelpOptions = true,
            description = {
                "Run a C-STORE SCP that modalities or a PACS push to, until interrupted (Ctrl-C or SIGTERM).",
                "Every received instance is decoded, de-identified and stored into the cohort as an item of one ingest job."
            })
    static class Listen implements Callable<Integer>, DatabaseCommand {

        @Mixin
        Local connection;

        @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
        String bind;

        @Option(names = "--accept-ae", paramLabel = "AE", split = ",",
                description = "Accept instances only from these calling AE titles (comma-separated or repeated; default: any).")
        List<String> acceptAe = new ArrayList<>();

        @Mixin
        DicomTarget target;

        @Inject
        PacsListener listener;

        @Override
        public Integer call() throws Exception {
            PacsSettings settings;
            try {
                settings = connection.settings();
                for (String caller : acceptAe) {
                    if (caller.isBlank() || caller.strip().length() > 16 || !caller.strip().matches("[\\x20-\\x7E&&[^\\\\]]+")) {
                        throw new IllegalArgumentException("invalid --accept-ae '" + caller + "': use AE titles of 1-16 printable"
                                + " ASCII characters without backslash, separated by commas");
                    }
                }
                StorageReceiver receiver = listener.start(settings, bind, target.options(),
                        new java.util.HashSet<>(acceptAe.stream().map(String::strip).toList()));
                System.err.printf("listening as %s on %s:%d, accepting %s; storing into cohort %s (Ctrl-C stops)%n",
                        settings.aeTitle(), bind, receiver.port(), acceptAe.isEmpty() ? "any calling AE title"
                                : "calling AE titles " + String.join(", ", acceptAe.stream().map(String::strip).toList()),
                        target.cohort);
            } catch (IllegalArgumentException | java.io.IOException e) {
                System.err.println("retinagrade pacs listen: " + e.getMessage());
                return 2;
            }
            io.quarkus.runtime.Quarkus.waitForExit();
            IngestJob job = listener.stop();
            if (job != null) {
                System.out.println(job.summary());
            }
            return 0;
        }
    }

    /** Study and series search by C-FIND or by QIDO-RS, whose results read alike. */
    private record StudySearch(PacsClient dimse, DicomWebClient web) {

        static StudySearch of(Connection connection, boolean overHttp) {
            return overHttp ? new StudySearch(null, new DicomWebClient(connection.dicomWeb()))
                    : new StudySearch(new PacsClient(connection.settings()), null);
        }

        List<AttributeList> studies(PacsClient.StudyQuery query) throws PacsException {
            return web != null ? web.searchStudies(query) : dimse.findStudies(query);
        }

        List<AttributeList> series(String studyUid, String modality) throws PacsException {
            return web != null ? web.searchSeries(studyUid, modality) : dimse.findSeries(studyUid, modality);
        }

        String peer() {
            return web != null ? web.settings().url() : dimse.settings().peer();
        }
    }

    static String value(AttributeList list, com.pixelmed.dicom.AttributeTag tag) {
        return Attribute.getSingleStringValueOrEmptyString(list, tag);
    }
}
