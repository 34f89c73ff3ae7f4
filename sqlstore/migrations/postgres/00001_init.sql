-- +goose Up
CREATE TABLE chargers (
    id                  TEXT        NOT NULL PRIMARY KEY,
    description         TEXT        NOT NULL DEFAULT '',
    password_hash       TEXT        NOT NULL DEFAULT '',
    -- registration_status is the status to give at the next boot;
    -- boot_status the one given last.
    registration_status TEXT        NOT NULL,
    protocol            TEXT        NOT NULL DEFAULT '',
    vendor              TEXT        NOT NULL DEFAULT '',
    model               TEXT        NOT NULL DEFAULT '',
    serial_number       TEXT        NOT NULL DEFAULT '',
    firmware_version    TEXT        NOT NULL DEFAULT '',
    boot_status         TEXT        NOT NULL DEFAULT '',
    firmware_status     TEXT        NOT NULL DEFAULT '',
    diagnostics_status  TEXT        NOT NULL DEFAULT '',
    connected           BOOLEAN     NOT NULL DEFAULT FALSE,
    node                TEXT        NOT NULL DEFAULT '',
    connected_at        TIMESTAMPTZ,
    disconnected_at     TIMESTAMPTZ,
    last_boot_at        TIMESTAMPTZ,
    last_heartbeat_at   TIMESTAMPTZ,
    last_seen_at        TIMESTAMPTZ,
    registered_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX chargers_node ON chargers (node) WHERE connected;

CREATE TABLE connectors (
    charger_id        TEXT        NOT NULL REFERENCES chargers (id) ON DELETE CASCADE,
    id                INTEGER     NOT NULL,
    evse_connector_id INTEGER     NOT NULL DEFAULT 0,
    status            TEXT        NOT NULL,
    error_code        TEXT        NOT NULL DEFAULT '',
    info              TEXT        NOT NULL DEFAULT '',
    vendor_id         TEXT        NOT NULL DEFAULT '',
    vendor_error_code TEXT        NOT NULL DEFAULT '',
    status_at         TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ,
    PRIMARY KEY (charger_id, id)
);

CREATE TABLE transactions (
    seq             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- id is the OCPP transaction id. For OCPP 1.6 (assigned) it is seq in
    -- decimal, written in the same database transaction as the row.
    id              TEXT,
    assigned        BOOLEAN     NOT NULL,
    charger_id      TEXT        NOT NULL REFERENCES chargers (id) ON DELETE CASCADE,
    connector_id    INTEGER     NOT NULL,
    id_tag          TEXT        NOT NULL DEFAULT '',
    auth_status     TEXT        NOT NULL DEFAULT '',
    started_at      TIMESTAMPTZ NOT NULL,
    meter_start_wh  BIGINT      NOT NULL DEFAULT 0,
    remote_start_id BIGINT      NOT NULL DEFAULT 0,
    charging_state  TEXT        NOT NULL DEFAULT '',
    seq_no          BIGINT      NOT NULL DEFAULT 0,
    last_meter_wh   BIGINT      NOT NULL DEFAULT 0,
    last_meter_at   TIMESTAMPTZ,
    stopped_at      TIMESTAMPTZ,
    meter_stop_wh   BIGINT      NOT NULL DEFAULT 0,
    stop_reason     TEXT        NOT NULL DEFAULT '',
    stop_id_tag     TEXT        NOT NULL DEFAULT '',
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX transactions_charger_id ON transactions (charger_id, id);
-- A repeated OCPP 1.6 StartTransaction finds the row it created before.
-- A repeated 1.6 StartTransaction (its answer was lost) finds the active
-- transaction it started; once that one has stopped, the same values start a new one.
CREATE UNIQUE INDEX transactions_v16_start ON transactions (charger_id, connector_id, id_tag, started_at) WHERE assigned AND stopped_at IS NULL;
CREATE INDEX transactions_charger_started ON transactions (charger_id, started_at);
CREATE INDEX transactions_id_tag_started ON transactions (id_tag, started_at);
CREATE INDEX transactions_started ON transactions (started_at);

CREATE TABLE meter_values (
    seq            BIGINT           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charger_id     TEXT             NOT NULL,
    connector_id   INTEGER          NOT NULL,
    transaction_id TEXT             NOT NULL DEFAULT '',
    at             TIMESTAMPTZ      NOT NULL,
    measurand      TEXT             NOT NULL,
    phase          TEXT             NOT NULL DEFAULT '',
    context        TEXT             NOT NULL DEFAULT '',
    location       TEXT             NOT NULL DEFAULT '',
    unit           TEXT             NOT NULL DEFAULT '',
    value          DOUBLE PRECISION NOT NULL
);
CREATE INDEX meter_values_transaction ON meter_values (charger_id, transaction_id, at);

CREATE TABLE tokens (
    id_tag        TEXT        NOT NULL PRIMARY KEY,
    type          TEXT        NOT NULL,
    status        TEXT        NOT NULL,
    expires_at    TIMESTAMPTZ,
    parent_id_tag TEXT        NOT NULL DEFAULT '',
    driver_id     TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX tokens_driver ON tokens (driver_id, id_tag);

CREATE TABLE events (
    seq        BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charger_id TEXT        NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    direction  TEXT        NOT NULL DEFAULT '',
    type       TEXT        NOT NULL DEFAULT '',
    message_id TEXT        NOT NULL DEFAULT '',
    action     TEXT        NOT NULL DEFAULT '',
    -- TEXT, not JSONB: the frame is kept byte for byte.
    payload    TEXT
);
CREATE INDEX events_charger_seq ON events (charger_id, seq);
-- Every append deletes as many old events as it adds; vacuum often so that
-- trimming does not walk long runs of dead index entries.
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.05);

CREATE TABLE audit (
    seq        BIGINT      NOT NULL PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT        NOT NULL,
    command_id TEXT        NOT NULL,
    kind       TEXT        NOT NULL,
    charger_id TEXT        NOT NULL,
    stage      TEXT        NOT NULL,
    allowed    BOOLEAN     NOT NULL,
    outcome    TEXT        NOT NULL,
    reason     TEXT        NOT NULL,
    -- TEXT, not JSONB: the hash covers the bytes.
    detail     TEXT,
    prev_hash  TEXT        NOT NULL,
    hash       TEXT        NOT NULL
);
CREATE INDEX audit_charger ON audit (charger_id, seq);
CREATE INDEX audit_command ON audit (command_id, seq);

-- The audit log is append-only. The hash chain detects an edit made around
-- this trigger; the trigger stops one made by mistake.
-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TABLE audit;
DROP FUNCTION audit_append_only();
DROP TABLE events;
DROP TABLE tokens;
DROP TABLE meter_values;
DROP TABLE transactions;
DROP TABLE connectors;
DROP TABLE chargers;
