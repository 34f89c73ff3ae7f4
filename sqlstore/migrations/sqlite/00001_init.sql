-- Times are integer Unix microseconds (UTC); NULL is "never".
-- Booleans are 0 or 1.

-- +goose Up
CREATE TABLE chargers (
    id                  TEXT    NOT NULL PRIMARY KEY,
    description         TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL DEFAULT '',
    -- registration_status is the status to give at the next boot;
    -- boot_status the one given last.
    registration_status TEXT    NOT NULL,
    protocol            TEXT    NOT NULL DEFAULT '',
    vendor              TEXT    NOT NULL DEFAULT '',
    model               TEXT    NOT NULL DEFAULT '',
    serial_number       TEXT    NOT NULL DEFAULT '',
    firmware_version    TEXT    NOT NULL DEFAULT '',
    boot_status         TEXT    NOT NULL DEFAULT '',
    firmware_status     TEXT    NOT NULL DEFAULT '',
    diagnostics_status  TEXT    NOT NULL DEFAULT '',
    connected           INTEGER NOT NULL DEFAULT 0,
    node                TEXT    NOT NULL DEFAULT '',
    connected_at        INTEGER,
    disconnected_at     INTEGER,
    last_boot_at        INTEGER,
    last_heartbeat_at   INTEGER,
    last_seen_at        INTEGER,
    registered_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX chargers_node ON chargers (node) WHERE connected;

CREATE TABLE connectors (
    charger_id        TEXT    NOT NULL REFERENCES chargers (id) ON DELETE CASCADE,
    id                INTEGER NOT NULL,
    evse_connector_id INTEGER NOT NULL DEFAULT 0,
    status            TEXT    NOT NULL,
    error_code        TEXT    NOT NULL DEFAULT '',
    info              TEXT    NOT NULL DEFAULT '',
    vendor_id         TEXT    NOT NULL DEFAULT '',
    vendor_error_code TEXT    NOT NULL DEFAULT '',
    status_at         INTEGER,
    updated_at        INTEGER,
    PRIMARY KEY (charger_id, id)
) STRICT;

CREATE TABLE transactions (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- id is the OCPP transaction id. For OCPP 1.6 (assigned = 1) it is seq
    -- in decimal, written in the same database transaction as the row.
    id              TEXT,
    assigned        INTEGER NOT NULL,
    charger_id      TEXT    NOT NULL REFERENCES chargers (id) ON DELETE CASCADE,
    connector_id    INTEGER NOT NULL,
    id_tag          TEXT    NOT NULL DEFAULT '',
    auth_status     TEXT    NOT NULL DEFAULT '',
    started_at      INTEGER NOT NULL,
    meter_start_wh  INTEGER NOT NULL DEFAULT 0,
    remote_start_id INTEGER NOT NULL DEFAULT 0,
    charging_state  TEXT    NOT NULL DEFAULT '',
    seq_no          INTEGER NOT NULL DEFAULT 0,
    last_meter_wh   INTEGER NOT NULL DEFAULT 0,
    last_meter_at   INTEGER,
    stopped_at      INTEGER,
    meter_stop_wh   INTEGER NOT NULL DEFAULT 0,
    stop_reason     TEXT    NOT NULL DEFAULT '',
    stop_id_tag     TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX transactions_charger_id ON transactions (charger_id, id);
-- A repeated OCPP 1.6 StartTransaction finds the row it created before.
-- A repeated 1.6 StartTransaction (its answer was lost) finds the active
-- transaction it started; once that one has stopped, the same values start a new one.
CREATE UNIQUE INDEX transactions_v16_start ON transactions (charger_id, connector_id, id_tag, started_at) WHERE assigned AND stopped_at IS NULL;
CREATE INDEX transactions_charger_started ON transactions (charger_id, started_at);
CREATE INDEX transactions_id_tag_started ON transactions (id_tag, started_at);
CREATE INDEX transactions_started ON transactions (started_at);

CREATE TABLE meter_values (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id     TEXT    NOT NULL,
    connector_id   INTEGER NOT NULL,
    transaction_id TEXT    NOT NULL DEFAULT '',
    at             INTEGER NOT NULL,
    measurand      TEXT    NOT NULL,
    phase          TEXT    NOT NULL DEFAULT '',
    context        TEXT    NOT NULL DEFAULT '',
    location       TEXT    NOT NULL DEFAULT '',
    unit           TEXT    NOT NULL DEFAULT '',
    value          REAL    NOT NULL
) STRICT;
CREATE INDEX meter_values_transaction ON meter_values (charger_id, transaction_id, at);

CREATE TABLE tokens (
    id_tag        TEXT    NOT NULL PRIMARY KEY,
    type          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    expires_at    INTEGER,
    parent_id_tag TEXT    NOT NULL DEFAULT '',
    driver_id     TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX tokens_driver ON tokens (driver_id, id_tag);

CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    direction  TEXT    NOT NULL DEFAULT '',
    type       TEXT    NOT NULL DEFAULT '',
    message_id TEXT    NOT NULL DEFAULT '',
    action     TEXT    NOT NULL DEFAULT '',
    payload    TEXT
) STRICT;
CREATE INDEX events_charger_seq ON events (charger_id, seq);

CREATE TABLE audit (
    seq        INTEGER NOT NULL PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    command_id TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    charger_id TEXT    NOT NULL,
    stage      TEXT    NOT NULL,
    allowed    INTEGER NOT NULL,
    outcome    TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    detail     TEXT,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_charger ON audit (charger_id, seq);
CREATE INDEX audit_command ON audit (command_id, seq);

-- The audit log is append-only. The hash chain detects an edit made around
-- these triggers; the triggers stop one made by mistake.
-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit;
DROP TABLE events;
DROP TABLE tokens;
DROP TABLE meter_values;
DROP TABLE transactions;
DROP TABLE connectors;
DROP TABLE chargers;
