-- +goose Up
-- Documentation files: a logical file (section + name) has numbered
-- versions; a version is immutable content (a blob by SHA-256) plus its
-- review status. Nothing here is ever deleted by a new upload.

CREATE TABLE documents (
    id          bigserial PRIMARY KEY,
    app_id      bigint NOT NULL REFERENCES applications(id),
    section     text NOT NULL,          -- classifier code (07.03) or "app" for supporting documents
    name        text NOT NULL,          -- logical name, stable across versions
    created_by  bigint NOT NULL REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL DEFAULT 1,
    UNIQUE (app_id, section, name)
);

CREATE TABLE document_versions (
    id              bigserial PRIMARY KEY,
    document_id     bigint NOT NULL REFERENCES documents(id),
    number          integer NOT NULL,
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size            bigint NOT NULL,
    file_name       text NOT NULL,
    kind            text NOT NULL,
    pages           integer NOT NULL DEFAULT 0,
    page_sizes      jsonb NOT NULL DEFAULT '[]',
    encrypted       boolean NOT NULL DEFAULT false,
    uploaded_by     bigint NOT NULL REFERENCES users(id),
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    review_status   text NOT NULL DEFAULT 'pending' CHECK (review_status IN ('pending','accepted','rejected')),
    review_comment  text NOT NULL DEFAULT '',
    reviewed_by     bigint REFERENCES users(id),
    reviewed_at     timestamptz,
    version         bigint NOT NULL DEFAULT 1,
    UNIQUE (document_id, number)
);
CREATE INDEX document_versions_sha_idx ON document_versions (sha256);

-- Detached signatures kept beside the version they sign.
CREATE TABLE signatures (
    id           bigserial PRIMARY KEY,
    version_id   bigint NOT NULL REFERENCES document_versions(id),
    sha256       text NOT NULL,
    size         bigint NOT NULL,
    file_name    text NOT NULL,
    report       jsonb NOT NULL,
    uploaded_by  bigint NOT NULL REFERENCES users(id),
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signatures_version_idx ON signatures (version_id);

-- Resumable uploads: chunks land in a spool file; acknowledged chunks are
-- rows, so a restarted server knows exactly what it has.
CREATE TABLE uploads (
    id            text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users(id),
    app_id        bigint NOT NULL REFERENCES applications(id),
    section       text NOT NULL,
    name          text NOT NULL,
    file_name     text NOT NULL,
    size          bigint NOT NULL CHECK (size > 0),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    chunk_size    integer NOT NULL,
    signs_version bigint REFERENCES document_versions(id),
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open','done','failed')),
    result_version bigint REFERENCES document_versions(id),
    error         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_user_idx ON uploads (user_id) WHERE state = 'open';

CREATE TABLE upload_chunks (
    upload_id  text NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    idx        integer NOT NULL,
    size       integer NOT NULL,
    PRIMARY KEY (upload_id, idx)
);

-- +goose Down
DROP TABLE upload_chunks, uploads, signatures, document_versions, documents;
