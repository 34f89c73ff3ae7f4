package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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

// AppendAudit assigns Seq (the last entry's plus one, from 1), PrevHash (the
// last entry's Hash, "" for the first) and Hash, and stores the entry, all
// in one transaction. A zero At becomes now; At is kept in UTC to the
// microsecond, as the hash covers it. On PostgreSQL the transaction holds an
// exclusive lock on the audit table, so appends from several nodes queue
// instead of forking the chain; on SQLite write transactions are serialized
// by the database itself. EINVALID for a nil entry.
func (s *Store) AppendAudit(ctx context.Context, e *chargedesk.AuditEntry) error {
	if e == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "audit entry is nil")
	}
	entry := *e
	if entry.At.IsZero() {
		entry.At = s.now()
	}
	entry.At = micro(entry.At)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
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
		entry.Seq = last + 1
		entry.PrevHash = prev
		entry.Hash = entry.ComputeHash()
		var detail any
		if len(entry.Detail) > 0 {
			detail = string(entry.Detail)
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit (`+auditCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			entry.Seq, s.ts(entry.At), entry.Actor, entry.CommandID, entry.Kind, entry.ChargerID,
			entry.Stage, entry.Allowed, entry.Outcome, entry.Reason, detail, entry.PrevHash, entry.Hash)
		return err
	})
	if err != nil {
		return wrap("append audit", err)
	}
	*e = entry
	return nil
}

// AuditEntries lists entries in Seq order after f.AfterSeq, at most f.Limit
// (default 100, at most 1000); with f.Newest the newest of them first.
func (s *Store) AuditEntries(ctx context.Context, f chargedesk.AuditFilter) ([]*chargedesk.AuditEntry, error) {
	query := `SELECT ` + auditCols + ` FROM audit WHERE seq > ?`
	args := []any{f.AfterSeq}
	if f.ChargerID != "" {
		query += ` AND charger_id = ?`
		args = append(args, f.ChargerID)
	}
	if f.CommandID != "" {
		query += ` AND command_id = ?`
		args = append(args, f.CommandID)
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
			return chargedesk.Errorf(chargedesk.EINTERNAL, "audit chain broken at entry %d: expected entry %d", e.Seq, want)
		case e.PrevHash != prev:
			return chargedesk.Errorf(chargedesk.EINTERNAL, "audit chain broken at entry %d: previous hash does not match", e.Seq)
		case e.ComputeHash() != e.Hash:
			return chargedesk.Errorf(chargedesk.EINTERNAL, "audit chain broken at entry %d: hash does not match", e.Seq)
		}
		prev = e.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return wrap("verify audit", fmt.Errorf("read chain: %w", err))
	}
	return nil
}
