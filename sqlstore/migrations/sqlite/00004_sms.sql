-- The SMS channel's state: each phone number's thread (its conversation,
-- language and STOP state) and the carrier's ids of messages already
-- handled. Times are integer Unix microseconds (UTC).

-- +goose Up
CREATE TABLE sms_threads (
    phone           TEXT    NOT NULL PRIMARY KEY,
    conversation_id TEXT    NOT NULL DEFAULT '',
    language        TEXT    NOT NULL DEFAULT '',
    stopped         INTEGER NOT NULL DEFAULT 0,
    last_at         INTEGER,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE sms_messages (
    sid         TEXT    NOT NULL PRIMARY KEY,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sms_messages_received ON sms_messages (received_at);

-- +goose Down
DROP TABLE sms_messages;
DROP TABLE sms_threads;
