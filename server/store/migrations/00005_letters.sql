-- +goose Up
-- Notice letters (the PDF «Уведомление о замечаниях»): rendered after the
-- publication commits, by a worker on any replica, retried until stored.
-- letter_sha256 (from 00003) stays NULL while the letter is pending; these
-- columns schedule and lease the work. NULL letter_next_at means "due at
-- once" (a fresh notice, or one published before this migration).
ALTER TABLE remark_notices
    ADD COLUMN letter_attempts      integer NOT NULL DEFAULT 0,
    ADD COLUMN letter_next_at       timestamptz,
    ADD COLUMN letter_locked_until  timestamptz,
    ADD COLUMN letter_error         text NOT NULL DEFAULT '';
CREATE INDEX remark_notices_letter_pending_idx ON remark_notices (id) WHERE letter_sha256 IS NULL;

-- +goose Down
DROP INDEX remark_notices_letter_pending_idx;
ALTER TABLE remark_notices
    DROP COLUMN letter_error, DROP COLUMN letter_locked_until, DROP COLUMN letter_next_at, DROP COLUMN letter_attempts;
