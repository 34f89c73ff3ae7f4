package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Proxy mode's per-charger view and settings: where a charger is relayed
// and as whom (its route), its link's state as the node holding it last
// recorded it, and what waits for the upstream.

// upstreamRouteView is a route as the API shows it: never the password.
type upstreamRouteView struct {
	// URL is the route's base URL; Effective where the charger is relayed
	// (the route's, or the server's default, + "/" + id).
	URL         string                  `json:"url,omitempty"`
	Effective   string                  `json:"effectiveUrl"`
	Auth        chargedesk.UpstreamAuth `json:"auth"`
	Username    string                  `json:"username,omitempty"`
	PasswordSet bool                    `json:"passwordSet"`
	UpdatedAt   time.Time               `json:"updatedAt,omitzero"`
	UpdatedBy   string                  `json:"updatedBy,omitempty"`
}

// upstreamView is the body of GET and PUT /api/v1/chargers/{id}/upstream.
type upstreamView struct {
	ChargerID string            `json:"chargerId"`
	Route     upstreamRouteView `json:"route"`
	// Link is null when the charger never had one.
	Link *chargedesk.UpstreamLink `json:"link"`
	Held heldView                 `json:"held"`
}

type heldView struct {
	Messages int       `json:"messages"`
	OldestAt time.Time `json:"oldestAt,omitzero"`
}

// upstreamRouteBody is the body of PUT /api/v1/chargers/{id}/upstream.
// Leaving the password out of a basic route keeps the stored one.
type upstreamRouteBody struct {
	URL      string                  `json:"url"`
	Auth     chargedesk.UpstreamAuth `json:"auth"`
	Username string                  `json:"username"`
	Password *string                 `json:"password"`
}

// upstreamAPI serves the routes; base is the server's default upstream.
type upstreamAPI struct {
	store  chargedesk.Store
	up     chargedesk.UpstreamStore
	base   string
	logger *slog.Logger
}

// view reads what GET shows of a charger, which must exist.
func (a upstreamAPI) view(r *http.Request, id string) (upstreamView, error) {
	ctx := r.Context()
	if _, err := a.store.Charger(ctx, id); err != nil {
		return upstreamView{}, err
	}
	out := upstreamView{ChargerID: id, Route: upstreamRouteView{Auth: chargedesk.UpstreamAuthForward}}
	route, err := a.up.UpstreamRoute(ctx, id)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
	case err != nil:
		return upstreamView{}, err
	default:
		out.Route = upstreamRouteView{URL: route.URL, Auth: route.Auth, Username: route.Username,
			PasswordSet: route.Password != "", UpdatedAt: route.UpdatedAt, UpdatedBy: route.UpdatedBy}
	}
	base := a.base
	if out.Route.URL != "" {
		base = out.Route.URL
	}
	out.Route.Effective = base + "/" + id
	link, err := a.up.UpstreamLink(ctx, id)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
	case err != nil:
		return upstreamView{}, err
	default:
		out.Link = link
	}
	if out.Held.Messages, err = a.up.CountHeldUpstream(ctx, id); err != nil {
		return upstreamView{}, err
	}
	if out.Held.Messages > 0 {
		oldest, err := a.up.HeldUpstream(ctx, id, 1)
		if err != nil {
			return upstreamView{}, err
		}
		if len(oldest) == 1 {
			out.Held.OldestAt = oldest[0].HeldAt
		}
	}
	return out, nil
}

func (a upstreamAPI) get() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := chargedesk.ValidateChargerID(id); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.writeView(w, r, id)
	})
}

// writeView answers with what GET shows of the charger.
func (a upstreamAPI) writeView(w http.ResponseWriter, r *http.Request, id string) {
	out, err := a.view(r, id)
	if err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	encode(w, r, a.logger, http.StatusOK, out)
}

// put sets the charger's route; the node holding the charger redials it
// within the server's upstream retry interval. DELETE sets the defaults.
func (a upstreamAPI) put(reset bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := chargedesk.ValidateChargerID(id); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		var in upstreamRouteBody
		if !reset {
			if err := decode(w, r, &in); err != nil {
				writeError(w, r, a.logger, err)
				return
			}
		}
		ctx := r.Context()
		if _, err := a.store.Charger(ctx, id); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		route := &chargedesk.UpstreamRoute{ChargerID: id, URL: in.URL, Auth: in.Auth, Username: in.Username,
			UpdatedBy: "operator:" + operatorFrom(ctx)}
		if route.Auth == "" {
			route.Auth = chargedesk.UpstreamAuthForward
		}
		switch {
		case in.Password != nil:
			route.Password = *in.Password
		case route.Auth == chargedesk.UpstreamAuthBasic:
			old, err := a.up.UpstreamRoute(ctx, id)
			if err != nil && chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
				writeError(w, r, a.logger, err)
				return
			}
			if old == nil || old.Auth != chargedesk.UpstreamAuthBasic || old.Password == "" {
				writeError(w, r, a.logger, chargedesk.Errorf(chargedesk.EINVALID, "auth basic needs a password (none is stored for this charger)"))
				return
			}
			route.Password = old.Password
		}
		if err := a.up.PutUpstreamRoute(ctx, route); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.logger.Info("upstream route set", "charger_id", id, "url", route.URL, "auth", route.Auth, "by", route.UpdatedBy)
		if reset {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		a.writeView(w, r, id)
	})
}
