-- Each handled SMS keeps the number it came from and when its answer went,
-- so that a message whose node stopped before answering is not left
-- silent. Times are integer Unix microseconds (UTC).

-- +goose Up
ALTER TABLE sms_messages ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_messages ADD COLUMN answered_at INTEGER;
CREATE INDEX sms_messages_unanswered ON sms_messages (received_at) WHERE answered_at IS NULL AND phone <> '';

-- +goose Down
DROP INDEX sms_messages_unanswered;
ALTER TABLE sms_messages DROP COLUMN answered_at;
ALTER TABLE sms_messages DROP COLUMN phone;
