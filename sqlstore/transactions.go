package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"

	"github.com/chargedesk/chargedesk"
)

// DefaultMeasurand is the measurand of a sample that names none, as in both
// OCPP versions.
const DefaultMeasurand = "Energy.Active.Import.Register"

// maxTransactionIDLen bounds a 2.0.1 transactionId (the schema's limit).
const maxTransactionIDLen = 36

const transactionCols = `id, charger_id, connector_id, id_tag, auth_status, started_at,
	meter_start_wh, remote_start_id, charging_state, seq_no, last_meter_wh, last_meter_at,
	energy_at, stopped_at, meter_stop_wh, stop_reason, stop_id_tag, updated_at`

func scanTransaction(row scanner) (*chargedesk.Transaction, error) {
	var t chargedesk.Transaction
	err := row.Scan(&t.ID, &t.ChargerID, &t.ConnectorID, &t.IDTag, &t.AuthStatus, tc(&t.StartedAt),
		&t.MeterStartWh, &t.RemoteStartID, &t.ChargingState, &t.SeqNo, &t.LastMeterWh,
		tc(&t.LastMeterAt), tc(&t.EnergyAt), tc(&t.StoppedAt), &t.MeterStopWh, &t.StopReason, &t.StopIDTag,
		tc(&t.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// StartTransaction records a new transaction and returns it as stored.
//
// When t.ID is empty (OCPP 1.6) the database assigns the next integer of one
// sequence shared by all chargers. A 1.6 start with the same charger,
// connector, idTag and start time (to the microsecond) as a stored one, or a
// 2.0.1 start with the same charger and id, returns the stored transaction
// unchanged. ENOTFOUND when the charger is not registered; EINVALID for a
// bad charger id, connector, id or a zero start time.
func (s *Store) StartTransaction(ctx context.Context, t *chargedesk.Transaction) (*chargedesk.Transaction, error) {
	if err := chargedesk.ValidateChargerID(t.ChargerID); err != nil {
		return nil, err
	}
	if t.ConnectorID < 0 {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "connector id %d is negative", t.ConnectorID)
	}
	if len(t.ID) > maxTransactionIDLen {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "transaction id is longer than %d characters", maxTransactionIDLen)
	}
	if t.StartedAt.IsZero() {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "transaction has no start time")
	}
	assigned := t.ID == ""
	var id any
	if !assigned {
		id = t.ID
	}
	var out *chargedesk.Transaction
	err := s.inWTx(ctx, func(tx wtx) error {
		// A duplicate hits one of the unique indexes and inserts nothing:
		// (charger_id, id) for 2.0.1, the partial start index for 1.6.
		var seq int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO transactions (id, assigned, charger_id,
			connector_id, id_tag, auth_status, started_at, meter_start_wh, remote_start_id,
			charging_state, seq_no, last_meter_wh, last_meter_at, energy_at, stopped_at, meter_stop_wh,
			stop_reason, stop_id_tag, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING RETURNING seq`),
			id, assigned, t.ChargerID, t.ConnectorID, t.IDTag, string(t.AuthStatus),
			s.ts(t.StartedAt), t.MeterStartWh, t.RemoteStartID, t.ChargingState, t.SeqNo,
			t.LastMeterWh, s.ts(t.LastMeterAt), s.ts(t.EnergyRoseAt()), s.ts(t.StoppedAt), t.MeterStopWh, t.StopReason,
			t.StopIDTag, s.ts(s.now())).Scan(&seq)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Stored before: return that row.
			var row *sql.Row
			if assigned {
				row = tx.QueryRowContext(ctx, s.q(`SELECT `+transactionCols+` FROM transactions
					WHERE charger_id = ? AND connector_id = ? AND id_tag = ? AND started_at = ? AND assigned AND stopped_at IS NULL`),
					t.ChargerID, t.ConnectorID, t.IDTag, s.ts(t.StartedAt))
			} else {
				row = tx.QueryRowContext(ctx, s.q(`SELECT `+transactionCols+` FROM transactions
					WHERE charger_id = ? AND id = ?`), t.ChargerID, t.ID)
			}
			out, err = scanTransaction(row)
			return err
		case err != nil:
			return err
		}
		if assigned {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE transactions SET id = ? WHERE seq = ?`),
				strconv.FormatInt(seq, 10), seq); err != nil {
				return err
			}
		}
		out, err = scanTransaction(tx.QueryRowContext(ctx, s.q(`SELECT `+transactionCols+`
			FROM transactions WHERE seq = ?`), seq))
		return err
	})
	if isForeignKey(err) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", t.ChargerID)
	}
	if isUnique(err) {
		return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "transaction id of charger %q is taken", t.ChargerID)
	}
	if err != nil {
		return nil, wrap("start transaction", err)
	}
	return out, nil
}

