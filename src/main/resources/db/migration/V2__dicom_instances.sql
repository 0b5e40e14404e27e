-- One stored DICOM instance: the de-identified Part 10 file in the content-addressed store,
-- with the SHA-256 of the bytes as received so that a re-sent or re-fetched instance is
-- recognised. Its frames are image rows that point back here.
CREATE TABLE dicom_instance (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id            bigint NOT NULL REFERENCES series (id),
    sop_instance_uid     text NOT NULL UNIQUE,
    sop_class_uid        text,
    transfer_syntax_uid  text NOT NULL,
    photometric          text,
    rows                 integer,
    columns              integer,
    frames               integer NOT NULL CHECK (frames >= 1),
    pixel_spacing        text,
    acquisition_date     date,
    sha256               char(64) NOT NULL,
    source_sha256        char(64) NOT NULL UNIQUE,
    storage_path         text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE image ADD COLUMN dicom_instance_id bigint REFERENCES dicom_instance (id);
CREATE INDEX image_dicom_instance_idx ON image (dicom_instance_id);
CREATE INDEX ingest_job_item_sop_idx ON ingest_job_item (job_id, sop_instance_uid);

-- What a job needs to be resumed: study, UID handling, labels and, for PACS retrieves, the
-- peer, method and studies asked for.
ALTER TABLE ingest_job ADD COLUMN options jsonb NOT NULL DEFAULT '{}';
