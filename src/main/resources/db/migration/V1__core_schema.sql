-- Core schema of RetinaGrade. Identifiers are bigint identities; times are UTC timestamptz.

-- Patients are known only by a keyed pseudonym (HMAC-SHA-256 with a site key kept outside
-- the database); no name, birth date or original identifier is stored.
CREATE TABLE patient (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pseudonym   text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A DICOM study (or, for folder ingestion, one imaging visit of a patient).
CREATE TABLE study (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id          bigint NOT NULL REFERENCES patient (id),
    study_instance_uid  text UNIQUE,
    study_date          date,
    accession_number    text,
    description         text,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE series (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id             bigint NOT NULL REFERENCES study (id),
    series_instance_uid  text UNIQUE,
    modality             text,
    laterality           char(1) CHECK (laterality IN ('L', 'R')),
    manufacturer         text,
    model_name           text,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per stored image, or per frame of a multi-frame DICOM object. The file lives in
-- the content-addressed store at storage_path, named by the SHA-256 of its bytes.
CREATE TABLE image (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256             char(64) NOT NULL UNIQUE,
    size_bytes         bigint NOT NULL CHECK (size_bytes > 0),
    media_type         text NOT NULL,
    storage_path       text NOT NULL,
    source             text NOT NULL,
    original_name      text,
    patient_id         bigint REFERENCES patient (id),
    series_id          bigint REFERENCES series (id),
    sop_instance_uid   text,
    sop_class_uid      text,
    frame_number       integer CHECK (frame_number >= 1),
    laterality         char(1) CHECK (laterality IN ('L', 'R')),
    width              integer NOT NULL CHECK (width > 0),
    height             integer NOT NULL CHECK (height > 0),
    quality_flags      text[] NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sop_instance_uid, frame_number)
);
CREATE INDEX image_patient_idx ON image (patient_id);

CREATE TABLE cohort (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Grade labels use the international clinical DR scale: 0 none, 1 mild, 2 moderate,
-- 3 severe non-proliferative, 4 proliferative.
CREATE TABLE cohort_member (
    cohort_id   bigint NOT NULL REFERENCES cohort (id),
    image_id    bigint NOT NULL REFERENCES image (id),
    split       text CHECK (split IN ('train', 'validation', 'test')),
    label       smallint CHECK (label BETWEEN 0 AND 4),
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, image_id)
);

CREATE TABLE human_grade (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    image_id     bigint NOT NULL REFERENCES image (id),
    grader       text NOT NULL,
    grade        smallint CHECK (grade BETWEEN 0 AND 4),
    ungradable   boolean NOT NULL DEFAULT false,
    comment      text,
    graded_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((ungradable AND grade IS NULL) OR (NOT ungradable AND grade IS NOT NULL))
);
CREATE INDEX human_grade_image_idx ON human_grade (image_id);

CREATE TABLE protocol (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    body        text NOT NULL,
    sha256      char(64) NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE run (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    protocol_id  bigint REFERENCES protocol (id),
    cohort_id    bigint REFERENCES cohort (id),
    status       text NOT NULL CHECK (status IN ('created', 'running', 'succeeded', 'failed', 'interrupted')),
    seed         bigint NOT NULL,
    provenance   jsonb NOT NULL DEFAULT '{}',
    error        text,
    started_at   timestamptz,
    finished_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A metric of a run; subgroup is '' for the whole evaluation set and epoch is NULL for
-- final evaluation metrics.
CREATE TABLE run_metric (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id    bigint NOT NULL REFERENCES run (id),
    name      text NOT NULL,
    subgroup  text NOT NULL DEFAULT '',
    epoch     integer,
    value     double precision,
    ci_low    double precision,
    ci_high   double precision,
    note      text
);
CREATE INDEX run_metric_run_idx ON run_metric (run_id);

CREATE TABLE prediction (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           bigint NOT NULL REFERENCES run (id),
    image_id         bigint NOT NULL REFERENCES image (id),
    true_grade       smallint CHECK (true_grade BETWEEN 0 AND 4),
    predicted_grade  smallint NOT NULL CHECK (predicted_grade BETWEEN 0 AND 4),
    probabilities    double precision[] NOT NULL,
    tta              jsonb,
    UNIQUE (run_id, image_id)
);

CREATE TABLE model_artifact (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           bigint REFERENCES run (id),
    kind             text NOT NULL,
    path             text NOT NULL,
    sha256           char(64) NOT NULL,
    parameter_count  bigint,
    epoch            integer,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ingest_job (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('folder', 'csv', 'dicom-folder', 'pacs')),
    source        text NOT NULL,
    cohort_id     bigint REFERENCES cohort (id),
    status        text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    read_count    integer NOT NULL DEFAULT 0,
    stored        integer NOT NULL DEFAULT 0,
    duplicates    integer NOT NULL DEFAULT 0,
    quarantined   integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);

CREATE TABLE ingest_job_item (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id            bigint NOT NULL REFERENCES ingest_job (id),
    source_ref        text NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending', 'stored', 'duplicate', 'quarantined')),
    sop_instance_uid  text,
    sha256            char(64),
    image_id          bigint REFERENCES image (id),
    message           text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_job_item_job_idx ON ingest_job_item (job_id);

-- A rejected input, kept with its reason; the file itself is copied under the study's
-- quarantine folder at stored_path when it could be read.
CREATE TABLE quarantine_entry (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       bigint REFERENCES ingest_job (id),
    source_path  text NOT NULL,
    reason       text NOT NULL,
    sha256       char(64),
    size_bytes   bigint,
    stored_path  text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Append-only, hash-chained audit trail: hash = SHA-256(prev_hash || canonical content).
CREATE TABLE audit_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor        text NOT NULL,
    action       text NOT NULL,
    entity       text NOT NULL,
    entity_id    text,
    occurred_at  timestamptz NOT NULL,
    details      text NOT NULL,
    prev_hash    char(64) NOT NULL,
    hash         char(64) NOT NULL UNIQUE
);

CREATE FUNCTION audit_event_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_reject_change();

CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_reject_change();
