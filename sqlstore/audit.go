package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
)

const auditCols = `seq, at, actor, command_id, kind, charger_id, stage, allowed, outcome, reason,
	detail, prev_hash, hash`

func scanAudit(row scanner) (*chargedesk.AuditEntry, error) {
	var e chargedesk.AuditEntry
	var detail sql.NullString
	err := row.Scan(&e.Seq, tc(&e.At), &e.Actor, &e.CommandID, &e.Kind, &e.ChargerID, &e.Stage,
		&e.Allowed, &e.Outcome, &e.Reason, &detail, &e.PrevHash, &e.Hash)
	if err != nil {
		return nil, err
	}
	if detail.Valid && detail.String != "" {
		e.Detail = json.RawMessage(detail.String)
	}
	return &e, nil
}

// maxAuditGroup bounds the audit entries written in one transaction.
const maxAuditGroup = 64

// auditGroupTimeout bounds one group's transaction.
const auditGroupTimeout = 30 * time.Second

// auditWriter group-commits audit entries: the entries appended while a
// transaction is under way (or waiting for the writer, which SQLite has one
// of) are chained and stored together by the next one, with one commit and
// one fsync for all; each caller still returns only once its own entry is
// committed. A lone entry goes at once, with no waiting window. A goroutine
// runs only while entries wait.
type auditWriter struct {
	mu      sync.Mutex
	queue   []*auditAppend
	running bool
}

type auditAppend struct {
	ctx   context.Context
	entry chargedesk.AuditEntry
	done  chan error // buffered, 1
}

// AppendAudit assigns Seq (the last entry's plus one, from 1), PrevHash (the
// last entry's Hash, "" for the first) and Hash, and stores the entry; it
// returns once the entry is committed. Entries appended at the same time
// may share one transaction (see auditWriter), chained in the order they
// came. A zero At becomes now; At is kept in UTC to the microsecond, as the
// hash covers it. On PostgreSQL each transaction holds an exclusive lock on
// the audit table, so appends from several nodes queue instead of forking
// the chain; on SQLite write transactions are serialized by the database
// itself. EINVALID for a nil entry; ctx's error when it ends before the
// entry's transaction begins (nothing is written then).
func (s *Store) AppendAudit(ctx context.Context, e *chargedesk.AuditEntry) error {
	if e == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "audit entry is nil")
	}
	if err := ctx.Err(); err != nil {
		return wrap("append audit", err)
	}
	a := &auditAppend{ctx: ctx, entry: *e, done: make(chan error, 1)}
	if a.entry.At.IsZero() {
		a.entry.At = s.now()
	}
	a.entry.At = micro(a.entry.At)
	w := &s.audit
	w.mu.Lock()
	w.queue = append(w.queue, a)
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go s.writeAudit()
	}
	if err := <-a.done; err != nil {
		return wrap("append audit", err)
	}
	*e = a.entry
	return nil
}

// writeAudit commits groups of entries until none waits.
func (s *Store) writeAudit() {
	w := &s.audit
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.running = false
			w.queue = nil
			w.mu.Unlock()
			return
		}
		n := min(len(w.queue), maxAuditGroup)
		group := make([]*auditAppend, 0, n)
		for _, a := range w.queue[:n] {
			// An entry whose caller has gone away is not written.
			if err := a.ctx.Err(); err != nil {
				a.done <- err
				continue
			}
			group = append(group, a)
		}
		rest := copy(w.queue, w.queue[n:])
		clear(w.queue[rest:])
		w.queue = w.queue[:rest]
		w.mu.Unlock()
		if len(group) == 0 {
			continue
		}
		refused, err := s.appendAuditGroup(group)
		if refused && len(group) > 1 {
			// An INSERT failed, so nothing was written: each entry is
			// tried alone, so that an entry the database refuses fails
			// alone. (Other failures are not retried: a failed commit
			// may have been written after all.)
			for _, a := range group {
				_, err := s.appendAuditGroup([]*auditAppend{a})
				a.done <- err
			}
			continue
		}
		for _, a := range group {
			a.done <- err
		}
	}
}

