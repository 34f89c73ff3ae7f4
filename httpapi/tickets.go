package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/chargedesk/chargedesk"
)

// handleTicketList lists tickets, newest first.
func handleTicketList(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryInt(r, "limit", defaultListLimit, 1, maxListLimit)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		q := r.URL.Query()
		list, err := store.Tickets(r.Context(), chargedesk.TicketFilter{
			Status: chargedesk.TicketStatus(q.Get("status")), Category: q.Get("category"), ChargerID: q.Get("chargerId"), Limit: limit,
		})
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if list == nil {
			list = []*chargedesk.Ticket{}
		}
		encode(w, r, logger, http.StatusOK, map[string]any{"tickets": list})
	})
}

// handleTicketGet returns one ticket.
func handleTicketGet(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := store.Ticket(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, t)
	})
}

// ticketUpdate is the body of PATCH /api/v1/tickets/{id}: assign, close or
// reopen (open → assigned → closed).
type ticketUpdate struct {
	Status     *chargedesk.TicketStatus `json:"status"`
	Assignee   *string                  `json:"assignee"`
	Resolution *string                  `json:"resolution"`
}

// handleTicketUpdate moves a ticket along its statuses.
func handleTicketUpdate(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in ticketUpdate
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if in.Assignee != nil && len(*in.Assignee) > 100 || in.Resolution != nil && len(*in.Resolution) > 2000 {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "assignee or resolution is too long"))
			return
		}
		t, err := store.UpdateTicket(r.Context(), r.PathValue("id"), func(t *chargedesk.Ticket) error {
			if in.Assignee != nil {
				t.Assignee = *in.Assignee
			}
			if in.Resolution != nil {
				t.Resolution = *in.Resolution
			}
			if in.Status != nil {
				if !t.Status.CanMove(*in.Status) {
					return chargedesk.Errorf(chargedesk.ECONFLICT, "ticket %s cannot go from %s to %s", t.ID, t.Status, *in.Status)
				}
				t.Status = *in.Status
			}
			return nil
		})
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, t)
	})
}
