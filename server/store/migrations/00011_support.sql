-- +goose Up
-- Support requests from users to the administrators (docs/support.md):
-- numbered per calendar year (ПОД-2026-000123), a status, and a thread of
-- messages. Visible to the author and administrators only.

CREATE TABLE support_numbers (
    year  integer PRIMARY KEY,
    last  integer NOT NULL
);

CREATE TABLE support_requests (
    id          bigserial PRIMARY KEY,
    number      text NOT NULL UNIQUE,
    author_id   bigint NOT NULL REFERENCES users(id),
    subject     text NOT NULL CHECK (subject <> ''),
    status      text NOT NULL CHECK (status IN ('new','in_progress','answered','closed')),
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_requests_author_idx ON support_requests (author_id, id DESC);
CREATE INDEX support_requests_open_idx ON support_requests (id DESC) WHERE status <> 'closed';

CREATE TABLE support_messages (
    id          bigserial PRIMARY KEY,
    request_id  bigint NOT NULL REFERENCES support_requests(id),
    author_id   bigint NOT NULL REFERENCES users(id),
    body        text NOT NULL CHECK (body <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_messages_request_idx ON support_messages (request_id, id);

-- The administrators' user list shows each account's last successful
-- sign-in; this finds it without reading the account's whole history.
CREATE INDEX login_history_success_idx ON login_history (user_id, at DESC) WHERE success;

-- +goose Down
DROP INDEX login_history_success_idx;
DROP TABLE support_messages;
DROP TABLE support_requests;
DROP TABLE support_numbers;
