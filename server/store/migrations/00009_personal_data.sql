-- +goose Up
-- The audit journal learns where a request came from (the device of its
-- session) and which application a row concerns, so the journal can be
-- filtered by application and shown to managers by application.
-- app_id is derived from the hashed content (object_type/object_id or the
-- "app" field of details), so it needs no place in the hash; device is
-- hashed (see store.auditHash), and rows written before it existed hash as
-- before because an empty device adds nothing.
ALTER TABLE audit_log ADD COLUMN device text NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN app_id bigint;

-- Backfill app_id the same way the server derives it. The append-only
-- trigger is lifted for this one statement, inside the migration's
-- transaction, and no hashed column changes.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
UPDATE audit_log SET app_id = CASE
    WHEN object_type = 'application' AND object_id ~ '^[0-9]{1,18}$' THEN object_id::bigint
    WHEN jsonb_typeof(details::jsonb -> 'app') = 'number' THEN (details::jsonb ->> 'app')::numeric::bigint
END;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;

CREATE INDEX audit_log_app_idx ON audit_log (app_id, id) WHERE app_id IS NOT NULL;
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

-- Personal data, encrypted at rest with AES-256-GCM under a key kept
-- outside the database (docs/personal-data.md). Each value is
-- format byte | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag;
-- NULL when not given. Plaintext never reaches this table.
ALTER TABLE users ADD COLUMN snils_enc bytea;
ALTER TABLE users ADD COLUMN passport_enc bytea;

-- +goose Down
ALTER TABLE users DROP COLUMN passport_enc, DROP COLUMN snils_enc;
DROP INDEX audit_log_action_idx, audit_log_object_idx, audit_log_app_idx;
ALTER TABLE audit_log DROP COLUMN app_id, DROP COLUMN device;
