-- A meter sample is stored once: a charger that sends a MeterValues (or
-- TransactionEvent) again, because the node that stored it stopped before
-- it answered, must not double its samples. Duplicates already stored are
-- removed, keeping the first.

-- +goose Up
DELETE FROM meter_values WHERE seq NOT IN (
    SELECT MIN(seq) FROM meter_values
    GROUP BY charger_id, transaction_id, at, connector_id, measurand, phase, context, location);
CREATE UNIQUE INDEX meter_values_once ON meter_values
    (charger_id, transaction_id, at, connector_id, measurand, phase, context, location);
DROP INDEX meter_values_transaction;

-- +goose Down
CREATE INDEX meter_values_transaction ON meter_values (charger_id, transaction_id, at);
DROP INDEX meter_values_once;
