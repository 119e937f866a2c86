-- +goose Up
-- Every mutable row carries a version that commands must name (optimistic
-- concurrency); append-only tables (history, change log, audit) do not.

CREATE TABLE organisations (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    short_name  text NOT NULL DEFAULT '',
    inn         text NOT NULL UNIQUE CHECK (inn ~ '^[0-9]{10}([0-9]{2})?$'),
    ogrn        text NOT NULL CHECK (ogrn ~ '^[0-9]{13}([0-9]{2})?$'),
    kpp         text NOT NULL DEFAULT '',
    address     text NOT NULL DEFAULT '',
    email       text NOT NULL DEFAULT '',
    phone       text NOT NULL DEFAULT '',
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    login           text NOT NULL CHECK (login <> ''),
    full_name       text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    phone           text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('applicant','expert','manager','admin')),
    password_hash   text NOT NULL,
    totp_secret     text NOT NULL DEFAULT '',
    totp_enabled    boolean NOT NULL DEFAULT false,
    totp_last_step  bigint NOT NULL DEFAULT 0,
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    disabled        boolean NOT NULL DEFAULT false,
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_login_key ON users (lower(login));

CREATE TABLE memberships (
    user_id     bigint NOT NULL REFERENCES users(id),
    org_id      bigint NOT NULL REFERENCES organisations(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, org_id)
);
CREATE INDEX memberships_org_idx ON memberships (org_id);

-- Application numbers run per calendar year: ГГЭ-2026-000123.
CREATE TABLE application_numbers (
    year  integer PRIMARY KEY,
    last  integer NOT NULL
);

CREATE TABLE applications (
    id                bigserial PRIMARY KEY,
    number            text NOT NULL UNIQUE,
    org_id            bigint NOT NULL REFERENCES organisations(id),
    object_name       text NOT NULL,
    object_address    text NOT NULL,
    works_kind        text NOT NULL,
    expertise_kind    text NOT NULL,
    financing         text NOT NULL,
    applicant_name    text NOT NULL DEFAULT '',
    applicant_phone   text NOT NULL DEFAULT '',
    applicant_email   text NOT NULL DEFAULT '',
    status            text NOT NULL,
    proposed_verdict  text NOT NULL DEFAULT '',
    lead_expert_id    bigint REFERENCES users(id),
    submitted_at      timestamptz,
    paid_at           timestamptz,
    created_by        bigint NOT NULL REFERENCES users(id),
    deleted_at        timestamptz,
    version           bigint NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applications_org_idx ON applications (org_id) WHERE deleted_at IS NULL;
CREATE INDEX applications_status_idx ON applications (status) WHERE deleted_at IS NULL;

CREATE TABLE status_history (
    id           bigserial PRIMARY KEY,
    app_id       bigint NOT NULL REFERENCES applications(id),
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    comment      text NOT NULL DEFAULT '',
    actor_id     bigint REFERENCES users(id),
    actor_name   text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_history_app_idx ON status_history (app_id, id);

-- One expert per section; the lead is applications.lead_expert_id.
CREATE TABLE assignments (
    app_id       bigint NOT NULL REFERENCES applications(id),
    section      text NOT NULL,
    expert_id    bigint NOT NULL REFERENCES users(id),
    assigned_by  bigint REFERENCES users(id),
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, section)
);
CREATE INDEX assignments_expert_idx ON assignments (expert_id);

-- Deadlines per stage, in civil dates (working days are computed with the
-- holiday calendar below).
CREATE TABLE deadlines (
    app_id      bigint NOT NULL REFERENCES applications(id),
    kind        text NOT NULL CHECK (kind IN ('completeness','review')),
    starts_on   date NOT NULL,
    due_on      date NOT NULL,
    extended    boolean NOT NULL DEFAULT false,
    version     bigint NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, kind)
);

-- Reminders already sent, so each (stage, threshold) is announced once.
CREATE TABLE deadline_reminders (
    app_id     bigint NOT NULL REFERENCES applications(id),
    kind       text NOT NULL,
    due_on     date NOT NULL,
    threshold  integer NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, kind, due_on, threshold)
);

-- Non-working weekdays (working = false) and transferred working weekend
-- days (working = true).
CREATE TABLE calendar_days (
    day      date PRIMARY KEY,
    working  boolean NOT NULL,
    note     text NOT NULL DEFAULT ''
);

