package diagnose

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// now is the instant every test view is read at.
var now = time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)

func before(d time.Duration) time.Time { return now.Add(-d) }

// chargerOf returns a connected, accepted charger that heartbeat a minute
// ago, with the given connectors.
func chargerOf(proto chargedesk.Protocol, conns ...chargedesk.Connector) *chargedesk.Charger {
	ch := &chargedesk.Charger{
		ID: "CP-1", Protocol: proto, BootStatus: chargedesk.RegistrationAccepted, Connected: true,
		ConnectedAt: before(3 * time.Hour), LastBootAt: before(3 * time.Hour),
		LastHeartbeatAt: before(time.Minute), LastSeenAt: before(30 * time.Second),
	}
	for _, c := range conns {
		c.ChargerID = ch.ID
		ch.Connectors = append(ch.Connectors, c)
	}
	return ch
}

// conn returns connector id with status st and error code ec, reported
// age ago.
func conn(id int, st chargedesk.ConnectorStatus, ec string, age time.Duration) chargedesk.Connector {
	return chargedesk.Connector{ID: id, Status: st, ErrorCode: ec, StatusAt: before(age), UpdatedAt: before(age)}
}

// frames builds an event history from exchanges and returns it newest
// first, as the store does.
type frames struct {
	events []chargedesk.Event
	n      int
}

func (f *frames) call(age time.Duration, dir chargedesk.Direction, action string, req any) string {
	f.n++
	id := fmt.Sprintf("m%d", f.n)
	f.events = append(f.events, chargedesk.Event{ChargerID: "CP-1", At: before(age), Direction: dir, Type: "CALL", MessageID: id, Action: action, Payload: mustJSON(req)})
	return id
}

// exchange adds a CALL and its CALLRESULT one second later.
func (f *frames) exchange(age time.Duration, dir chargedesk.Direction, action string, req, res any) {
	id := f.call(age, dir, action, req)
	back := chargedesk.DirOut
	if dir == chargedesk.DirOut {
		back = chargedesk.DirIn
	}
	f.events = append(f.events, chargedesk.Event{ChargerID: "CP-1", At: before(age - time.Second), Direction: back, Type: "CALLRESULT", MessageID: id, Action: action, Payload: mustJSON(res)})
}

func (f *frames) conn(age time.Duration, typ string) {
	f.events = append(f.events, chargedesk.Event{ChargerID: "CP-1", At: before(age), Type: typ, Payload: json.RawMessage(`{}`)})
}

func (f *frames) list() []chargedesk.Event {
	out := slices.Clone(f.events)
	slices.SortStableFunc(out, func(a, b chargedesk.Event) int { return b.At.Compare(a.At) })
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type obj = map[string]any

// Frames of both versions.
func authorize16(f *frames, age time.Duration, tag, status string) {
	f.exchange(age, chargedesk.DirIn, "Authorize", obj{"idTag": tag}, obj{"idTagInfo": obj{"status": status}})
}

func authorize201(f *frames, age time.Duration, tag, status string) {
	f.exchange(age, chargedesk.DirIn, "Authorize", obj{"idToken": obj{"idToken": tag, "type": "ISO14443"}}, obj{"idTokenInfo": obj{"status": status}})
}

func heartbeats(f *frames, n int) {
	for i := range n {
		f.exchange(time.Duration(i)*time.Minute+10*time.Second, chargedesk.DirIn, "Heartbeat", obj{}, obj{"currentTime": now.Format(time.RFC3339)})
	}
}

func tok(tag string, st chargedesk.AuthStatus) *chargedesk.Token {
	return &chargedesk.Token{IDTag: tag, Type: "ISO14443", Status: st, DriverID: "drv-1", CreatedAt: before(90 * 24 * time.Hour)}
}

// activeTx is a transaction of tag on connector id, started startAge ago,
// last metered meterAge ago with wh delivered.
func activeTx(id int, tag string, startAge, meterAge time.Duration, wh int64) *chargedesk.Transaction {
	return &chargedesk.Transaction{ID: "41", ChargerID: "CP-1", ConnectorID: id, IDTag: tag, AuthStatus: chargedesk.AuthAccepted,
		StartedAt: before(startAge), MeterStartWh: 1000, LastMeterWh: 1000 + wh, LastMeterAt: before(meterAge), UpdatedAt: before(meterAge)}
}

func endedTx(id int, tag string, endAge time.Duration) *chargedesk.Transaction {
	tx := activeTx(id, tag, endAge+40*time.Minute, endAge, 20000)
	tx.ID, tx.StoppedAt, tx.StopReason = "40", before(endAge), "EVDisconnected"
	return tx
}

// codes returns the cause codes in order.
func codes(cs []Cause) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s(%.2f)", c.Code, c.Confidence)
	}
	return out
}

// checkWellFormed fails unless the causes are non-empty, ranked and each
// carries evidence and a confidence in [0,1].
func checkWellFormed(t *testing.T, cs []Cause) {
	t.Helper()
	if len(cs) == 0 {
		t.Fatal("Diagnose returned no cause")
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if c.Confidence < 0 || c.Confidence > 1 {
			t.Errorf("%s: confidence %v outside [0,1]", c.Code, c.Confidence)
		}
		if len(c.Evidence) == 0 {
			t.Errorf("%s: no evidence", c.Code)
		}
		for _, e := range c.Evidence {
			if strings.TrimSpace(e) == "" {
				t.Errorf("%s: empty evidence", c.Code)
			}
		}
		if seen[c.Code] {
			t.Errorf("%s listed twice", c.Code)
		}
		seen[c.Code] = true
	}
}
