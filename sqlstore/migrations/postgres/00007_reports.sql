-- What the reports read: every port's status history (NEVI uptime is
-- computed from it), the outages operators exclude from uptime with their
-- cause, and when a conversation was first resolved.

-- +goose Up
-- One row per change, written in the transaction that records the change:
-- a connector's new status (connector_id 0 is the charger as a whole, as
-- OCPP reports it) or, with connector_id -1, the charger's connection
-- going 'Online' or 'Offline'. No foreign key: the history outlives a
-- deleted charger.
CREATE TABLE port_history (
    seq          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charger_id   TEXT        NOT NULL,
    connector_id INTEGER     NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    status       TEXT        NOT NULL,
    -- Whether the row can change whether a port is up: a connection row, a
    -- connector 0 row, a connector's first row, a status moving between
    -- down (Faulted, Unavailable) and up. Uptime reads only these.
    avail_change BOOLEAN     NOT NULL
);
-- A month's rows in order; the rows that change availability with their
-- columns, so that uptime reads the index alone.
CREATE INDEX port_history_at ON port_history (at, seq);
CREATE INDEX port_history_avail ON port_history (at, seq) INCLUDE (charger_id, connector_id, status) WHERE avail_change;
-- A port's state at an instant: its latest row before it.
CREATE INDEX port_history_port ON port_history (charger_id, connector_id, at, seq) INCLUDE (status);

-- The history starts from what is known now: each connector's status and
-- each charger's connection.
INSERT INTO port_history (charger_id, connector_id, at, status, avail_change)
SELECT charger_id, id, COALESCE(updated_at, status_at), status, TRUE FROM connectors
WHERE COALESCE(updated_at, status_at) IS NOT NULL;
INSERT INTO port_history (charger_id, connector_id, at, status, avail_change)
SELECT id, -1, connected_at, 'Online', TRUE FROM chargers WHERE connected AND connected_at IS NOT NULL;
INSERT INTO port_history (charger_id, connector_id, at, status, avail_change)
SELECT id, -1, disconnected_at, 'Offline', TRUE FROM chargers WHERE NOT connected AND disconnected_at IS NOT NULL;

-- An outage an operator excludes from a port's uptime (connector_id 0:
-- every port of the charger) over [starts_at, ends_at), with its cause.
CREATE TABLE uptime_exclusions (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charger_id   TEXT        NOT NULL,
    connector_id INTEGER     NOT NULL,
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    cause        TEXT        NOT NULL,
    note         TEXT        NOT NULL,
    created_by   TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX uptime_exclusions_starts ON uptime_exclusions (starts_at);

-- When the conversation was first marked resolved; before this migration,
-- its last update stands in.
ALTER TABLE conversations ADD COLUMN resolved_at TIMESTAMPTZ;
UPDATE conversations SET resolved_at = updated_at WHERE status = 'resolved';

-- +goose Down
ALTER TABLE conversations DROP COLUMN resolved_at;
DROP TABLE uptime_exclusions;
DROP TABLE port_history;
