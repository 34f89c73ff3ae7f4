-- When a transaction's energy register last rose: what tells a leftover
-- transaction (no energy for minutes) from a live one. Rows from before
-- take their last meter reading, the latest moment energy may have risen.

-- +goose Up
ALTER TABLE transactions ADD COLUMN energy_at TIMESTAMPTZ;
UPDATE transactions SET energy_at = COALESCE(last_meter_at, started_at);

-- +goose Down
ALTER TABLE transactions DROP COLUMN energy_at;
