package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chargedesk/chargedesk"
)

var _ chargedesk.UpstreamStore = (*Store)(nil)

// HoldUpstream stores a charger message for the upstream and sets m.Seq.
func (s *Store) HoldUpstream(ctx context.Context, m *chargedesk.HeldMessage) error {
	if m == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "held message is nil")
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if m.HeldAt.IsZero() {
		m.HeldAt = s.now()
	}
	m.HeldAt = micro(m.HeldAt)
	err := s.inWTx(ctx, func(tx wtx) error {
		return tx.QueryRowContext(ctx, s.q(`INSERT INTO upstream_held (charger_id, protocol, message_id, action, payload, held_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`),
			m.ChargerID, string(m.Protocol), m.MessageID, m.Action, string(m.Payload), s.ts(m.HeldAt)).Scan(&m.Seq)
	})
	if isDataError(err) {
		return chargedesk.Errorf(chargedesk.EINVALID, "held message cannot be stored")
	}
	return wrap("hold upstream message", err)
}

// HeldUpstream returns up to limit held messages of a charger, oldest first.
func (s *Store) HeldUpstream(ctx context.Context, chargerID string, n int) ([]chargedesk.HeldMessage, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT seq, charger_id, protocol, message_id, action, payload, held_at
		FROM upstream_held WHERE charger_id = ? ORDER BY seq LIMIT ?`), chargerID, limit(n))
	if err != nil {
		return nil, wrap("held upstream messages", err)
	}
	defer rows.Close()
	var out []chargedesk.HeldMessage
	for rows.Next() {
		var m chargedesk.HeldMessage
		var proto, payload string
		if err := rows.Scan(&m.Seq, &m.ChargerID, &proto, &m.MessageID, &m.Action, &payload, tc(&m.HeldAt)); err != nil {
			return nil, wrap("held upstream messages", err)
		}
		m.Protocol, m.Payload = chargedesk.Protocol(proto), []byte(payload)
		out = append(out, m)
	}
	return out, wrap("held upstream messages", rows.Err())
}

// CountHeldUpstream returns how many messages of a charger are held.
func (s *Store) CountHeldUpstream(ctx context.Context, chargerID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM upstream_held WHERE charger_id = ?`), chargerID).Scan(&n)
	return n, wrap("count held upstream messages", err)
}

// ReleaseUpstream deletes a held message once the upstream answered it.
func (s *Store) ReleaseUpstream(ctx context.Context, chargerID string, seq int64) error {
	return wrap("release upstream message", s.inWTx(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM upstream_held WHERE charger_id = ? AND seq = ?`), chargerID, seq)
		return err
	}))
}

// MapUpstreamTransaction records the upstream's id of a locally numbered
// transaction.
func (s *Store) MapUpstreamTransaction(ctx context.Context, chargerID, localID, upstreamID string) error {
	if err := chargedesk.ValidateChargerID(chargerID); err != nil {
		return err
	}
	if localID == "" || upstreamID == "" || len(localID) > maxTransactionIDLen || len(upstreamID) > maxTransactionIDLen {
		return chargedesk.Errorf(chargedesk.EINVALID, "transaction ids must have 1 to %d characters", maxTransactionIDLen)
	}
	return wrap("map upstream transaction", s.inWTx(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO upstream_transactions (charger_id, local_id, upstream_id) VALUES (?, ?, ?)
			ON CONFLICT (charger_id, local_id) DO UPDATE SET upstream_id = excluded.upstream_id`), chargerID, localID, upstreamID)
		return err
	}))
}

// UpstreamTransaction returns the upstream's id of a locally numbered
// transaction. ENOTFOUND.
func (s *Store) UpstreamTransaction(ctx context.Context, chargerID, localID string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT upstream_id FROM upstream_transactions WHERE charger_id = ? AND local_id = ?`), chargerID, localID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", chargedesk.Errorf(chargedesk.ENOTFOUND, "no upstream id for transaction %s of %s", localID, chargerID)
	}
	return id, wrap("upstream transaction", err)
}

// LocalTransaction returns the local id of a transaction the upstream knows
// as upstreamID: the latest numbered, should the upstream have reused an id.
// ENOTFOUND.
func (s *Store) LocalTransaction(ctx context.Context, chargerID, upstreamID string) (string, error) {
	// Local ids are numbers of ten digits: their text orders as they do.
	var id string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT local_id FROM upstream_transactions WHERE charger_id = ? AND upstream_id = ?
		ORDER BY length(local_id) DESC, local_id DESC LIMIT 1`), chargerID, upstreamID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", chargedesk.Errorf(chargedesk.ENOTFOUND, "no local id for upstream transaction %s of %s", upstreamID, chargerID)
	}
	return id, wrap("local transaction", err)
}
