-- +goose Up
-- Review: experts' annotations on PDF pages and the remarks register
-- (DESIGN.md §1 "Remarks", "Annotations"). Coordinates are PDF points of
-- the page, origin bottom-left; the service checks them against the
-- version's page_sizes. Nothing here is deleted for real: annotations and
-- draft remarks are soft-deleted, the rest only moves on.

CREATE TABLE annotations (
    id          bigserial PRIMARY KEY,
    app_id      bigint NOT NULL REFERENCES applications(id),
    version_id  bigint NOT NULL REFERENCES document_versions(id),
    page        integer NOT NULL CHECK (page >= 1),
    kind        text NOT NULL CHECK (kind IN ('highlight','rect','cloud','ellipse','arrow','line','note','ink')),
    geometry    jsonb NOT NULL,          -- wire.Geometry, validated per kind by the service
    color       text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$'),
    body        text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open','resolved','rejected')),
    author_id   bigint NOT NULL REFERENCES users(id),
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX annotations_version_idx ON annotations (version_id, page, id) WHERE deleted_at IS NULL;
CREATE INDEX annotations_app_idx ON annotations (app_id, id) WHERE deleted_at IS NULL;

CREATE TABLE annotation_replies (
    id             bigserial PRIMARY KEY,
    annotation_id  bigint NOT NULL REFERENCES annotations(id),
    author_id      bigint NOT NULL REFERENCES users(id),
    body           text NOT NULL CHECK (body <> ''),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX annotation_replies_idx ON annotation_replies (annotation_id, id);

-- A notice publishes a batch of remarks to the applicant. The PDF letter
-- is rendered by a later issue: letter_sha256 (a blob of the file store)
-- stays NULL until then.
CREATE TABLE remark_notices (
    id             bigserial PRIMARY KEY,
    app_id         bigint NOT NULL REFERENCES applications(id),
    number         integer NOT NULL CHECK (number >= 1),
    comment        text NOT NULL DEFAULT '',
    published_by   bigint NOT NULL REFERENCES users(id),
    published_at   timestamptz NOT NULL DEFAULT now(),
    letter_sha256  text CHECK (letter_sha256 ~ '^[0-9a-f]{64}$'),
    UNIQUE (app_id, number)
);

-- The remarks a notice carries: new ones and reopened ones sent again.
CREATE TABLE remark_notice_items (
    notice_id  bigint NOT NULL REFERENCES remark_notices(id),
    remark_id  bigint NOT NULL REFERENCES remarks(id),
    PRIMARY KEY (notice_id, remark_id)
);
CREATE INDEX remark_notice_items_remark_idx ON remark_notice_items (remark_id);

-- remarks existed as a minimal table; body stays the text. The old single
-- answer column never held data: answers are rows of remark_answers.
ALTER TABLE remarks
    DROP COLUMN answer,
    ADD COLUMN version_id     bigint REFERENCES document_versions(id),
    ADD COLUMN anchor_page    integer CHECK (anchor_page >= 1),
    ADD COLUMN anchor_rect    jsonb,
    ADD COLUMN annotation_id  bigint REFERENCES annotations(id),
    ADD COLUMN number         integer,
    ADD COLUMN notice_id      bigint REFERENCES remark_notices(id),
    ADD COLUMN resolution     text NOT NULL DEFAULT '',
    ADD COLUMN published_at   timestamptz,
    ADD COLUMN deleted_at     timestamptz;
-- Published remarks cite a norm; checked for new rows only (NOT VALID) so
-- the migration never fails on data written before the rule existed.
ALTER TABLE remarks ADD CONSTRAINT remarks_norm_ref_published
    CHECK (status = 'draft' OR norm_ref <> '') NOT VALID;
CREATE UNIQUE INDEX remarks_number_key ON remarks (app_id, number) WHERE number IS NOT NULL;
CREATE INDEX remarks_version_idx ON remarks (version_id) WHERE version_id IS NOT NULL;

CREATE TABLE remark_answers (
    id          bigserial PRIMARY KEY,
    remark_id   bigint NOT NULL REFERENCES remarks(id),
    body        text NOT NULL CHECK (body <> ''),
    author_id   bigint NOT NULL REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX remark_answers_remark_idx ON remark_answers (remark_id, id);

-- The corrected document versions an answer points to (same application,
-- checked by the service).
CREATE TABLE remark_answer_versions (
    answer_id   bigint NOT NULL REFERENCES remark_answers(id),
    version_id  bigint NOT NULL REFERENCES document_versions(id),
    PRIMARY KEY (answer_id, version_id)
);

-- +goose Down
DROP TABLE remark_answer_versions, remark_answers;
DROP INDEX remarks_version_idx, remarks_number_key;
ALTER TABLE remarks DROP CONSTRAINT remarks_norm_ref_published;
ALTER TABLE remarks
    DROP COLUMN deleted_at, DROP COLUMN published_at, DROP COLUMN resolution, DROP COLUMN notice_id,
    DROP COLUMN number, DROP COLUMN annotation_id, DROP COLUMN anchor_rect, DROP COLUMN anchor_page,
    DROP COLUMN version_id,
    ADD COLUMN answer text NOT NULL DEFAULT '';
DROP TABLE remark_notice_items, remark_notices, annotation_replies, annotations;
