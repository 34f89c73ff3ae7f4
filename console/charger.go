package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
)

// What the charger page shows.
const (
	timelineLen     = 100
	recentTxLen     = 20
	commandsLen     = 100
	payloadShown    = 8 << 10 // bytes of a frame's readable payload
	payloadSummary  = 140     // bytes of its one-line summary
	maxConnectorIDs = 100     // a command's connector, as Command.Validate bounds it
)

// triggers are the messages an operator may ask a charger for.
var triggers = []string{"StatusNotification", "Heartbeat", "BootNotification", "MeterValues"}

// eventView is one frame of the timeline, its payload made readable: the
// JSON indented, tokens masked, bounded.
type eventView struct {
	At        time.Time `json:"-"`
	When      string    `json:"at"`
	Direction string    `json:"direction"`
	Type      string    `json:"type"`
	Action    string    `json:"action"`
	MessageID string    `json:"messageId"`
	Summary   string    `json:"summary"`
	Pretty    string    `json:"pretty"`
}

func newEventView(e chargedesk.Event) eventView {
	v := eventView{At: e.At, When: formatWhen(e.At), Direction: string(e.Direction), Type: e.Type, Action: e.Action,
		MessageID: textcut.Marked(e.MessageID, 64)}
	v.Summary, v.Pretty = readablePayload(e.Payload)
	return v
}

func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// tokenKeys name the payload fields that carry a driver's token.
var tokenKeys = map[string]bool{"idTag": true, "parentIdTag": true, "idToken": true, "groupIdToken": true}

// readablePayload returns a frame's payload on one line and indented, with
// tokens masked, each bounded. A payload that is not JSON is shown as it
// is, bounded. The text is escaped where it is shown (html/template, or
// textContent in the live view), not here.
func readablePayload(raw json.RawMessage) (summary, pretty string) {
	if len(raw) == 0 {
		return "", ""
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		s := textcut.Marked(string(raw), payloadShown)
		return textcut.Marked(strings.Join(strings.Fields(s), " "), payloadSummary), s
	}
	v = maskTokens(v, false)
	var one, ind bytes.Buffer
	enc := json.NewEncoder(&one)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	enc = json.NewEncoder(&ind)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return textcut.Marked(strings.TrimSpace(one.String()), payloadSummary), textcut.Marked(strings.TrimSpace(ind.String()), payloadShown)
}

// maskTokens masks every string under a token key.
func maskTokens(v any, token bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if token && k == "type" {
				continue // a token's type ("ISO14443") is not secret, its value is
			}
			x[k] = maskTokens(e, token || tokenKeys[k])
		}
	case []any:
		for i, e := range x {
			x[i] = maskTokens(e, token)
		}
	case string:
		if token && x != "" {
			return maskTag(x)
		}
	}
	return v
}

// commandRow is one command sent to a charger, from its audit entries:
// who, what, why, the policy's decision and the charger's answer.
type commandRow struct {
	ID       string
	At       time.Time
	Actor    string
	Kind     string
	Params   string
	Reason   string
	Allowed  bool
	Decided  bool
	Decision string
	Outcome  string
	Detail   string
}

// commandRows groups a charger's audit entries (newest first) by command.
func commandRows(entries []*chargedesk.AuditEntry) []*commandRow {
	var rows []*commandRow
	byID := map[string]*commandRow{}
	for _, e := range entries {
		row := byID[e.CommandID]
		if row == nil || e.CommandID == "" {
			row = &commandRow{ID: e.CommandID, At: e.At, Actor: e.Actor, Kind: e.Kind}
			byID[e.CommandID] = row
			rows = append(rows, row)
		}
		switch e.Stage {
		case chargedesk.AuditDecision:
			row.At, row.Decided, row.Allowed, row.Decision = e.At, true, e.Allowed, e.Reason
			var cmd chargedesk.Command
			if json.Unmarshal(e.Detail, &cmd) == nil {
				row.Params, row.Reason = commandParams(cmd), cmd.Reason
			}
			if !e.Allowed && row.Outcome == "" {
				row.Outcome = e.Outcome
			}
		default:
			row.Outcome = e.Outcome
			if e.Reason != "" {
				row.Detail = e.Reason
			} else {
				var res chargedesk.Result
				if json.Unmarshal(e.Detail, &res) == nil {
					row.Detail = res.Detail
				}
			}
		}
	}
	return rows
}

