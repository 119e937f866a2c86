-- +goose Up
-- Chat attachments (issue 4): which stored version each file of a message
-- is. messages.attachments keeps the SHA-256 list (older clients read it);
-- this table fixes, at posting time, the exact chat upload behind each
-- entry, so its file name and size are shown and the download endpoint
-- serves only files reachable through a message the caller may read.
CREATE TABLE message_files (
    message_id  bigint NOT NULL REFERENCES messages(id),
    position    integer NOT NULL CHECK (position >= 0),
    version_id  bigint NOT NULL REFERENCES document_versions(id),
    PRIMARY KEY (message_id, position)
);
CREATE INDEX message_files_version_idx ON message_files (version_id);

-- Messages posted before this migration named their files by SHA-256
-- only: link each to a chat upload of the same application with that
-- content, the author's own first. An entry with no such upload stays
-- unlinked (it was never downloadable).
INSERT INTO message_files (message_id, position, version_id)
SELECT x.message_id, x.position, x.version_id FROM (
    SELECT m.id AS message_id, (a.ord - 1)::integer AS position,
        (SELECT v.id FROM document_versions v JOIN documents d ON d.id = v.document_id
          WHERE d.app_id = m.app_id AND d.section = 'chat' AND v.sha256 = a.sha
          ORDER BY (v.uploaded_by = m.author_id) DESC, v.id LIMIT 1) AS version_id
    FROM messages m, unnest(m.attachments) WITH ORDINALITY AS a(sha, ord)
) x WHERE x.version_id IS NOT NULL;

-- +goose Down
DROP TABLE message_files;
