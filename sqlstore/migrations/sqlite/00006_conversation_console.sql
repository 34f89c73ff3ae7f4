-- The console's view of conversations: the operator who took one over
-- from the agent, what the agent is busy with (a lease, so that a node
-- that stops mid-way leaves it to run out), and when the conversation was
-- last active, with the indexes the console's list filters and orders on
-- (newest activity first, paged by (active_at, id)).
-- Times are integer Unix microseconds (UTC).

-- +goose Up
ALTER TABLE conversations ADD COLUMN operator TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN busy TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN busy_until INTEGER;
ALTER TABLE conversations ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET active_at = MAX(updated_at, created_at,
    COALESCE((SELECT MAX(t.at) FROM turns t WHERE t.conversation_id = conversations.id), 0));

-- Each filter's index carries the other filters' columns after its order,
-- so that a narrow combination (a channel and a state that few share) is
-- checked in the index, not row by row in the table: SQLite keeps no
-- statistics to pick the narrower index.
CREATE INDEX conversations_active ON conversations (active_at, id);
CREATE INDEX conversations_status_active ON conversations (status, active_at, id, channel, language, category, operator);
CREATE INDEX conversations_channel_active ON conversations (channel, active_at, id, status, language, category, operator);
CREATE INDEX conversations_language_active ON conversations (language, active_at, id, status, channel, category, operator);
CREATE INDEX conversations_category_active ON conversations (category, active_at, id, status, channel, language, operator);
CREATE INDEX conversations_operator_active ON conversations (active_at, id) WHERE operator <> '';
CREATE INDEX conversations_charger_busy ON conversations (active_at, id) WHERE busy = 'charger';

-- +goose Down
DROP INDEX conversations_charger_busy;
DROP INDEX conversations_operator_active;
DROP INDEX conversations_category_active;
DROP INDEX conversations_language_active;
DROP INDEX conversations_channel_active;
DROP INDEX conversations_status_active;
DROP INDEX conversations_active;
ALTER TABLE conversations DROP COLUMN active_at;
ALTER TABLE conversations DROP COLUMN busy_until;
ALTER TABLE conversations DROP COLUMN busy;
ALTER TABLE conversations DROP COLUMN operator;
