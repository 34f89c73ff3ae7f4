package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// eventChunk is how many events one INSERT statement carries.
const eventChunk = 100

// AppendEvents stores events in one transaction, sets each element's Seq
// (events is the caller's slice), and trims each charger it touched to its
// newest chargedesk.MaxRecentEvents. A zero At is stored as now. EINVALID
// for an event without a charger id.
func (s *Store) AppendEvents(ctx context.Context, events []chargedesk.Event) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].ChargerID == "" {
			return chargedesk.Errorf(chargedesk.EINVALID, "event has no charger id")
		}
	}
	now := s.now()
	touched := map[string]bool{}
	seqs := make([]int64, len(events))
	err := s.inWTx(ctx, func(tx wtx) error {
		for start := 0; start < len(events); start += eventChunk {
			chunk := events[start:min(start+eventChunk, len(events))]
			args := make([]any, 0, 7*len(chunk))
			for _, e := range chunk {
				at := e.At
				if at.IsZero() {
					at = now
				}
				var payload any
				if len(e.Payload) > 0 {
					payload = string(e.Payload)
				}
				args = append(args, e.ChargerID, s.ts(at), string(e.Direction), e.Type, e.MessageID, e.Action, payload)
				touched[e.ChargerID] = true
			}
			// One statement per chunk. Both databases number the rows of
			// a multi-row INSERT in VALUES order, so the sorted seqs map
			// onto the chunk in order.
			// Unprepared: the text varies with the chunk's length.
			rows, err := tx.Tx.QueryContext(ctx, s.q(`INSERT INTO events (charger_id, at, direction, type,
				message_id, action, payload) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(chunk)), ", ")+
				` RETURNING seq`), args...)
			if err != nil {
				return err
			}
			got := seqs[start:start] // appends fill seqs in place
			for rows.Next() {
				var seq int64
				if err := rows.Scan(&seq); err != nil {
					rows.Close()
					return err
				}
				got = append(got, seq)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(got) != len(chunk) {
				return fmt.Errorf("inserted %d events, got %d seqs", len(chunk), len(got))
			}
			slices.Sort(got)
		}
		// The cut is the seq of the charger's (Max+1)-th newest event, found
		// by walking the (charger_id, seq) index down from the newest; a
		// charger with fewer events has no cut and loses nothing. The
		// delete then walks the same index up to the cut. (In PostgreSQL
		// that walk also passes the index entries of rows deleted before,
		// until vacuum clears them; the migration makes autovacuum visit
		// this table often so they stay few.)
		trim := s.q(`DELETE FROM events WHERE charger_id = ? AND seq <= (
			SELECT seq FROM events WHERE charger_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`)
		for _, id := range slices.Sorted(maps.Keys(touched)) {
			if _, err := tx.ExecContext(ctx, trim, id, id, chargedesk.MaxRecentEvents); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap("append events", err)
	}
	for i := range events {
		events[i].Seq = seqs[i]
	}
	return nil
}

// RecentEvents returns a charger's newest events, newest first, at most
// limit (default 100, at most 1000).
func (s *Store) RecentEvents(ctx context.Context, chargerID string, n int) ([]chargedesk.Event, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT seq, charger_id, at, direction, type, message_id,
		action, payload FROM events WHERE charger_id = ? ORDER BY seq DESC LIMIT ?`), chargerID, limit(n))
	if err != nil {
		return nil, wrap("recent events", err)
	}
	defer rows.Close()
	out := []chargedesk.Event{}
	for rows.Next() {
		var e chargedesk.Event
		var payload sql.NullString
		if err := rows.Scan(&e.Seq, &e.ChargerID, tc(&e.At), &e.Direction, &e.Type, &e.MessageID,
			&e.Action, &payload); err != nil {
			return nil, wrap("recent events", err)
		}
		if payload.Valid && payload.String != "" {
			e.Payload = json.RawMessage(payload.String)
		}
		out = append(out, e)
	}
	return out, wrap("recent events", rows.Err())
}
