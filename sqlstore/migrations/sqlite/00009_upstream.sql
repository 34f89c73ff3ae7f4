-- Proxy mode (an upstream central system): charger messages answered
-- locally while the upstream was unreachable, held until delivered in seq
-- order; the upstream's ids of 1.6 transactions numbered locally meanwhile.
-- Times are integer Unix microseconds (UTC).

-- +goose Up
CREATE TABLE upstream_held (
    seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    charger_id TEXT    NOT NULL,
    protocol   TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    held_at    INTEGER NOT NULL
);
CREATE INDEX upstream_held_charger ON upstream_held (charger_id, seq);

CREATE TABLE upstream_transactions (
    charger_id  TEXT NOT NULL,
    local_id    TEXT NOT NULL,
    upstream_id TEXT NOT NULL,
    PRIMARY KEY (charger_id, local_id)
) STRICT;

-- +goose Down
DROP TABLE upstream_transactions;
DROP TABLE upstream_held;
