-- The console's tickets, audit search and agent controls: operators'
-- comments on tickets; each ticket's urgency (chargedesk.Ticket.Urgency,
-- written by the store) for the queue's order; indexes for searching the
-- audit log by kind and time; settings every node reads (the agent's
-- switches).

-- +goose Up
CREATE TABLE ticket_comments (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id TEXT        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author    TEXT        NOT NULL,
    body      TEXT        NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, id);

-- 0 safety, 1 a failure that stops a driver charging, 2 the rest. Tickets
-- written before this migration are placed by the same rules.
ALTER TABLE tickets ADD COLUMN urgency INTEGER NOT NULL DEFAULT 2;
UPDATE tickets SET urgency = CASE
    WHEN category = 'hardware_damage' OR evidence->>'problem' = 'hardware_damage'
        OR evidence->'hazard' = 'true'::jsonb THEN 0
    WHEN category IN ('session_wont_start', 'charger_offline', 'connector_stuck', 'rfid_failure', 'payment_failure', 'outage')
        OR evidence->>'problem' IN ('session_wont_start', 'charger_offline', 'connector_stuck', 'rfid_failure', 'payment_failure') THEN 1
    ELSE 2 END;
CREATE INDEX tickets_queue ON tickets (status, urgency, created_at, id);

CREATE INDEX audit_kind ON audit (kind, seq);
CREATE INDEX audit_at ON audit (at);

CREATE TABLE settings (
    key        TEXT        NOT NULL PRIMARY KEY,
    value      TEXT        NOT NULL,
    updated_by TEXT        NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP INDEX audit_at;
DROP INDEX audit_kind;
DROP INDEX tickets_queue;
ALTER TABLE tickets DROP COLUMN urgency;
DROP TABLE ticket_comments;
