-- +goose Up
-- The conclusion of an application (DESIGN.md §1 "Conclusion"): the lead
-- expert's structured draft, frozen at the manager's approval into
-- snapshot, then rendered as PDF and XML by a worker on any replica and
-- retried until stored (pdf_sha256 NULL while pending, as notice letters
-- in 00005). One conclusion per application.

CREATE TABLE conclusion_numbers (
    year  integer PRIMARY KEY,
    last  integer NOT NULL
);

CREATE TABLE conclusions (
    app_id          bigint PRIMARY KEY REFERENCES applications(id),
    guid            uuid NOT NULL UNIQUE,
    contract_number text NOT NULL DEFAULT '',
    findings        jsonb NOT NULL DEFAULT '[]',   -- [{section, text}], one per classifier section
    verdict         text NOT NULL DEFAULT '' CHECK (verdict IN ('', 'completed_positive', 'completed_negative')),
    justification   text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    updated_by      bigint NOT NULL REFERENCES users(id),
    version         bigint NOT NULL DEFAULT 1,
    -- Approval: the number, who and when, and the whole content as
    -- approved (wire.Conclusion JSON) — what is rendered and served since.
    number          text UNIQUE,
    approved_at     timestamptz,
    approved_by     bigint REFERENCES users(id),
    snapshot        jsonb,
    -- Rendering.
    pdf_sha256      text CHECK (pdf_sha256 ~ '^[0-9a-f]{64}$'),
    pdf_size        bigint,
    xml_sha256      text CHECK (xml_sha256 ~ '^[0-9a-f]{64}$'),
    xml_size        bigint,
    rendered_at     timestamptz,
    render_attempts      integer NOT NULL DEFAULT 0,
    render_next_at       timestamptz,
    render_locked_until  timestamptz,
    render_error         text NOT NULL DEFAULT '',
    CHECK ((approved_at IS NULL) = (snapshot IS NULL)),
    CHECK (pdf_sha256 IS NULL OR approved_at IS NOT NULL)
);
CREATE INDEX conclusions_render_pending_idx ON conclusions (app_id) WHERE approved_at IS NOT NULL AND pdf_sha256 IS NULL;

-- The document versions the experts reviewed (the same application's,
-- checked by the service).
CREATE TABLE conclusion_documents (
    app_id      bigint NOT NULL REFERENCES conclusions(app_id),
    version_id  bigint NOT NULL REFERENCES document_versions(id),
    PRIMARY KEY (app_id, version_id)
);

-- Detached signatures of the conclusion PDF, with the checker's report
-- (server/sig), as signatures of document versions in 00002.
CREATE TABLE conclusion_signatures (
    id           bigserial PRIMARY KEY,
    app_id       bigint NOT NULL REFERENCES conclusions(app_id),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL,
    file_name    text NOT NULL,
    report       jsonb NOT NULL,
    uploaded_by  bigint NOT NULL REFERENCES users(id),
    uploaded_at  timestamptz NOT NULL,
    UNIQUE (app_id, sha256)
);

-- +goose Down
DROP TABLE conclusion_signatures, conclusion_documents;
DROP INDEX conclusions_render_pending_idx;
DROP TABLE conclusions, conclusion_numbers;
