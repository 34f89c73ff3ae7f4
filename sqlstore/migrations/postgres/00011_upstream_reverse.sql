-- Proxy mode: an upstream CALL names a transaction by the upstream's id;
-- the charger knows it by the id chargedesk numbered it with locally.

-- +goose Up
CREATE INDEX upstream_transactions_upstream ON upstream_transactions (charger_id, upstream_id);

-- +goose Down
DROP INDEX upstream_transactions_upstream;
