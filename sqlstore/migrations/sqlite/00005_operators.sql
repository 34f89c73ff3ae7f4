-- Console accounts and their signed-in sessions. A session's id is the
-- SHA-256 of the cookie's secret. Times are integer Unix microseconds (UTC).

-- +goose Up
CREATE TABLE operators (
    username      TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE operator_sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    username   TEXT    NOT NULL REFERENCES operators (username) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX operator_sessions_user ON operator_sessions (username);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);

-- +goose Down
DROP TABLE operator_sessions;
DROP TABLE operators;
