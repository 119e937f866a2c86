-- +goose Up
-- E-mail: a durable outgoing queue shared by every server replica, the
-- link from each notification to the message that carried it (so it is
-- e-mailed at most once), digest runs claimed once per period, and the
-- recipient's mail language.

-- Users had no language; mail needs one. Russian is the product's default.
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'ru' CHECK (language IN ('ru','en'));

-- One row per message, rendered when queued so that every retry sends the
-- same bytes under the same Message-ID. A worker claims due rows with
-- FOR UPDATE SKIP LOCKED and leases them (locked_until) while it talks to
-- the SMTP server outside any transaction.
CREATE TABLE mail_queue (
    id               bigserial PRIMARY KEY,
    user_id          bigint REFERENCES users(id),
    kind             text NOT NULL CHECK (kind IN ('instant','daily','weekly')),
    to_addr          text NOT NULL CHECK (to_addr <> ''),
    to_name          text NOT NULL DEFAULT '',
    subject          text NOT NULL,
    text_body        text NOT NULL,
    html_body        text NOT NULL DEFAULT '',
    message_id       text NOT NULL UNIQUE,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    locked_until     timestamptz,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX mail_queue_due_idx ON mail_queue (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX mail_queue_done_idx ON mail_queue (created_at) WHERE state <> 'pending';

-- emailed_at (from 00001) is set when a notification is put in a message;
-- mail_id says which. Sent messages are pruned after a while, hence SET NULL.
ALTER TABLE notifications ADD COLUMN mail_id bigint REFERENCES mail_queue(id) ON DELETE SET NULL;
CREATE INDEX notifications_unmailed_idx ON notifications (created_at, user_id) WHERE emailed_at IS NULL;

-- A digest run per mode and period (the Moscow date it is due), claimed by
-- one replica; a run whose claimer died is taken over once its lease ends.
CREATE TABLE mail_digest_runs (
    mode          text NOT NULL CHECK (mode IN ('daily','weekly')),
    period        date NOT NULL,
    claimed_at    timestamptz NOT NULL,
    lease_until   timestamptz NOT NULL,
    finished_at   timestamptz,
    messages      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (mode, period)
);

-- +goose Down
DROP TABLE mail_digest_runs;
DROP INDEX notifications_unmailed_idx;
ALTER TABLE notifications DROP COLUMN mail_id;
DROP TABLE mail_queue;
ALTER TABLE users DROP COLUMN language;
