package csms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/textcut"
	"github.com/coder/websocket"
)

// The life of a charger's upstream link beside the relay itself: where it
// goes and as whom (the charger's route), how soon a failed dial is tried
// again, what is recorded of it for the API, and which of chargedesk's own
// commands would clash with an upstream command in flight.

// UpstreamConflict says what becomes of chargedesk's own command to a
// charger while a command of the upstream that clashes with it is in flight.
type UpstreamConflict string

const (
	// ConflictWait sends it after the upstream's command is answered (the
	// charger takes one CALL at a time either way).
	ConflictWait UpstreamConflict = "wait"
	// ConflictRefuse answers it at once as Refused, sending nothing.
	ConflictRefuse UpstreamConflict = "refuse"
)

// UpstreamBoot says how a BootNotification is answered while the upstream
// cannot be asked.
type UpstreamBoot string

const (
	// BootKnown accepts a charger whose last boot the upstream accepted and
	// keeps any other Pending until the upstream can decide (the default).
	BootKnown UpstreamBoot = "known"
	// BootAccept accepts every charger chargedesk lets connect.
	BootAccept UpstreamBoot = "accept"
	// BootPending keeps every charger Pending until the upstream is back.
	BootPending UpstreamBoot = "pending"
)

// linkRecordEvery bounds how often a link whose only news is more relayed
// traffic is recorded; a link coming up or going down is recorded at the
// next flush.
const linkRecordEvery = 30 * time.Second

// route returns where the charger is relayed and the Authorization header
// its link presents, from the charger's route or the server's defaults.
func (u *upstream) route(ctx context.Context) (target, auth string, at time.Time, err error) {
	c := u.c
	base, auth := c.s.cfg.Upstream, c.upAuth
	r, err := u.store.UpstreamRoute(ctx, c.id)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
	case err != nil:
		return "", "", time.Time{}, err
	default:
		at = r.UpdatedAt
		if r.URL != "" {
			base = r.URL
		}
		switch r.Auth {
		case chargedesk.UpstreamAuthBasic:
			auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(r.Username+":"+r.Password))
		case chargedesk.UpstreamAuthNone:
			auth = ""
		}
	}
	return base + "/" + c.id, auth, at, nil
}