// commandParams says what a command asked, shortly ("Hard",
// "connector 2 Inoperative").
func commandParams(cmd chargedesk.Command) string {
	var parts []string
	if cmd.ResetType != "" {
		parts = append(parts, cmd.ResetType)
	}
	if cmd.ConnectorID > 0 {
		parts = append(parts, "connector "+strconv.Itoa(cmd.ConnectorID))
	} else if cmd.Kind == chargedesk.CmdChangeAvailability {
		parts = append(parts, "whole charger")
	}
	for _, s := range []string{cmd.Availability, cmd.Trigger, cmd.TransactionID} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// chargerPage shows one charger: who it is, its connectors, its sessions,
// its latest frames and the commands sent to it.
func (c *Console) chargerPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ch, ok := c.chargerOf(w, r)
	if !ok {
		return
	}
	active, err := c.cfg.Store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: ch.ID, ActiveOnly: true})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	recent, err := c.cfg.Store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: ch.ID, Limit: recentTxLen})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	events, err := c.cfg.Store.RecentEvents(ctx, ch.ID, timelineLen)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	audit, err := c.cfg.Store.AuditEntries(ctx, chargedesk.AuditFilter{ChargerID: ch.ID, Newest: true, Limit: commandsLen})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	timeline := make([]eventView, len(events))
	for i, e := range events {
		timeline[i] = newEventView(e)
	}
	var activeViews, recentViews []*sessionView
	for i := len(active) - 1; i >= 0; i-- {
		activeViews = append(activeViews, newSessionView(active[i]))
	}
	for _, t := range recent {
		recentViews = append(recentViews, newSessionView(t))
	}
	var ids []int
	for _, k := range ch.Connectors {
		if k.ID > 0 {
			ids = append(ids, k.ID)
		}
	}
	up, err := c.upstreamOf(ctx, ch.ID)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.show(w, r, "charger", "fleet", "Charger "+ch.ID, map[string]any{
		"Charger": ch, "Connectors": connectorViews(ch, nil, true), "Active": activeViews, "Recent": recentViews,
		"Timeline": timeline, "Commands": commandRows(audit), "ConnectorIDs": ids, "Triggers": triggers,
		"Live": c.cfg.Events != nil, "ReasonMax": maxReasonChars, "Upstream": up,
	})
}

// upstreamView is, in proxy mode, a charger's link to the upstream as its
// node last recorded it (nil Link: it never had one) and its held messages.
type upstreamView struct {
	Link *chargedesk.UpstreamLink
	Held int
}

// upstreamOf reads a charger's upstream view; nil outside proxy mode.
func (c *Console) upstreamOf(ctx context.Context, id string) (*upstreamView, error) {
	if c.cfg.Upstream == nil {
		return nil, nil
	}
	v := &upstreamView{}
	l, err := c.cfg.Upstream.UpstreamLink(ctx, id)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
	case err != nil:
		return nil, err
	default:
		v.Link = l
	}
	if v.Held, err = c.cfg.Upstream.CountHeldUpstream(ctx, id); err != nil {
		return nil, err
	}
	return v, nil
}

// chargerOf reads the charger the path names; it answers 404 itself for an
// unknown or impossible id.
func (c *Console) chargerOf(w http.ResponseWriter, r *http.Request) (*chargedesk.Charger, bool) {
	id := r.PathValue("id")
	if chargedesk.ValidateChargerID(id) != nil {
		c.fail(w, r, http.StatusNotFound, "There is no such charger.")
		return nil, false
	}
	ch, err := c.cfg.Store.Charger(r.Context(), id)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		c.fail(w, r, http.StatusNotFound, "There is no charger "+id+".")
		return nil, false
	}
	if err != nil {
		c.failErr(w, r, err)
		return nil, false
	}
	return ch, true
}
