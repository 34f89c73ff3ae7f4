package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/textcut"
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

// PutUpstreamRoute stores an operator's route for one charger, replacing
// any, and sets r.UpdatedAt.
func (s *Store) PutUpstreamRoute(ctx context.Context, r *chargedesk.UpstreamRoute) error {
	if r == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "upstream route is nil")
	}
	if err := r.Validate(); err != nil {
		return err
	}
	r.UpdatedAt = micro(s.now())
	return wrap("put upstream route", s.inWTx(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO upstream_routes (charger_id, url, auth, username, password, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (charger_id) DO UPDATE SET url = excluded.url, auth = excluded.auth, username = excluded.username,
				password = excluded.password, updated_at = excluded.updated_at, updated_by = excluded.updated_by`),
			r.ChargerID, r.URL, string(r.Auth), r.Username, r.Password, s.ts(r.UpdatedAt), r.UpdatedBy)
		return err
	}))
}

const upstreamRouteCols = `charger_id, url, auth, username, password, updated_at, updated_by`

func scanUpstreamRoute(sc interface{ Scan(...any) error }) (chargedesk.UpstreamRoute, error) {
	var r chargedesk.UpstreamRoute
	var auth string
	err := sc.Scan(&r.ChargerID, &r.URL, &auth, &r.Username, &r.Password, tc(&r.UpdatedAt), &r.UpdatedBy)
	r.Auth = chargedesk.UpstreamAuth(auth)
	return r, err
}

// UpstreamRoute returns the route of a charger. ENOTFOUND.
func (s *Store) UpstreamRoute(ctx context.Context, chargerID string) (*chargedesk.UpstreamRoute, error) {
	r, err := scanUpstreamRoute(s.r.QueryRowContext(ctx, s.q(`SELECT `+upstreamRouteCols+` FROM upstream_routes WHERE charger_id = ?`), chargerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %s has no upstream route", chargerID)
	}
	if err != nil {
		return nil, wrap("upstream route", err)
	}
	return &r, nil
}

// UpstreamRoutesChanged returns the routes set at or after since, oldest
// change first.
func (s *Store) UpstreamRoutesChanged(ctx context.Context, since time.Time) ([]chargedesk.UpstreamRoute, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+upstreamRouteCols+` FROM upstream_routes WHERE updated_at >= ? ORDER BY updated_at LIMIT ?`),
		s.ts(since), MaxLimit)
	if err != nil {
		return nil, wrap("changed upstream routes", err)
	}
	defer rows.Close()
	var out []chargedesk.UpstreamRoute
	for rows.Next() {
		r, err := scanUpstreamRoute(rows)
		if err != nil {
			return nil, wrap("changed upstream routes", err)
		}
		out = append(out, r)
	}
	return out, wrap("changed upstream routes", rows.Err())
}

// RecordUpstreamLinks stores the latest state of many links in one
// transaction. A state older than the one stored (another node recorded the
// charger's newer link) is ignored.
func (s *Store) RecordUpstreamLinks(ctx context.Context, links []chargedesk.UpstreamLink) error {
	if len(links) == 0 {
		return nil
	}
	// Sorted, so that two nodes recording overlapping sets lock rows in the
	// same order.
	links = slices.Clone(links)
	slices.SortFunc(links, func(a, b chargedesk.UpstreamLink) int { return strings.Compare(a.ChargerID, b.ChargerID) })
	for _, l := range links {
		if err := chargedesk.ValidateChargerID(l.ChargerID); err != nil {
			return err
		}
	}
	q := s.q(`INSERT INTO upstream_links (charger_id, node, url, up, since, last_error, dial_failures, relayed, relay_mean_us, relay_max_us, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (charger_id) DO UPDATE SET node = excluded.node, url = excluded.url, up = excluded.up, since = excluded.since,
			last_error = excluded.last_error, dial_failures = excluded.dial_failures, relayed = excluded.relayed,
			relay_mean_us = excluded.relay_mean_us, relay_max_us = excluded.relay_max_us, updated_at = excluded.updated_at
		WHERE upstream_links.updated_at <= excluded.updated_at`)
	return wrap("record upstream links", s.inWTx(ctx, func(tx wtx) error {
		for _, l := range links {
			if l.UpdatedAt.IsZero() {
				l.UpdatedAt = s.now()
			}
			if _, err := tx.ExecContext(ctx, q, l.ChargerID, l.Node, textcut.Bytes(l.URL, chargedesk.MaxUpstreamURL), l.Up, s.ts(l.Since),
				textcut.Bytes(l.LastError, 512), l.DialFailures, l.Relayed, l.RelayMeanUS, l.RelayMaxUS, s.ts(l.UpdatedAt)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// UpstreamLink returns the last recorded state of a charger's link.
// ENOTFOUND.
func (s *Store) UpstreamLink(ctx context.Context, chargerID string) (*chargedesk.UpstreamLink, error) {
	var l chargedesk.UpstreamLink
	err := s.r.QueryRowContext(ctx, s.q(`SELECT charger_id, node, url, up, since, last_error, dial_failures, relayed, relay_mean_us, relay_max_us, updated_at
		FROM upstream_links WHERE charger_id = ?`), chargerID).Scan(&l.ChargerID, &l.Node, &l.URL, &l.Up, tc(&l.Since), &l.LastError,
		&l.DialFailures, &l.Relayed, &l.RelayMeanUS, &l.RelayMaxUS, tc(&l.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %s has no upstream link", chargerID)
	}
	if err != nil {
		return nil, wrap("upstream link", err)
	}
	return &l, nil
}