// UpdateTransaction writes the mutable fields of t: idTag and its verdict
// (a 2.0.1 transaction may be authorized after it starts), remoteStartId,
// meter, charging state, seqNo and the stop fields; UpdatedAt becomes now.
// ENOTFOUND.
func (s *Store) UpdateTransaction(ctx context.Context, t *chargedesk.Transaction) error {
	var n int64
	err := s.inWTx(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE transactions SET id_tag = ?, auth_status = ?,
			remote_start_id = ?, charging_state = ?, seq_no = ?, last_meter_wh = ?,
			last_meter_at = ?, energy_at = ?, stopped_at = ?, meter_stop_wh = ?, stop_reason = ?,
			stop_id_tag = ?, updated_at = ?
			WHERE charger_id = ? AND id = ?`),
			t.IDTag, string(t.AuthStatus), t.RemoteStartID, t.ChargingState, t.SeqNo, t.LastMeterWh,
			s.ts(t.LastMeterAt), s.ts(t.EnergyRoseAt()), s.ts(t.StoppedAt), t.MeterStopWh, t.StopReason, t.StopIDTag,
			s.ts(s.now()), t.ChargerID, t.ID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap("update transaction", err)
	}
	if n == 0 {
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q has no transaction %q", t.ChargerID, t.ID)
	}
	return nil
}

// Transaction returns one transaction. ENOTFOUND.
func (s *Store) Transaction(ctx context.Context, chargerID, id string) (*chargedesk.Transaction, error) {
	t, err := scanTransaction(s.read.QueryRowContext(ctx, s.q(`SELECT `+transactionCols+`
		FROM transactions WHERE charger_id = ? AND id = ?`), chargerID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q has no transaction %q", chargerID, id)
	}
	if err != nil {
		return nil, wrap("get transaction", err)
	}
	return t, nil
}

// Transactions lists transactions, newest start first, at most f.Limit
// (default 100, at most 1000). f.ChargerIDs is one IN list (EINVALID past
// chargedesk.MaxFilterChargerIDs).
func (s *Store) Transactions(ctx context.Context, f chargedesk.TransactionFilter) ([]*chargedesk.Transaction, error) {
	query := `SELECT ` + transactionCols + ` FROM transactions WHERE id IS NOT NULL`
	var args []any
	if f.ChargerID != "" {
		query += ` AND charger_id = ?`
		args = append(args, f.ChargerID)
	}
	if len(f.ChargerIDs) > chargedesk.MaxFilterChargerIDs {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "at most %d charger ids", chargedesk.MaxFilterChargerIDs)
	}
	if len(f.ChargerIDs) > 0 {
		query += ` AND charger_id IN (` + placeholders(len(f.ChargerIDs)) + `)`
		for _, id := range f.ChargerIDs {
			args = append(args, id)
		}
	}
	if f.IDTag != "" {
		query += ` AND id_tag = ?`
		args = append(args, f.IDTag)
	}
	if f.ActiveOnly {
		query += ` AND stopped_at IS NULL`
	}
	query += ` ORDER BY started_at DESC, seq DESC LIMIT ?`
	args = append(args, limit(f.Limit))
	rows, err := s.read.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("list transactions", err)
	}
	defer rows.Close()
	out := []*chargedesk.Transaction{}
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return nil, wrap("list transactions", err)
		}
		out = append(out, t)
	}
	return out, wrap("list transactions", rows.Err())
}

// AppendMeterValues stores samples in one transaction. An empty Measurand
// is stored as DefaultMeasurand and a zero time as now. A sample stored
// before (same charger, transaction, time, connector, measurand, phase,
// context and location: a charger sending a message again) is not stored
// twice. EINVALID for a
// sample without a charger id or with a negative connector.
func (s *Store) AppendMeterValues(ctx context.Context, samples []chargedesk.MeterSample) error {
	if len(samples) == 0 {
		return nil
	}
	for _, m := range samples {
		if m.ChargerID == "" {
			return chargedesk.Errorf(chargedesk.EINVALID, "meter sample has no charger id")
		}
		if m.ConnectorID < 0 {
			return chargedesk.Errorf(chargedesk.EINVALID, "meter sample connector id %d is negative", m.ConnectorID)
		}
	}
	now := s.now()
	insertMeterValue := s.q(`INSERT INTO meter_values (charger_id, connector_id,
		transaction_id, at, measurand, phase, context, location, unit, value)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	err := s.inWTx(ctx, func(tx wtx) error {
		for _, m := range samples {
			if m.Measurand == "" {
				m.Measurand = DefaultMeasurand
			}
			if m.At.IsZero() {
				m.At = now
			}
			if _, err := tx.ExecContext(ctx, insertMeterValue, m.ChargerID, m.ConnectorID, m.TransactionID,
				s.ts(m.At), m.Measurand, m.Phase, m.Context, m.Location, m.Unit, m.Value); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("append meter values", err)
}

// MeterValues returns a transaction's newest samples, at most limit (default
// 100, at most 1000), in time order.
func (s *Store) MeterValues(ctx context.Context, chargerID, transactionID string, n int) ([]chargedesk.MeterSample, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT charger_id, connector_id, transaction_id, at,
		measurand, phase, context, location, unit, value FROM meter_values
		WHERE charger_id = ? AND transaction_id = ? ORDER BY at DESC, seq DESC LIMIT ?`),
		chargerID, transactionID, limit(n))
	if err != nil {
		return nil, wrap("meter values", err)
	}
	defer rows.Close()
	out := []chargedesk.MeterSample{}
	for rows.Next() {
		var m chargedesk.MeterSample
		if err := rows.Scan(&m.ChargerID, &m.ConnectorID, &m.TransactionID, tc(&m.At), &m.Measurand,
			&m.Phase, &m.Context, &m.Location, &m.Unit, &m.Value); err != nil {
			return nil, wrap("meter values", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("meter values", err)
	}
	slices.Reverse(out)
	return out, nil
}
