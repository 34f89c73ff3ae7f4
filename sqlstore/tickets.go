package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/chargedesk/chargedesk"
)

const ticketCols = `id, category, charger_id, connector_id, driver_id, conversation_id, summary,
	diagnosis, evidence, transcript, status, assignee, resolution, created_at, updated_at`

func scanTicket(row scanner) (*chargedesk.Ticket, error) {
	var t chargedesk.Ticket
	err := row.Scan(&t.ID, &t.Category, &t.ChargerID, &t.ConnectorID, &t.DriverID, &t.ConversationID,
		&t.Summary, &t.Diagnosis, jc(&t.Evidence), &t.Transcript, &t.Status, &t.Assignee, &t.Resolution,
		tc(&t.CreatedAt), tc(&t.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// validateTicket runs Ticket.Validate, bounds the fields it leaves open,
// requires UTF-8 text and valid JSON evidence, and compacts the evidence in
// place. EINVALID.
func validateTicket(t *chargedesk.Ticket) error {
	if t == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "ticket is nil")
	}
	if err := t.Validate(); err != nil {
		return err
	}
	owner := "ticket " + t.ID
	if t.ConnectorID < 0 {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: connector id cannot be negative", owner)
	}
	if err := checkText(owner,
		textField{"id", t.ID, 64}, textField{"category", t.Category, 64}, textField{"charger id", t.ChargerID, 64},
		textField{"driver id", t.DriverID, 64}, textField{"conversation id", t.ConversationID, 64},
		textField{"summary", t.Summary, 500}, textField{"diagnosis", t.Diagnosis, 4000},
		textField{"transcript", t.Transcript, 64000}, textField{"assignee", t.Assignee, 200},
		textField{"resolution", t.Resolution, 4000}); err != nil {
		return err
	}
	ev, err := compactJSON(owner+": evidence", t.Evidence, 256<<10)
	if err != nil {
		return err
	}
	t.Evidence = ev
	return nil
}

// CreateTicket stores a new ticket after validating it (see
// validateTicket). UpdatedAt becomes now and a zero CreatedAt too; t is
// updated to match what was stored, Evidence compacted. EINVALID,
// ECONFLICT if the id exists.
func (s *Store) CreateTicket(ctx context.Context, t *chargedesk.Ticket) error {
	if t == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "ticket is nil")
	}
	tk := *t
	if err := validateTicket(&tk); err != nil {
		return err
	}
	now := micro(s.now())
	tk.CreatedAt, tk.UpdatedAt = micro(tk.CreatedAt), now
	if tk.CreatedAt.IsZero() {
		tk.CreatedAt = now
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO tickets (`+ticketCols+`, urgency)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			tk.ID, tk.Category, tk.ChargerID, tk.ConnectorID, tk.DriverID, tk.ConversationID, tk.Summary,
			tk.Diagnosis, jsonArg(tk.Evidence), tk.Transcript, string(tk.Status), tk.Assignee,
			tk.Resolution, s.ts(tk.CreatedAt), s.ts(tk.UpdatedAt), int(tk.Urgency()))
		return err
	})
	if isUnique(err) {
		return chargedesk.Errorf(chargedesk.ECONFLICT, "ticket %q exists", tk.ID)
	}
	if isDataError(err) {
		return chargedesk.Errorf(chargedesk.EINVALID, "ticket %s: a value cannot be stored", tk.ID)
	}
	if err != nil {
		return wrap("create ticket", err)
	}
	*t = tk
	return nil
}

// Ticket returns one ticket. ENOTFOUND.
func (s *Store) Ticket(ctx context.Context, id string) (*chargedesk.Ticket, error) {
	t, err := s.ticket(ctx, s.r, id, "")
	return t, wrap("get ticket", err)
}

func (s *Store) ticket(ctx context.Context, q querier, id, suffix string) (*chargedesk.Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, s.q(`SELECT `+ticketCols+` FROM tickets WHERE id = ?`+suffix), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "ticket %q is not known", id)
	}
	return t, err
}