// appendAuditGroup chains and stores group's entries in one transaction,
// setting their Seq, PrevHash and Hash when it commits. refused reports
// that the error came from an entry's INSERT (so nothing was written).
func (s *Store) appendAuditGroup(group []*auditAppend) (refused bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), auditGroupTimeout)
	defer cancel()
	entries := make([]chargedesk.AuditEntry, len(group))
	for i, a := range group {
		entries[i] = a.entry
	}
	err = s.inWTx(ctx, func(tx wtx) error {
		if s.pg {
			// EXCLUSIVE conflicts with itself and with writers but lets
			// readers (AuditEntries, VerifyAudit) through.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE audit IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var last int64
		var prev string
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		insert := s.q(`INSERT INTO audit (` + auditCols + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		for i := range entries {
			e := &entries[i]
			e.Seq = last + 1
			e.PrevHash = prev
			e.Hash = e.ComputeHash()
			var detail any
			if len(e.Detail) > 0 {
				detail = string(e.Detail)
			}
			if _, err := tx.ExecContext(ctx, insert, e.Seq, s.ts(e.At), e.Actor, e.CommandID, e.Kind, e.ChargerID,
				e.Stage, e.Allowed, e.Outcome, e.Reason, detail, e.PrevHash, e.Hash); err != nil {
				refused = true
				return err
			}
			last, prev = e.Seq, e.Hash
		}
		return nil
	})
	if err != nil {
		return refused, err
	}
	for i, a := range group {
		a.entry = entries[i]
	}
	return false, nil
}

// AuditEntries lists entries in Seq order (f.Newest: newest first) between
// f.AfterSeq and f.BeforeSeq, with f.ChargerID, f.CommandID, f.Kind, an
// actor starting with f.ActorPrefix and At in [f.Since, f.Until) when set,
// at most f.Limit (default 100, at most 1000). EINVALID for a filter out of
// bounds.
func (s *Store) AuditEntries(ctx context.Context, f chargedesk.AuditFilter) ([]*chargedesk.AuditEntry, error) {
	if len(f.ChargerID) > 200 || len(f.CommandID) > 200 || len(f.Kind) > 200 || len(f.ActorPrefix) > 200 ||
		!utf8.ValidString(f.ActorPrefix) || f.AfterSeq < 0 || f.BeforeSeq < 0 {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "audit filter out of bounds")
	}
	query := `SELECT ` + auditCols + ` FROM audit WHERE seq > ?`
	args := []any{f.AfterSeq}
	if f.BeforeSeq > 0 {
		query += ` AND seq < ?`
		args = append(args, f.BeforeSeq)
	}
	if f.ChargerID != "" {
		query += ` AND charger_id = ?`
		args = append(args, f.ChargerID)
	}
	if f.CommandID != "" {
		query += ` AND command_id = ?`
		args = append(args, f.CommandID)
	}
	if f.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.ActorPrefix != "" {
		// substr, not LIKE: exact and case-sensitive on both engines, with
		// no wildcard to escape. Both count characters.
		query += ` AND substr(actor, 1, ?) = ?`
		args = append(args, utf8.RuneCountInString(f.ActorPrefix), f.ActorPrefix)
	}
	if !f.Since.IsZero() {
		query += ` AND at >= ?`
		args = append(args, s.ts(micro(f.Since)))
	}
	if !f.Until.IsZero() {
		query += ` AND at < ?`
		args = append(args, s.ts(micro(f.Until)))
	}
	if f.Newest {
		query += ` ORDER BY seq DESC LIMIT ?`
	} else {
		query += ` ORDER BY seq LIMIT ?`
	}
	args = append(args, limit(f.Limit))
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("list audit entries", err)
	}
	defer rows.Close()
	out := []*chargedesk.AuditEntry{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, wrap("list audit entries", err)
		}
		out = append(out, e)
	}
	return out, wrap("list audit entries", rows.Err())
}

// VerifyAudit walks the whole chain in one consistent read and returns an
// EINTERNAL error naming the first entry whose sequence number, link to the
// previous entry or hash does not match. It detects any edited, inserted or
// removed entry except the removal of the newest ones.
func (s *Store) VerifyAudit(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `SELECT `+auditCols+` FROM audit ORDER BY seq`)
	if err != nil {
		return wrap("verify audit", err)
	}
	defer rows.Close()
	var want int64 = 1
	prev := ""
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return wrap("verify audit", err)
		}
		switch {
		case e.Seq != want:
			return chargedesk.AuditChainBroken(e.Seq, fmt.Sprintf("expected entry %d", want))
		case e.PrevHash != prev:
			return chargedesk.AuditChainBroken(e.Seq, "previous hash does not match")
		case e.ComputeHash() != e.Hash:
			return chargedesk.AuditChainBroken(e.Seq, "hash does not match")
		}
		prev = e.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return wrap("verify audit", fmt.Errorf("read chain: %w", err))
	}
	return nil
}
