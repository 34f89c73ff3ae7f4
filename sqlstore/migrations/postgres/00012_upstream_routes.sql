-- Proxy mode: an operator's route per charger (where and as whom it is
-- relayed; the zero route is the server's defaults), and the state of each
-- charger's link as the node holding it last recorded it.

-- +goose Up
CREATE TABLE upstream_routes (
    charger_id TEXT        NOT NULL PRIMARY KEY,
    url        TEXT        NOT NULL,
    auth       TEXT        NOT NULL,
    username   TEXT        NOT NULL,
    password   TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT        NOT NULL
);
CREATE INDEX upstream_routes_updated ON upstream_routes (updated_at);

CREATE TABLE upstream_links (
    charger_id    TEXT        NOT NULL PRIMARY KEY,
    node          TEXT        NOT NULL,
    url           TEXT        NOT NULL,
    up            BOOLEAN     NOT NULL,
    since         TIMESTAMPTZ,
    last_error    TEXT        NOT NULL,
    dial_failures INTEGER     NOT NULL,
    relayed       BIGINT      NOT NULL,
    relay_mean_us BIGINT      NOT NULL,
    relay_max_us  BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE upstream_links;
DROP TABLE upstream_routes;
