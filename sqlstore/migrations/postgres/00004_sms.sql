-- The SMS channel's state: each phone number's thread (its conversation,
-- language and STOP state) and the carrier's ids of messages already
-- handled.

-- +goose Up
CREATE TABLE sms_threads (
    phone           TEXT        NOT NULL PRIMARY KEY,
    conversation_id TEXT        NOT NULL DEFAULT '',
    language        TEXT        NOT NULL DEFAULT '',
    stopped         BOOLEAN     NOT NULL DEFAULT FALSE,
    last_at         TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE sms_messages (
    sid         TEXT        NOT NULL PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sms_messages_received ON sms_messages (received_at);

-- +goose Down
DROP TABLE sms_messages;
DROP TABLE sms_threads;
