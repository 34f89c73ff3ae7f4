package sqlstore

import (
	"context"
	"database/sql"

	"github.com/chargedesk/chargedesk"
)

var _ chargedesk.TicketCommentStore = (*Store)(nil)

// AddTicketComment stores an operator's comment on an existing ticket
// after validating it; ID and At (now when zero, kept to the microsecond
// in UTC) are written back. ENOTFOUND for an unknown ticket, EINVALID.
func (s *Store) AddTicketComment(ctx context.Context, c *chargedesk.TicketComment) error {
	if c == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "comment is nil")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	cm := *c
	if cm.At.IsZero() {
		cm.At = s.now()
	}
	cm.At = micro(cm.At)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM tickets WHERE id = ?`), cm.TicketID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "ticket %q is not known", cm.TicketID)
		}
		return tx.QueryRowContext(ctx, s.q(`INSERT INTO ticket_comments (ticket_id, author, body, at)
			VALUES (?, ?, ?, ?) RETURNING id`), cm.TicketID, cm.Author, cm.Body, s.ts(cm.At)).Scan(&cm.ID)
	})
	if isDataError(err) {
		return chargedesk.Errorf(chargedesk.EINVALID, "comment on ticket %s: a value cannot be stored", cm.TicketID)
	}
	if err != nil {
		return wrap("add ticket comment", err)
	}
	*c = cm
	return nil
}

// TicketComments lists a ticket's comments oldest first, at most n
// (default 100, at most 1000). An unknown ticket has none.
func (s *Store) TicketComments(ctx context.Context, ticketID string, n int) ([]*chargedesk.TicketComment, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, ticket_id, author, body, at FROM ticket_comments
		WHERE ticket_id = ? ORDER BY id LIMIT ?`), ticketID, limit(n))
	if err != nil {
		return nil, wrap("list ticket comments", err)
	}
	defer rows.Close()
	out := []*chargedesk.TicketComment{}
	for rows.Next() {
		var c chargedesk.TicketComment
		if err := rows.Scan(&c.ID, &c.TicketID, &c.Author, &c.Body, tc(&c.At)); err != nil {
			return nil, wrap("list ticket comments", err)
		}
		out = append(out, &c)
	}
	return out, wrap("list ticket comments", rows.Err())
}
