package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chargedesk/chargedesk"
)

var _ chargedesk.ReportStore = (*Store)(nil)

func checkPeriod(from, to time.Time) error {
	if !from.Before(to) {
		return chargedesk.Errorf(chargedesk.EINVALID, "a period must end after it starts")
	}
	return nil
}

// PortHistory streams the port history of [from, to): the state of every
// connector and charger connection at from, then the period's rows in
// order (see chargedesk.ReportStore). It runs in one read transaction, so
// the state at from and the rows after it agree. The state at from is one
// indexed look-up per connector and charger; the period's rows are one
// range scan of a time index, with no sort — for availabilityOnly, of the
// partial index of the rows marked as changing availability when written,
// a few per port a month where the whole history holds hundreds.
func (s *Store) PortHistory(ctx context.Context, from, to time.Time, availabilityOnly bool, fn func(chargedesk.PortEvent) error) error {
	if err := checkPeriod(from, to); err != nil {
		return err
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrap("port history", err)
	}
	defer tx.Rollback()
	var in interner
	// The state at from: each key's latest row before it.
	// (Two look-ups of the port index, which holds at and status, rather
	// than one for the seq and a read of the row.)
	rows, err := tx.QueryContext(ctx, s.q(`SELECT k.charger_id, k.connector_id, k.registered_at,
			(SELECT h.at FROM port_history h WHERE h.charger_id = k.charger_id AND h.connector_id = k.connector_id
				AND h.at < ? ORDER BY h.at DESC, h.seq DESC LIMIT 1),
			(SELECT h.status FROM port_history h WHERE h.charger_id = k.charger_id AND h.connector_id = k.connector_id
				AND h.at < ? ORDER BY h.at DESC, h.seq DESC LIMIT 1)
		FROM (SELECT c.charger_id, c.id AS connector_id, ch.registered_at FROM connectors c
				JOIN chargers ch ON ch.id = c.charger_id
			UNION ALL SELECT id, -1, registered_at FROM chargers) k`), s.ts(from), s.ts(from))
	if err != nil {
		return wrap("port history", err)
	}
	if err := scanPortState(rows, &in, to, fn); err != nil {
		return wrap("port history", err)
	}
	where := ""
	if availabilityOnly {
		where = "avail_change AND "
	}
	rows, err = tx.QueryContext(ctx, s.q(`SELECT charger_id, connector_id, at, status FROM port_history
		WHERE `+where+`at >= ? AND at < ? ORDER BY at, seq`), s.ts(from), s.ts(to))
	if err != nil {
		return wrap("port history", err)
	}
	return wrap("port history", scanPortEvents(rows, &in, fn))
}