CREATE TABLE remarks (
    id           bigserial PRIMARY KEY,
    app_id       bigint NOT NULL REFERENCES applications(id),
    section      text NOT NULL,
    body         text NOT NULL,
    norm_ref     text NOT NULL DEFAULT '',
    criticality  text NOT NULL CHECK (criticality IN ('critical','ordinary')),
    status       text NOT NULL CHECK (status IN ('draft','published','answered','accepted','reopened','closed')),
    author_id    bigint NOT NULL REFERENCES users(id),
    answer       text NOT NULL DEFAULT '',
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX remarks_app_idx ON remarks (app_id);

CREATE TABLE messages (
    id           bigserial PRIMARY KEY,
    app_id       bigint NOT NULL REFERENCES applications(id),
    channel      text NOT NULL CHECK (channel IN ('applicant','staff')),
    author_id    bigint NOT NULL REFERENCES users(id),
    body         text NOT NULL,
    attachments  text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_app_idx ON messages (app_id, channel, id);

CREATE TABLE message_reads (
    user_id       bigint NOT NULL REFERENCES users(id),
    app_id        bigint NOT NULL REFERENCES applications(id),
    channel       text NOT NULL,
    last_read_id  bigint NOT NULL,
    PRIMARY KEY (user_id, app_id, channel)
);

CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id),
    kind        text NOT NULL,
    app_id      bigint REFERENCES applications(id),
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    read_at     timestamptz,
    emailed_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);

CREATE TABLE notification_prefs (
    user_id     bigint NOT NULL REFERENCES users(id),
    kind        text NOT NULL,
    in_app      boolean NOT NULL,
    desktop     boolean NOT NULL,
    email       boolean NOT NULL,
    email_mode  text NOT NULL CHECK (email_mode IN ('instant','daily','weekly')),
    version     bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, kind)
);

-- The change log: one row per committed change, numbered by a counter row
-- that every writing transaction locks last, so commit order equals sequence
-- order and a reader tailing "seq > N" never skips a row committed later.
CREATE TABLE change_counter (
    id    integer PRIMARY KEY CHECK (id = 1),
    last  bigint NOT NULL
);
INSERT INTO change_counter VALUES (1, 0);

CREATE TABLE change_log (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,
    app_id      bigint,
    -- audience, fixed at commit time: applicants of org_id (unless
    -- staff_only), the experts listed, all managers and admins; or only
    -- user_id when set.
    org_id      bigint,
    expert_ids  bigint[] NOT NULL DEFAULT '{}',
    staff_only  boolean NOT NULL DEFAULT false,
    org_only    boolean NOT NULL DEFAULT false, -- drafts: the organisation alone
    user_id     bigint,
    payload     jsonb NOT NULL
);

CREATE TABLE sessions (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users(id),
    token_hash    bytea NOT NULL UNIQUE,
    scope         text NOT NULL CHECK (scope IN ('full','enrol')),
    device_id     text NOT NULL DEFAULT '',
    device_name   text NOT NULL DEFAULT '',
    ip            text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE login_history (
    id           bigserial PRIMARY KEY,
    user_id      bigint REFERENCES users(id),
    at           timestamptz NOT NULL DEFAULT now(),
    ip           text NOT NULL DEFAULT '',
    device_id    text NOT NULL DEFAULT '',
    device_name  text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    success      boolean NOT NULL,
    reason       text NOT NULL DEFAULT '',
    new_device   boolean NOT NULL DEFAULT false
);
CREATE INDEX login_history_user_idx ON login_history (user_id, id DESC);

CREATE TABLE idempotency_keys (
    user_id       bigint NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer NOT NULL DEFAULT 0,
    response      bytea, -- the exact bytes answered, replayed verbatim
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- The audit journal is append-only: a trigger refuses UPDATE, DELETE and
-- TRUNCATE, and each row carries the hash of its predecessor, so an edit or
-- deletion made by bypassing the trigger is detected by `audit verify`.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor_id     bigint,
    actor_login  text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    action       text NOT NULL,
    object_type  text NOT NULL DEFAULT '',
    object_id    text NOT NULL DEFAULT '',
    details      text NOT NULL DEFAULT '{}', -- JSON text, hashed byte for byte
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);

CREATE TABLE audit_head (
    id         integer PRIMARY KEY CHECK (id = 1),
    last_id    bigint NOT NULL,
    last_hash  bytea NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, '\x');

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE deadline_reminders, audit_head, audit_log, idempotency_keys, login_history, sessions,
    change_log, change_counter, notification_prefs, notifications, message_reads,
    messages, remarks, calendar_days, deadlines, assignments, status_history,
    applications, application_numbers, memberships, users, organisations;
DROP FUNCTION audit_log_append_only();
