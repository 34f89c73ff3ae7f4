package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
)

// fleetRoutes registers the fleet and charger pages, a charger's remote
// commands and its live event stream.
func (c *Console) fleetRoutes(m *http.ServeMux) {
	m.Handle("GET /console/fleet", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.fleet)))
	m.Handle("GET /console/chargers/{id}", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.chargerPage)))
	m.Handle("GET /console/chargers/{id}/events", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.chargerEvents)))
	m.Handle("POST /console/chargers/{id}/commands", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.chargerCommand)))
}

// fleetPageSize is how many chargers one page of the fleet shows.
const fleetPageSize = 50

// fleetStatuses are the status filter's choices: the connection, or a
// connector status kind.
var fleetStatuses = []struct{ Value, Label string }{
	{"connected", "Connected"},
	{"offline", "Offline"},
	{string(chargedesk.KindFaulted), "A connector Faulted"},
	{string(chargedesk.KindUnavailable), "A connector Unavailable"},
	{string(chargedesk.KindInUse), "Charging / Occupied"},
	{string(chargedesk.KindAvailable), "A connector Available"},
}

// fleetQuery is the fleet page's filter as the form sent it.
type fleetQuery struct {
	Site, Status, Q, After string
}

// filter turns the form into a store filter of one page plus one (to know
// whether there is a next page). EINVALID with a message for the operator.
func (q fleetQuery) filter() (chargedesk.ChargerFilter, error) {
	f := chargedesk.ChargerFilter{SiteID: q.Site, IDContains: q.Q, AfterID: q.After, Limit: fleetPageSize + 1}
	switch q.Status {
	case "":
	case "connected", "offline":
		on := q.Status == "connected"
		f.Connected = &on
	default:
		f.Status = chargedesk.StatusKind(q.Status)
		if !f.Status.Valid() {
			return f, chargedesk.Errorf(chargedesk.EINVALID, "Unknown status filter %q: choose connected, offline, faulted, unavailable, in-use or available.", textcut.Marked(q.Status, 40))
		}
	}
	if err := f.Validate(); err != nil {
		return f, chargedesk.Errorf(chargedesk.EINVALID, "The filter cannot be used: %s.", chargedesk.ErrorMessage(err))
	}
	return f, nil
}

// fleetRow is one charger of the fleet page.
type fleetRow struct {
	*chargedesk.Charger
	Connectors []connectorView
}

// connectorView is a connector with the session on it, if any.
type connectorView struct {
	chargedesk.Connector
	// Whole marks connector 0, the charger as a whole.
	Whole   bool
	Session *sessionView
}

// sessionView is a transaction as the console shows it: the driver's
// token masked.
type sessionView struct {
	ID          string
	ConnectorID int
	Tag         string
	StartedAt   time.Time
	StoppedAt   time.Time
	StopReason  string
	// Energy is what the session has delivered so far ("" when the
	// charger has sent no reading).
	Energy string
}

func newSessionView(t *chargedesk.Transaction) *sessionView {
	v := &sessionView{ID: t.ID, ConnectorID: t.ConnectorID, Tag: maskTag(t.IDTag), StartedAt: t.StartedAt,
		StoppedAt: t.StoppedAt, StopReason: t.StopReason}
	switch {
	case !t.StoppedAt.IsZero() && t.MeterStopWh >= t.MeterStartWh:
		v.Energy = kWh(t.MeterStopWh - t.MeterStartWh)
	case !t.LastMeterAt.IsZero():
		v.Energy = kWh(t.LastMeterWh - t.MeterStartWh)
	}
	return v
}

func kWh(wh int64) string { return fmt.Sprintf("%.2f kWh", float64(wh)/1000) }

// maskTag shows only a token's last four characters; a token of four or
// fewer shows none.
func maskTag(tag string) string {
	if tag == "" {
		return "—"
	}
	if utf8.RuneCountInString(tag) <= 4 {
		return "••••"
	}
	r := []rune(tag)
	return "••••" + string(r[len(r)-4:])
}

// connectorViews pairs a charger's connectors with its active sessions.
// Connector 0 is shown only when it says something about the charger as a
// whole (Faulted, Unavailable, an error code); a session on a connector
// the charger never reported gets a row of its own.
func connectorViews(ch *chargedesk.Charger, active []*chargedesk.Transaction, all bool) []connectorView {
	out := make([]connectorView, 0, len(ch.Connectors))
	for _, k := range ch.Connectors {
		if k.ID == 0 && !all && k.Status != chargedesk.StatusFaulted && k.Status != chargedesk.StatusUnavailable &&
			(k.ErrorCode == "" || k.ErrorCode == "NoError") {
			continue
		}
		out = append(out, connectorView{Connector: k, Whole: k.ID == 0})
	}
	for _, t := range active {
		placed := false
		for i := range out {
			if out[i].ID == t.ConnectorID && out[i].Session == nil {
				out[i].Session, placed = newSessionView(t), true
				break
			}
		}
		if !placed {
			out = append(out, connectorView{Connector: chargedesk.Connector{ChargerID: ch.ID, ID: t.ConnectorID},
				Session: newSessionView(t)})
		}
	}
	return out
}

// fleet lists chargers, filtered and paged, with their connectors' live
// status and the sessions on them: one query for the page of chargers (and
// their connectors), one for the page's active transactions.
func (c *Console) fleet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := r.URL.Query()
	q := fleetQuery{Site: v.Get("site"), Status: v.Get("status"), Q: strings.TrimSpace(v.Get("q")), After: v.Get("after")}
	f, err := q.filter()
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, chargedesk.ErrorMessage(err))
		return
	}
	chargers, err := c.cfg.Store.Chargers(ctx, f)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	next := ""
	if len(chargers) > fleetPageSize {
		chargers = chargers[:fleetPageSize]
		next = chargers[len(chargers)-1].ID
	}
	active := map[string][]*chargedesk.Transaction{}
	if len(chargers) > 0 {
		ids := make([]string, len(chargers))
		for i, ch := range chargers {
			ids[i] = ch.ID
		}
		txs, err := c.cfg.Store.Transactions(ctx, chargedesk.TransactionFilter{ChargerIDs: ids, ActiveOnly: true,
			Limit: chargedesk.MaxFilterChargerIDs})
		if err != nil {
			c.failErr(w, r, err)
			return
		}
		for i := len(txs) - 1; i >= 0; i-- { // oldest first on each connector
			active[txs[i].ChargerID] = append(active[txs[i].ChargerID], txs[i])
		}
	}
	rows := make([]fleetRow, len(chargers))
	for i, ch := range chargers {
		rows[i] = fleetRow{Charger: ch, Connectors: connectorViews(ch, active[ch.ID], false)}
	}
	sites, err := c.cfg.Store.Sites(ctx)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	// The site choices are made here, not in the template: a network
	// has hundreds of sites, and each template action costs.
	options := make([]option, len(sites))
	for i, s := range sites {
		options[i] = option{Value: s.ID, Label: s.Name + " (" + s.ID + ")", Selected: s.ID == q.Site}
	}
	statuses := make([]option, len(fleetStatuses))
	for i, s := range fleetStatuses {
		statuses[i] = option{Value: s.Value, Label: s.Label, Selected: s.Value == q.Status}
	}
	c.show(w, r, "fleet", "fleet", "Fleet", map[string]any{
		"Query": q, "Rows": rows, "Next": next, "Sites": options, "Statuses": statuses,
	})
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}