// scanPortState passes the state at the start — rows of (charger_id,
// connector_id, registered_at, at, status), at and status NULL when the key
// has no earlier row — to fn and closes them. A connector with no row, of
// a charger registered before to, comes with an empty status; other keys
// with no row are left out.
func scanPortState(rows *sql.Rows, in *interner, to time.Time, fn func(chargedesk.PortEvent) error) error {
	defer rows.Close()
	var charger sql.RawBytes
	var status sql.NullString
	var connector int
	var registered, at time.Time
	for rows.Next() {
		if err := rows.Scan(&charger, &connector, tc(&registered), tc(&at), &status); err != nil {
			return err
		}
		if !status.Valid && (connector < 1 || !registered.Before(to)) {
			continue
		}
		ev := chargedesk.PortEvent{ChargerID: in.charger(charger), ConnectorID: connector, At: at,
			Status: in.status([]byte(status.String))}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// scanPortEvents passes rows of (charger_id, connector_id, at, status) to
// fn and closes them.
func scanPortEvents(rows *sql.Rows, in *interner, fn func(chargedesk.PortEvent) error) error {
	defer rows.Close()
	var charger, status sql.RawBytes
	var connector int
	var at time.Time
	for rows.Next() {
		if err := rows.Scan(&charger, &connector, tc(&at), &status); err != nil {
			return err
		}
		ev := chargedesk.PortEvent{ChargerID: in.charger(charger), ConnectorID: connector, At: at, Status: in.status(status)}
		if err := fn(ev); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// interner hands out one string per distinct charger id and status, so
// that a month of rows allocates one per charger, not one per row.
type interner struct {
	chargers map[string]string
	statuses map[string]chargedesk.ConnectorStatus
}

func (in *interner) charger(b []byte) string {
	if s, ok := in.chargers[string(b)]; ok {
		return s
	}
	if in.chargers == nil {
		in.chargers = map[string]string{}
	}
	s := string(b)
	in.chargers[s] = s
	return s
}

func (in *interner) status(b []byte) chargedesk.ConnectorStatus {
	if s, ok := in.statuses[string(b)]; ok {
		return s
	}
	if in.statuses == nil {
		in.statuses = map[string]chargedesk.ConnectorStatus{}
	}
	s := chargedesk.ConnectorStatus(b)
	in.statuses[string(s)] = s
	return s
}

const exclusionCols = `id, charger_id, connector_id, starts_at, ends_at, cause, note, created_by, created_at`

func scanExclusion(row scanner) (chargedesk.UptimeExclusion, error) {
	var e chargedesk.UptimeExclusion
	err := row.Scan(&e.ID, &e.ChargerID, &e.ConnectorID, tc(&e.From), tc(&e.To), &e.Cause, &e.Note,
		&e.CreatedBy, tc(&e.CreatedAt))
	return e, err
}

// AddUptimeExclusion validates and stores an exclusion, setting its ID
// and CreatedAt (now); its times are kept to the microsecond, in UTC.
// EINVALID; ENOTFOUND for an unregistered charger.
func (s *Store) AddUptimeExclusion(ctx context.Context, e *chargedesk.UptimeExclusion) error {
	if e == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "exclusion is nil")
	}
	x := *e
	x.From, x.To, x.CreatedAt = micro(x.From), micro(x.To), micro(s.now())
	if err := x.Validate(); err != nil {
		return err
	}
	err := s.inWTx(ctx, func(tx wtx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM chargers WHERE id = ?`), x.ChargerID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", x.ChargerID)
		}
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`INSERT INTO uptime_exclusions
			(charger_id, connector_id, starts_at, ends_at, cause, note, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			x.ChargerID, x.ConnectorID, s.ts(x.From), s.ts(x.To), string(x.Cause), x.Note, x.CreatedBy,
			s.ts(x.CreatedAt)).Scan(&x.ID)
	})
	if isDataError(err) {
		return chargedesk.Errorf(chargedesk.EINVALID, "the exclusion cannot be stored")
	}
	if err != nil {
		return wrap("add uptime exclusion", err)
	}
	*e = x
	return nil
}

// DeleteUptimeExclusion removes an exclusion and returns it. ENOTFOUND.
func (s *Store) DeleteUptimeExclusion(ctx context.Context, id int64) (*chargedesk.UptimeExclusion, error) {
	var e chargedesk.UptimeExclusion
	err := s.inWTx(ctx, func(tx wtx) error {
		var err error
		e, err = scanExclusion(tx.QueryRowContext(ctx, s.q(`SELECT `+exclusionCols+` FROM uptime_exclusions
			WHERE id = ?`+s.forUpdate()), id))
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "there is no exclusion %d", id)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM uptime_exclusions WHERE id = ?`), id)
		return err
	})
	if err != nil {
		return nil, wrap("delete uptime exclusion", err)
	}
	return &e, nil
}

// UptimeExclusions lists the exclusions that overlap [from, to), by start
// then id.
func (s *Store) UptimeExclusions(ctx context.Context, from, to time.Time) ([]chargedesk.UptimeExclusion, error) {
	if err := checkPeriod(from, to); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+exclusionCols+` FROM uptime_exclusions
		WHERE starts_at < ? AND ends_at > ? ORDER BY starts_at, id`), s.ts(to), s.ts(from))
	if err != nil {
		return nil, wrap("list uptime exclusions", err)
	}
	defer rows.Close()
	out := []chargedesk.UptimeExclusion{}
	for rows.Next() {
		e, err := scanExclusion(rows)
		if err != nil {
			return nil, wrap("list uptime exclusions", err)
		}
		out = append(out, e)
	}
	return out, wrap("list uptime exclusions", rows.Err())
}

// SupportConversations streams the conversations created in [from, to),
// oldest first, with their driver's first message and whether a person
// took part: a takeover in the audit log, an operator's turn, or a driver
// verified by an operator.
func (s *Store) SupportConversations(ctx context.Context, from, to time.Time, fn func(chargedesk.SupportConversation) error) error {
	if err := checkPeriod(from, to); err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT c.id, c.channel, c.language, c.category, c.status,
			c.ticket_id <> '', c.created_at, c.resolved_at,
			(SELECT MIN(t.at) FROM turns t WHERE t.conversation_id = c.id AND t.role = ?),
			c.verified = ?
				OR EXISTS (SELECT 1 FROM turns t WHERE t.conversation_id = c.id AND t.role = ?)
				OR c.operator <> ''
				OR EXISTS (SELECT 1 FROM audit a WHERE a.command_id = c.id AND a.kind = ? AND a.outcome <> 'refused')
		FROM conversations c WHERE c.created_at >= ? AND c.created_at < ?
		ORDER BY c.created_at, c.id`),
		chargedesk.RoleDriver, string(chargedesk.VerifiedOperator), chargedesk.RoleOperatorTurn, chargedesk.TakeoverAuditKind,
		s.ts(from), s.ts(to))
	if err != nil {
		return wrap("support conversations", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c chargedesk.SupportConversation
		if err := rows.Scan(&c.ID, &c.Channel, &c.Language, &c.Category, &c.Status, &c.Ticket, tc(&c.CreatedAt),
			tc(&c.ResolvedAt), tc(&c.FirstDriverAt), &c.TakenOver); err != nil {
			return wrap("support conversations", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return wrap("support conversations", rows.Err())
}
