package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/chargedesk/chargedesk"
)

// eventChunk is how many events one INSERT statement carries. Full chunks
// run one prepared statement; the rest of a batch goes in chunks of the
// powers of two below eventChunk, so that eight more texts, each prepared
// once, cover every batch size.
const eventChunk = 256

// trimEvery is how many of a charger's events this Store appends between
// two trims of its history: trimming walks the charger's kept events, and
// doing it for every charger at every flush (a thousand deletes a second at
// 10,000 chargers) held the single SQLite writer longer than the inserts.
// A charger thus holds up to about MaxRecentEvents + trimEvery events (a
// little more with several nodes appending for it), of which RecentEvents
// shows the newest MaxRecentEvents.
const trimEvery = 50

// maxTrimPending bounds the chargers whose appends since their last trim
// are counted; past it, a charger not counted yet is trimmed at once.
const maxTrimPending = 1 << 17

// trimCounts counts each charger's events appended since its last trim.
type trimCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// due returns, sorted, the chargers of counts to trim now.
func (t *trimCounts) due(counts map[string]int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for id, c := range counts {
		cur, ok := t.n[id]
		if cur+c >= trimEvery || (!ok && len(t.n) >= maxTrimPending) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// done records a committed append: the trimmed chargers start over, the
// others add their events.
func (t *trimCounts) done(counts map[string]int, trimmed []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = make(map[string]int)
	}
	for _, id := range trimmed {
		delete(t.n, id)
		delete(counts, id)
	}
	for id, c := range counts {
		if _, ok := t.n[id]; ok || len(t.n) < maxTrimPending {
			t.n[id] += c
		}
	}
}

// insertEventsQuery returns the INSERT of n events, n a power of two up to
// eventChunk.
func (s *Store) insertEventsQuery(n int) string {
	s.eventInsertsOnce.Do(func() {
		for k := range s.eventInserts {
			s.eventInserts[k] = s.q(`INSERT INTO events (charger_id, at, direction, type, message_id, action, payload) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", 1<<k), ", ") + ` RETURNING seq`)
		}
	})
	return s.eventInserts[bits.Len(uint(n))-1]
}

// AppendEvents stores events in one transaction, sets each element's Seq
// (events is the caller's slice), and trims the chargers that are due (see
// trimEvery) to their newest chargedesk.MaxRecentEvents. A zero At is
// stored as now. EINVALID for an event without a charger id.
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
	counts := map[string]int{}
	for i := range events {
		counts[events[i].ChargerID]++
	}
	trim := s.trims.due(counts)
	seqs := make([]int64, len(events))
	args := make([]any, 0, 7*min(len(events), eventChunk))
	err := s.inWTx(ctx, func(tx wtx) error {
		for start := 0; start < len(events); {
			n := eventChunk
			for n > len(events)-start {
				n /= 2
			}
			chunk := events[start : start+n]
			args = args[:0]
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
			}
			// Both databases number the rows of a multi-row INSERT in
			// VALUES order, so the sorted seqs map onto the chunk in order.
			rows, err := tx.QueryContextLong(ctx, s.insertEventsQuery(n), args...)
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
			start += n
		}
		// The cut is the seq of the charger's (Max+1)-th newest event, found
		// by walking the (charger_id, seq) index down from the newest; a
		// charger with fewer events has no cut and loses nothing. The
		// delete then walks the same index up to the cut. (In PostgreSQL
		// that walk also passes the index entries of rows deleted before,
		// until vacuum clears them; the migration makes autovacuum visit
		// this table often so they stay few.)
		q := s.q(`DELETE FROM events WHERE charger_id = ? AND seq <= (
			SELECT seq FROM events WHERE charger_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`)
		for _, id := range trim {
			if _, err := tx.ExecContext(ctx, q, id, id, chargedesk.MaxRecentEvents); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap("append events", err)
	}
	s.trims.done(counts, trim)
	for i := range events {
		events[i].Seq = seqs[i]
	}
	return nil
}

// RecentEvents returns a charger's newest events, newest first, at most
// limit (default 100) and at most chargedesk.MaxRecentEvents (the store may
// hold a few older ones until their next trim).
func (s *Store) RecentEvents(ctx context.Context, chargerID string, n int) ([]chargedesk.Event, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT seq, charger_id, at, direction, type, message_id,
		action, payload FROM events WHERE charger_id = ? ORDER BY seq DESC LIMIT ?`), chargerID, min(limit(n), chargedesk.MaxRecentEvents))
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
