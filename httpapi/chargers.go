package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/chargedesk/chargedesk"
)

// Listing bounds.
const (
	defaultListLimit   = 100
	maxListLimit       = 1000
	defaultEventsLimit = 50
)

// chargerList is the body of GET /api/v1/chargers.
type chargerList struct {
	Chargers []*chargedesk.Charger `json:"chargers"`
	// Next is the "after" value for the next page; empty on the last page.
	Next string `json:"next,omitempty"`
}

// handleChargerList lists chargers in id order, with their connectors.
func handleChargerList(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := chargerFilter(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		chargers, err := store.Chargers(r.Context(), f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		out := chargerList{Chargers: chargers}
		if out.Chargers == nil {
			out.Chargers = []*chargedesk.Charger{}
		}
		if len(chargers) == f.Limit && len(chargers) > 0 {
			out.Next = chargers[len(chargers)-1].ID
		}
		encode(w, r, logger, http.StatusOK, out)
	})
}

func chargerFilter(r *http.Request) (chargedesk.ChargerFilter, error) {
	var f chargedesk.ChargerFilter
	var err error
	if f.Connected, err = queryBool(r, "connected"); err != nil {
		return f, err
	}
	if f.Limit, err = queryInt(r, "limit", defaultListLimit, 1, maxListLimit); err != nil {
		return f, err
	}
	if f.AfterID = r.URL.Query().Get("after"); f.AfterID != "" {
		if err := chargedesk.ValidateChargerID(f.AfterID); err != nil {
			return f, err
		}
	}
	return f, nil
}

// chargerDetail is the body of GET /api/v1/chargers/{id}: the charger's own
// fields plus its active transactions and recent events.
type chargerDetail struct {
	*chargedesk.Charger
	ActiveTransactions []*chargedesk.Transaction `json:"activeTransactions"`
	RecentEvents       []chargedesk.Event        `json:"recentEvents"`
}

// handleChargerGet returns one charger with its connectors, its active
// transactions and its newest events (?events=N, default 50, at most
// chargedesk.MaxRecentEvents, 0 for none).
func handleChargerGet(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := chargedesk.ValidateChargerID(id); err != nil {
			writeError(w, r, logger, err)
			return
		}
		nEvents, err := queryInt(r, "events", defaultEventsLimit, 0, chargedesk.MaxRecentEvents)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		ctx := r.Context()
		c, err := store.Charger(ctx, id)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		txs, err := store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: id, ActiveOnly: true})
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		events := []chargedesk.Event{}
		if nEvents > 0 {
			if events, err = store.RecentEvents(ctx, id, nEvents); err != nil {
				writeError(w, r, logger, err)
				return
			}
		}
		out := chargerDetail{Charger: c, ActiveTransactions: txs, RecentEvents: events}
		if out.ActiveTransactions == nil {
			out.ActiveTransactions = []*chargedesk.Transaction{}
		}
		if out.RecentEvents == nil {
			out.RecentEvents = []chargedesk.Event{}
		}
		encode(w, r, logger, http.StatusOK, out)
	})
}

// chargerRegistration is the body of POST /api/v1/chargers.
type chargerRegistration struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	// Password is the charger's Basic auth password in clear; it is stored
	// hashed. Leaving it out registers a charger without a password, which
	// can connect only with a client certificate for its id (security
	// profile 3), or with nothing when the server allows unauthenticated
	// chargers (profile 0).
	Password   *string                       `json:"password"`
	BootStatus chargedesk.RegistrationStatus `json:"bootStatus"`
}

// handleChargerRegister registers a charger and answers 201 with it.
func handleChargerRegister(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in chargerRegistration
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		reg := chargedesk.ChargerRegistration{ID: in.ID, Description: in.Description, BootStatus: in.BootStatus}
		if reg.BootStatus == "" {
			reg.BootStatus = chargedesk.RegistrationAccepted
		}
		if err := reg.Validate(); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if in.Password != nil {
			if err := chargedesk.ValidatePassword(*in.Password); err != nil {
				writeError(w, r, logger, err)
				return
			}
			reg.PasswordHash = chargedesk.HashPassword(*in.Password)
		}
		c, err := store.RegisterCharger(r.Context(), reg)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		w.Header().Set("Location", "/api/v1/chargers/"+url.PathEscape(c.ID))
		encode(w, r, logger, http.StatusCreated, c)
	})
}

// chargerUpdate is the body of PATCH /api/v1/chargers/{id}: the fields given
// change, the others stay.
type chargerUpdate struct {
	Description *string                        `json:"description"`
	Password    *string                        `json:"password"`
	BootStatus  *chargedesk.RegistrationStatus `json:"bootStatus"`
}

// handleChargerUpdate changes a charger's registration: its description, its
// password (rotation) or the boot status it gets at its next boot (accepting
// an auto-registered, Pending charger; Rejected disables it, refusing its
// next connections). It answers 200 with the charger.
func handleChargerUpdate(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var in chargerUpdate
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		var hash string
		if in.Password != nil {
			if err := chargedesk.ValidatePassword(*in.Password); err != nil {
				writeError(w, r, logger, err)
				return
			}
			hash = chargedesk.HashPassword(*in.Password)
		}
		err := store.UpdateRegistration(r.Context(), id, func(reg *chargedesk.ChargerRegistration) error {
			if in.Description != nil {
				reg.Description = *in.Description
			}
			if in.Password != nil {
				reg.PasswordHash = hash
			}
			if in.BootStatus != nil {
				reg.BootStatus = *in.BootStatus
			}
			return nil
		})
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		c, err := store.Charger(r.Context(), id)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, c)
	})
}