// UpdateTicket reads the ticket, applies fn and writes it back after
// validating it, in one transaction. CreatedAt keeps the stored value and
// UpdatedAt becomes now. fn runs while the write transaction is open and
// must not call the store. A status change must be one
// chargedesk.TicketStatus.CanMove allows; keeping the status is always
// allowed. ENOTFOUND; EINVALID when fn changes the id or leaves the ticket
// invalid; ECONFLICT for a status change CanMove forbids (the change is
// well-formed, the ticket's state is what forbids it); fn's own error is
// returned as it is.
func (s *Store) UpdateTicket(ctx context.Context, id string, fn func(*chargedesk.Ticket) error) (*chargedesk.Ticket, error) {
	var t *chargedesk.Ticket
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = s.ticket(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		created, from := t.CreatedAt, t.Status
		if err := fn(t); err != nil {
			return err
		}
		if t.ID != id {
			return chargedesk.Errorf(chargedesk.EINVALID, "the ticket id cannot change")
		}
		if err := validateTicket(t); err != nil {
			return err
		}
		if t.Status != from && !from.CanMove(t.Status) {
			return chargedesk.Errorf(chargedesk.ECONFLICT, "ticket %s cannot move from %s to %s", id, from, t.Status)
		}
		t.CreatedAt, t.UpdatedAt = created, micro(s.now())
		_, err = tx.ExecContext(ctx, s.q(`UPDATE tickets SET category = ?, charger_id = ?,
			connector_id = ?, driver_id = ?, conversation_id = ?, summary = ?, diagnosis = ?,
			evidence = ?, transcript = ?, status = ?, assignee = ?, resolution = ?, updated_at = ?,
			urgency = ? WHERE id = ?`),
			t.Category, t.ChargerID, t.ConnectorID, t.DriverID, t.ConversationID, t.Summary,
			t.Diagnosis, jsonArg(t.Evidence), t.Transcript, string(t.Status), t.Assignee,
			t.Resolution, s.ts(t.UpdatedAt), int(t.Urgency()), id)
		return err
	})
	if isDataError(err) {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "ticket %s: a value cannot be stored", id)
	}
	if err != nil {
		return nil, wrap("update ticket", err)
	}
	return t, nil
}

// Tickets lists tickets with f.Status, f.Statuses, f.Category and
// f.ChargerID when set: newest first (by CreatedAt, then id descending), or
// with f.Order TicketsByUrgency most urgent first (the urgency the store
// wrote from Ticket.Urgency), oldest first within a level; f.Offset of them
// skipped, at most f.Limit (default 100, at most 1000). EINVALID for an
// unknown order, more than 3 Statuses or an unknown one, or an offset out
// of range.
func (s *Store) Tickets(ctx context.Context, f chargedesk.TicketFilter) ([]*chargedesk.Ticket, error) {
	query := `SELECT ` + ticketCols + ` FROM tickets WHERE 1 = 1`
	var args []any
	if f.Status != "" {
		query += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if len(f.Statuses) > 0 {
		if len(f.Statuses) > 3 {
			return nil, chargedesk.Errorf(chargedesk.EINVALID, "at most 3 ticket statuses")
		}
		query += ` AND status IN (?` + strings.Repeat(`, ?`, len(f.Statuses)-1) + `)`
		for _, st := range f.Statuses {
			switch st {
			case chargedesk.TicketOpen, chargedesk.TicketAssigned, chargedesk.TicketClosed:
			default:
				return nil, chargedesk.Errorf(chargedesk.EINVALID, "ticket status %q is not open, assigned or closed", st)
			}
			args = append(args, string(st))
		}
	}
	if f.Category != "" {
		query += ` AND category = ?`
		args = append(args, f.Category)
	}
	if f.ChargerID != "" {
		query += ` AND charger_id = ?`
		args = append(args, f.ChargerID)
	}
	switch f.Order {
	case chargedesk.TicketsNewest:
		query += ` ORDER BY created_at DESC, id DESC`
	case chargedesk.TicketsByUrgency:
		query += ` ORDER BY urgency, created_at, id`
	default:
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "unknown ticket order %q", f.Order)
	}
	if f.Offset < 0 || f.Offset > chargedesk.MaxTicketOffset {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "a ticket offset is 0 to %d", chargedesk.MaxTicketOffset)
	}
	query += ` LIMIT ? OFFSET ?`
	args = append(args, limit(f.Limit), f.Offset)
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("list tickets", err)
	}
	defer rows.Close()
	out := []*chargedesk.Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, wrap("list tickets", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tickets", rows.Err())
}
