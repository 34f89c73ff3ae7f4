-- Console accounts and their signed-in sessions. A session's id is the
-- SHA-256 of the cookie's secret.

-- +goose Up
CREATE TABLE operators (
    username      TEXT        NOT NULL PRIMARY KEY,
    name          TEXT        NOT NULL DEFAULT '',
    role          TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    disabled      BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE operator_sessions (
    id         TEXT        NOT NULL PRIMARY KEY,
    username   TEXT        NOT NULL REFERENCES operators (username) ON DELETE CASCADE,
    csrf       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX operator_sessions_user ON operator_sessions (username);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);

-- +goose Down
DROP TABLE operator_sessions;
DROP TABLE operators;
