-- The support agent's data: sites and where chargers are, drivers,
-- conversations with their turns, and tickets.
-- Times are integer Unix microseconds (UTC). JSON is kept as TEXT.

-- +goose Up
CREATE TABLE sites (
    id        TEXT NOT NULL PRIMARY KEY,
    name      TEXT NOT NULL,
    address   TEXT NOT NULL DEFAULT '',
    city      TEXT NOT NULL DEFAULT '',
    region    TEXT NOT NULL DEFAULT '',
    country   TEXT NOT NULL DEFAULT '',
    lat       REAL NOT NULL,
    lon       REAL NOT NULL,
    -- landmarks is a JSON array of strings.
    landmarks TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(landmarks))
) STRICT;

CREATE TABLE charger_locations (
    charger_id TEXT NOT NULL PRIMARY KEY REFERENCES chargers (id) ON DELETE CASCADE,
    site_id    TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    -- connectors is a JSON array of chargedesk.ConnectorSpec.
    connectors TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(connectors))
) STRICT;
CREATE INDEX charger_locations_site ON charger_locations (site_id);

CREATE TABLE drivers (
    id                 TEXT    NOT NULL PRIMARY KEY,
    name               TEXT    NOT NULL DEFAULT '',
    phone              TEXT    NOT NULL DEFAULT '',
    language           TEXT    NOT NULL,
    payment_account_id TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;
-- A caller is recognised by phone: one driver per number.
CREATE UNIQUE INDEX drivers_phone ON drivers (phone) WHERE phone <> '';

CREATE TABLE conversations (
    id           TEXT    NOT NULL PRIMARY KEY,
    channel      TEXT    NOT NULL,
    language     TEXT    NOT NULL,
    from_addr    TEXT    NOT NULL DEFAULT '',
    driver_id    TEXT    NOT NULL DEFAULT '',
    verified     TEXT    NOT NULL DEFAULT '',
    charger_id   TEXT    NOT NULL DEFAULT '',
    connector_id INTEGER NOT NULL DEFAULT 0,
    category     TEXT    NOT NULL DEFAULT '',
    playbook     TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL DEFAULT '',
    data         TEXT    CHECK (data IS NULL OR json_valid(data)),
    status       TEXT    NOT NULL,
    ticket_id    TEXT    NOT NULL DEFAULT '',
    flagged      INTEGER NOT NULL DEFAULT 0,
    -- last_seq is the seq of the newest turn; AppendTurn increments it in
    -- the transaction that inserts the turn.
    last_seq     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_created ON conversations (created_at, id);
CREATE INDEX conversations_status_created ON conversations (status, created_at, id);
CREATE INDEX conversations_driver_created ON conversations (driver_id, created_at, id) WHERE driver_id <> '';

CREATE TABLE turns (
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    role            TEXT    NOT NULL,
    body            TEXT    NOT NULL DEFAULT '',
    meta            TEXT    CHECK (meta IS NULL OR json_valid(meta)),
    PRIMARY KEY (conversation_id, seq)
) STRICT;

CREATE TABLE tickets (
    id              TEXT    NOT NULL PRIMARY KEY,
    category        TEXT    NOT NULL,
    charger_id      TEXT    NOT NULL DEFAULT '',
    connector_id    INTEGER NOT NULL DEFAULT 0,
    driver_id       TEXT    NOT NULL DEFAULT '',
    conversation_id TEXT    NOT NULL DEFAULT '',
    summary         TEXT    NOT NULL,
    diagnosis       TEXT    NOT NULL DEFAULT '',
    evidence        TEXT    CHECK (evidence IS NULL OR json_valid(evidence)),
    transcript      TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL,
    assignee        TEXT    NOT NULL DEFAULT '',
    resolution      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX tickets_created ON tickets (created_at, id);
CREATE INDEX tickets_status_created ON tickets (status, created_at, id);
CREATE INDEX tickets_category_created ON tickets (category, created_at, id);
CREATE INDEX tickets_charger_created ON tickets (charger_id, created_at, id) WHERE charger_id <> '';

-- +goose Down
DROP TABLE tickets;
DROP TABLE turns;
DROP TABLE conversations;
DROP TABLE drivers;
DROP TABLE charger_locations;
DROP TABLE sites;
