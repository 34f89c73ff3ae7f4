package console

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/sse"
)

// EventSource is where the console hears chargers' events as they happen:
// the bus (natsbus.Bus), so that a page on one node sees a charger
// connected to another.
type EventSource interface {
	SubscribeEvents(chargerID string, fn func(chargedesk.Event)) (unsubscribe func() error, err error)
}

// Bounds of a live stream.
const (
	// liveHeartbeat is how often an idle stream sends a comment, so that
	// proxies keep it open and a dead client is noticed.
	liveHeartbeat = 15 * time.Second
	// liveMaxAge ends a stream; the browser reconnects on its own.
	liveMaxAge = 30 * time.Minute
	// liveBuffer is how many events wait for a slow client; past it they
	// are dropped and the client is told how many it missed.
	liveBuffer = 64
)

// classOf is the page's class for a connector status.
var classOf = funcs["statusClass"].(func(chargedesk.ConnectorStatus) string)

// liveTiming is a live stream's heartbeat interval and longest life
// (liveHeartbeat and liveMaxAge; tests shorten them).
type liveTiming struct {
	heartbeat, maxAge time.Duration
}

// connectorEvent is a connector's new status, read from the charger's
// StatusNotification.
type connectorEvent struct {
	ID        int    `json:"id"`
	Status    string `json:"status"`
	Class     string `json:"class"`
	ErrorCode string `json:"errorCode"`
	Info      string `json:"info"`
	At        string `json:"at"`
}

// statusOf reads a StatusNotification CALL of either version.
func statusOf(e chargedesk.Event) (connectorEvent, bool) {
	if e.Direction != chargedesk.DirIn || e.Type != "CALL" || e.Action != "StatusNotification" {
		return connectorEvent{}, false
	}
	var p struct {
		ConnectorID     int       `json:"connectorId"`
		EVSEID          *int      `json:"evseId"`
		Status          string    `json:"status"`
		ConnectorStatus string    `json:"connectorStatus"`
		ErrorCode       string    `json:"errorCode"`
		Info            string    `json:"info"`
		Timestamp       time.Time `json:"timestamp"`
	}
	if json.Unmarshal(e.Payload, &p) != nil {
		return connectorEvent{}, false
	}
	ev := connectorEvent{ID: p.ConnectorID, Status: p.Status, ErrorCode: textcut.Marked(p.ErrorCode, 64), Info: textcut.Marked(p.Info, 100)}
	if p.EVSEID != nil { // 2.0.1: the console's connector is the EVSE
		ev.ID, ev.Status = *p.EVSEID, p.ConnectorStatus
	}
	at := p.Timestamp
	if at.IsZero() {
		at = e.At
	}
	ev.At = formatWhen(at)
	ev.Status = textcut.Marked(ev.Status, 32)
	ev.Class = classOf(chargedesk.ConnectorStatus(ev.Status))
	return ev, ev.Status != "" && ev.ID >= 0 && ev.ID <= maxConnectorIDs
}

// chargerEvents streams a charger's events as Server-Sent Events: "frame"
// for each OCPP frame (the timeline), "connector" for a new connector
// status, "connection" when the charger connects or goes away, "gap" when
// the client was too slow and events were dropped. Bounded like every
// live view (internal/sse): a heartbeat, a longest life, a write
// deadline, the operator's share of streams, and a queue of liveBuffer.
func (c *Console) chargerEvents(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Events == nil {
		c.fail(w, r, http.StatusNotImplemented, "Live updates are not available on this server.")
		return
	}
	ch, ok := c.chargerOf(w, r)
	if !ok {
		return
	}
	si := operatorOf(r.Context())
	release, ok := c.streams.Acquire("op:" + si.op.Username)
	if !ok {
		c.fail(w, r, http.StatusTooManyRequests, "Too many live views are open.")
		return
	}
	defer release()

	queue := make(chan chargedesk.Event, liveBuffer)
	var dropped atomic.Int64
	wake := sse.NewWake()
	unsubscribe, err := c.cfg.Events.SubscribeEvents(ch.ID, func(e chargedesk.Event) {
		select {
		case queue <- e:
		default:
			dropped.Add(1)
		}
		wake.Notify()
	})
	if err != nil {
		c.log.Error("console: subscribe to a charger's events", "charger_id", ch.ID, "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, "Live updates are not available right now.")
		return
	}
	defer func() { _ = unsubscribe() }()

	stream, err := sse.Start(w, sse.Limits{Heartbeat: c.live.heartbeat, MaxAge: c.live.maxAge})
	if err != nil {
		return
	}
	send := func(event string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return stream.Event(event, "", data)
	}
	_ = stream.Run(r.Context(), wake, func() error {
		if n := dropped.Swap(0); n > 0 {
			if err := send("gap", map[string]int64{"missed": n}); err != nil {
				return err
			}
		}
		for {
			var e chargedesk.Event
			select {
			case e = <-queue:
			default:
				return nil
			}
			if k, ok := statusOf(e); ok {
				if err := send("connector", k); err != nil {
					return err
				}
			}
			switch e.Type {
			case chargedesk.EventConnected, chargedesk.EventDisconnected:
				if err := send("connection", map[string]any{"connected": e.Type == chargedesk.EventConnected, "at": formatWhen(e.At)}); err != nil {
					return err
				}
			}
			if err := send("frame", newEventView(e)); err != nil {
				return err
			}
		}
	})
}