// retryAfter is how long to wait before the next dial after n failures in
// a row: UpstreamRetry doubling up to UpstreamMaxRetry, give or take a
// fifth so that chargers that lost the upstream together do not all dial
// it again in the same instant.
func retryAfter(base, most time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// linkUp records that the link came up.
func (u *upstream) linkUp(target string, routeAt time.Time) {
	u.mu.Lock()
	u.url, u.routeAt, u.since, u.isUp = target, routeAt, u.c.s.now(), true
	u.lastErr, u.failures = "", 0
	u.relayed, u.relaySum, u.relayMax = 0, 0, 0
	u.changed = true
	u.mu.Unlock()
	u.c.s.links.mark(u)
}

// linkDown records that the link ended (why), or that a dial failed.
func (u *upstream) linkDown(why string, dialFailed bool) int {
	u.mu.Lock()
	if dialFailed {
		u.failures++
	}
	if u.isUp || u.since.IsZero() {
		u.since = u.c.s.now() // down since now: it was up, or never tried
	}
	u.isUp = false
	u.lastErr = textcut.Bytes(why, 512)
	u.changed = true
	n := u.failures
	u.mu.Unlock()
	u.c.s.links.mark(u)
	return n
}

// noteRelay records one charger CALL the upstream answered in d. The
// first one on a link is recorded at the next flush like a transition, so
// that a link just up does not show nothing relayed for linkRecordEvery.
func (u *upstream) noteRelay(d time.Duration) {
	u.mu.Lock()
	u.relayed++
	if u.relayed == 1 {
		u.changed = true
	}
	u.relaySum += d
	u.relayMax = max(u.relayMax, d)
	u.mu.Unlock()
	u.c.s.links.mark(u)
}

// state returns the link's state to record, and whether it is due: a
// transition, or relayed traffic not recorded for linkRecordEvery.
func (u *upstream) state(now time.Time) (chargedesk.UpstreamLink, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.changed && now.Sub(u.recordedAt) < linkRecordEvery {
		return chargedesk.UpstreamLink{}, false
	}
	l := chargedesk.UpstreamLink{
		ChargerID: u.c.id, Node: u.c.s.cfg.Node, URL: u.url, Up: u.ws != nil, Since: u.since,
		LastError: u.lastErr, DialFailures: u.failures, Relayed: u.relayed, RelayMaxUS: u.relayMax.Microseconds(), UpdatedAt: now,
	}
	if u.relayed > 0 {
		l.RelayMeanUS = (u.relaySum / time.Duration(u.relayed)).Microseconds()
	}
	u.changed, u.recordedAt = false, now
	return l, true
}

// reroute drops the link so that it is dialled again at once, with the
// route set at routeAt, unless it already uses that route.
func (u *upstream) reroute(routeAt time.Time) {
	u.mu.Lock()
	ws, same := u.ws, u.routeAt.Equal(routeAt)
	if !same {
		u.rerouted = ws != nil
	}
	u.mu.Unlock()
	if same {
		return
	}
	u.c.log.Info("upstream route changed; dialling again")
	select {
	case u.redial <- struct{}{}:
	default:
	}
	if ws != nil {
		ws.CloseNow()
	}
}

// linkRecorder collects the links with something to record and writes them
// in batches (Server.Run). Its lock is never held with a link's.
type linkRecorder struct {
	mu    sync.Mutex
	dirty map[*upstream]struct{}
}

func newLinkRecorder() *linkRecorder {
	return &linkRecorder{dirty: make(map[*upstream]struct{})}
}

func (r *linkRecorder) mark(u *upstream) {
	r.mu.Lock()
	r.dirty[u] = struct{}{}
	r.mu.Unlock()
}

// flush records the links that are due; those that fail to be written are
// tried again at the next flush.
func (s *Server) flushLinks(ctx context.Context) {
	r := s.links
	now := s.now()
	var due []chargedesk.UpstreamLink
	var from []*upstream
	r.mu.Lock()
	for u := range r.dirty {
		l, ok := u.state(now)
		if !ok {
			continue // traffic only, recorded less often
		}
		due, from = append(due, l), append(from, u)
		delete(r.dirty, u) // until something new marks it again
	}
	r.mu.Unlock()
	if len(due) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store := s.cfg.Store.(chargedesk.UpstreamStore)
	if err := store.RecordUpstreamLinks(ctx, due); err != nil {
		s.log.Error("record upstream links", "links", len(due), "err", err)
		for _, u := range from {
			u.mu.Lock()
			u.changed = true
			u.mu.Unlock()
			r.mark(u)
		}
	}
}

// watchRoutes redials the links here whose route changed since the last
// look (on any node, through the store).
func (s *Server) watchRoutes(ctx context.Context, since time.Time) time.Time {
	store := s.cfg.Store.(chargedesk.UpstreamStore)
	// A look back of a minute covers clocks of nodes that differ a little;
	// a link redials only for a route newer than its own.
	next := s.now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	routes, err := store.UpstreamRoutesChanged(ctx, since.Add(-time.Minute))
	if err != nil {
		s.log.Error("read changed upstream routes", "err", err)
		return since
	}
	for _, r := range routes {
		s.mu.Lock()
		c := s.conns[r.ChargerID]
		s.mu.Unlock()
		if c != nil && c.up != nil {
			c.up.reroute(r.UpdatedAt)
		}
	}
	return next
}

// Actions that change a connector's or the charger's state: two of them in
// flight for the same connector (or one for the whole charger) clash.
var stateChanging = map[string]bool{
	"Reset": true, "ChangeAvailability": true, "UnlockConnector": true,
	"RemoteStartTransaction": true, "RemoteStopTransaction": true,
	"RequestStartTransaction": true, "RequestStopTransaction": true,
	"SetChargingProfile": true, "ClearChargingProfile": true,
	"UpdateFirmware": true, "SignedUpdateFirmware": true,
	"ChangeConfiguration": true, "SetVariables": true,
	"SendLocalList": true, "ClearCache": true,
	"ReserveNow": true, "CancelReservation": true,
}

// callScope returns the connector (1.6) or EVSE (2.0.1) a CALL acts on, 0
// for the whole charger, and whether it changes state at all.
func callScope(action string, payload []byte) (int, bool) {
	if !stateChanging[action] {
		return 0, false
	}
	var p struct {
		ConnectorID *int `json:"connectorId"`
		EvseID      *int `json:"evseId"`
		Evse        *struct {
			ID int `json:"id"`
		} `json:"evse"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return 0, true
	}
	switch {
	case p.EvseID != nil:
		return *p.EvseID, true
	case p.Evse != nil:
		return p.Evse.ID, true
	case p.ConnectorID != nil:
		return *p.ConnectorID, true
	}
	return 0, true
}

// clashes reports whether two CALLs' scopes clash.
func clashes(a, b int) bool { return a == 0 || b == 0 || a == b }

// upstreamClash returns the action of an upstream CALL in flight for the
// charger that clashes with chargedesk's own CALL (action, payload), or "".
func (u *upstream) upstreamClash(action string, payload []byte) string {
	scope, changes := callScope(action, payload)
	if !changes {
		return ""
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, f := range u.inflight {
		if clashes(scope, f.scope) {
			return f.action
		}
	}
	return ""
}

// linkEnd says why reading the upstream link failed.
func linkEnd(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		var ce websocket.CloseError
		if errors.As(err, &ce) && ce.Reason != "" {
			return fmt.Sprintf("the upstream closed the link (%d %s)", int(code), ce.Reason)
		}
		return fmt.Sprintf("the upstream closed the link (%d)", int(code))
	}
	return err.Error()
}
