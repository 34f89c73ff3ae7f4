package csms

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v201"
	ocpp201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/authorization"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/meter"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/remotecontrol"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	types201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"github.com/lorenzodonini/ocpp-go/ws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// upstream201 is an independent OCPP 2.0.1 CSMS (ocpp-go) playing the
// network's existing central system. It records the raw frames it is sent
// and, decoded, the TransactionEvents its handler saw.
type upstream201 struct {
	frameLog
	cs   ocpp201.CSMS
	port int

	mu     sync.Mutex
	events []txEventSeen
}

type txEventSeen struct {
	charger, txID, eventType string
	seqNo                    int
}

func startUpstream201(t *testing.T, user, password string) *upstream201 {
	u := &upstream201{port: freePort(t)}
	srv := ws.NewServer()
	srv.SetBasicAuthHandler(func(uu, pw string) bool { return uu == user && pw == password })
	u.cs = ocpp201.NewCSMS(nil, &recordingServer{WsServer: srv, log: &u.frameLog})
	u.cs.SetProvisioningHandler(u)
	u.cs.SetAvailabilityHandler(u)
	u.cs.SetTransactionsHandler(u)
	u.cs.SetAuthorizationHandler(u)
	u.cs.SetMeterHandler(u)
	go u.cs.Start(u.port, "/ocpp/{id}")
	t.Cleanup(u.cs.Stop)
	listening(t, "upstream", u.port)
	return u
}

func (u *upstream201) seen() []txEventSeen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]txEventSeen(nil), u.events...)
}

func (u *upstream201) OnBootNotification(string, *provisioning.BootNotificationRequest) (*provisioning.BootNotificationResponse, error) {
	return provisioning.NewBootNotificationResponse(types201.NewDateTime(time.Now()), 77, provisioning.RegistrationStatusAccepted), nil
}
func (u *upstream201) OnNotifyReport(string, *provisioning.NotifyReportRequest) (*provisioning.NotifyReportResponse, error) {
	return &provisioning.NotifyReportResponse{}, nil
}
func (u *upstream201) OnHeartbeat(string, *availability.HeartbeatRequest) (*availability.HeartbeatResponse, error) {
	return availability.NewHeartbeatResponse(*types201.NewDateTime(time.Now())), nil
}
func (u *upstream201) OnStatusNotification(string, *availability.StatusNotificationRequest) (*availability.StatusNotificationResponse, error) {
	return availability.NewStatusNotificationResponse(), nil
}
func (u *upstream201) OnAuthorize(string, *authorization.AuthorizeRequest) (*authorization.AuthorizeResponse, error) {
	return &authorization.AuthorizeResponse{IdTokenInfo: types201.IdTokenInfo{Status: types201.AuthorizationStatusAccepted}}, nil
}
func (u *upstream201) OnMeterValues(string, *meter.MeterValuesRequest) (*meter.MeterValuesResponse, error) {
	return meter.NewMeterValuesResponse(), nil
}
func (u *upstream201) OnTransactionEvent(id string, r *transactions.TransactionEventRequest) (*transactions.TransactionEventResponse, error) {
	u.mu.Lock()
	u.events = append(u.events, txEventSeen{id, r.TransactionInfo.TransactionID, string(r.EventType), r.SequenceNo})
	u.mu.Unlock()
	res := transactions.NewTransactionEventResponse()
	if r.IDToken != nil {
		// The network's verdict, recognisable: not what chargedesk would say.
		res.IDTokenInfo = &types201.IdTokenInfo{Status: types201.AuthorizationStatusBlocked}
	}
	return res, nil
}

// txEvent201 is a TransactionEvent payload of transaction id.
func txEvent201(typ string, at time.Time, seq int, id string, wh float64, extra map[string]any) map[string]any {
	trigger := map[string]string{"Started": "CablePluggedIn", "Updated": "MeterValuePeriodic", "Ended": "EVDeparted"}[typ]
	p := map[string]any{"eventType": typ, "timestamp": ts(at), "triggerReason": trigger, "seqNo": seq,
		"transactionInfo": map[string]any{"transactionId": id}, "evse": map[string]any{"id": 1, "connectorId": 1},
		"meterValue": []any{map[string]any{"timestamp": ts(at), "sampledValue": []any{map[string]any{"value": wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": map[string]any{"unit": "Wh"}}}}}}
	if typ == "Ended" {
		p["transactionInfo"] = map[string]any{"transactionId": id, "stoppedReason": "EVDisconnected"}
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// TestProxy201 runs chargedesk in proxy mode between a 2.0.1 charger and an
// independent CSMS (ocpp-go): relayed traffic both ways under the charger's
// id and message ids, learned state, chargedesk's own command kept from the
// upstream, and an outage mid-session with TransactionEvents held and
// replayed in order, seqNo intact.
func TestProxy201(t *testing.T) {
	up := startUpstream201(t, "PX-2", testPassword)
	gate := newTCPGate(t, "127.0.0.1:"+strconv.Itoa(up.port))
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *Config) {
		c.Upstream = "ws://" + gate.addr + "/ocpp"
		c.UpstreamTimeout, c.UpstreamRetry = 2*time.Second, 50*time.Millisecond
		c.Registerer = reg
	})
	e.register("PX-2")
	ctx := context.Background()
	ch := e.connect("PX-2", chargedesk.OCPP201)
	eventually(t, "upstream link up", func() bool { return e.srv.UpstreamUp("PX-2") })

	boot := decode[v201.BootNotificationResponse](t, ch.call("BootNotification", map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "V", "model": "M"}}))
	if boot.Status != v201.RegistrationStatusAccepted || boot.Interval != 77 {
		t.Fatalf("boot answer %+v: not the upstream's", boot)
	}
	ch.call("Heartbeat", map[string]any{})
	now := time.Now().Add(-time.Hour)
	ch.call("StatusNotification", map[string]any{"timestamp": ts(now), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1})
	tok := map[string]any{"idToken": "TAG-1", "type": "ISO14443"}
	ch.call("TransactionEvent", txEvent201("Started", now, 0, "TX-A", 1000, nil))
	r := decode[v201.TransactionEventResponse](t, ch.call("TransactionEvent", txEvent201("Updated", now.Add(time.Minute), 1, "TX-A", 1500, map[string]any{"idToken": tok, "triggerReason": "Authorized"})))
	if r.IDTokenInfo == nil || r.IDTokenInfo.Status != "Blocked" {
		t.Fatalf("authorized event answer %+v: not the upstream's", r)
	}
	ch.call("TransactionEvent", txEvent201("Ended", now.Add(2*time.Minute), 2, "TX-A", 2000, nil))

	want := []string{"BootNotification", "Heartbeat", "StatusNotification", "TransactionEvent", "TransactionEvent", "TransactionEvent"}
	got := up.calls()
	if len(got) != len(want) {
		t.Fatalf("upstream saw %d CALLs, want %v", len(got), want)
	}
	for i, f := range got {
		if f.charger != "PX-2" || f.msg.Action != want[i] || f.msg.ID != "t-"+strconv.Itoa(i+1) {
			t.Fatalf("upstream CALL %d: %s %s id %s", i, f.charger, f.msg.Action, f.msg.ID)
		}
	}
	if s := fmt.Sprint(up.seen()); s != "[{PX-2 TX-A Started 0} {PX-2 TX-A Updated 1} {PX-2 TX-A Ended 2}]" {
		t.Fatalf("upstream's handler saw %s", s)
	}
	tx, err := e.store.Transaction(ctx, "PX-2", "TX-A")
	if err != nil || tx.Active() || tx.MeterStopWh != 2000 || tx.IDTag != "TAG-1" || tx.SeqNo != 2 {
		t.Fatalf("stored transaction %+v %v", tx, err)
	}
	chg, _ := e.store.Charger(ctx, "PX-2")
	if chg.Vendor != "V" {
		t.Fatalf("stored charger %+v", chg)
	}

	// The upstream's commands reach the charger and their answers the
	// upstream.
	res := make(chan string, 2)
	if err := up.cs.RequestStartTransaction("PX-2", func(c *remotecontrol.RequestStartTransactionResponse, err error) {
		if err != nil {
			res <- "error: " + err.Error()
			return
		}
		res <- string(c.Status)
	}, 42, types201.IdToken{IdToken: "TAG-2", Type: types201.IdTokenTypeISO14443}); err != nil {
		t.Fatal(err)
	}
	rs := ch.expectCall("RequestStartTransaction")
	if up.sawID(rs.ID) {
		t.Fatal("test premise: the upstream's message id is unseen before the answer")
	}
	ch.reply(rs, `{"status":"Accepted"}`)
	expectResult(t, res, "Accepted")
	if !up.sawID(rs.ID) {
		t.Fatalf("the upstream's RequestStartTransaction was relayed under another id than %s", rs.ID)
	}
	if err := up.cs.Reset("PX-2", func(c *provisioning.ResetResponse, err error) {
		if err != nil {
			res <- "error: " + err.Error()
			return
		}
		res <- string(c.Status)
	}, provisioning.ResetTypeOnIdle); err != nil {
		t.Fatal(err)
	}
	ch.reply(ch.expectCall("Reset"), `{"status":"Scheduled"}`)
	expectResult(t, res, "Scheduled")

	// chargedesk's own command: to the charger, its answer not upstream.
	done := make(chan chargedesk.Result, 1)
	go func() {
		r, err := e.srv.Send(ctx, chargedesk.Command{ID: "cmd-1", ChargerID: "PX-2", Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetSoft, Timeout: 10 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	rc := ch.expectCall("Reset")
	ch.reply(rc, `{"status":"Accepted"}`)
	if r := <-done; r.Status != chargedesk.ResultAccepted {
		t.Fatalf("reset result %+v", r)
	}
	time.Sleep(100 * time.Millisecond)
	if up.sawID(rc.ID) {
		t.Fatal("the answer to chargedesk's own command reached the upstream")
	}

	// Outage mid-session: TransactionEvents answered locally and held.
	ch.call("TransactionEvent", txEvent201("Started", now.Add(time.Hour), 0, "TX-B", 5000, map[string]any{"idToken": tok}))
	gate.down()
	eventually(t, "upstream link down", func() bool { return !e.srv.UpstreamUp("PX-2") })
	before, beforeEvents := len(up.calls()), len(up.seen())
	ch.call("Heartbeat", map[string]any{})
	for i := 1; i <= 3; i++ {
		ch.call("TransactionEvent", txEvent201("Updated", now.Add(time.Hour+time.Duration(i)*time.Minute), i, "TX-B", 5000+float64(i)*100, map[string]any{"offline": true}))
	}
	lr := decode[v201.TransactionEventResponse](t, ch.call("TransactionEvent", txEvent201("Ended", now.Add(2*time.Hour), 4, "TX-B", 6000, map[string]any{"idToken": tok, "offline": true})))
	if lr.IDTokenInfo == nil || lr.IDTokenInfo.Status != "Accepted" {
		t.Fatalf("local answer %+v", lr)
	}
	if v := testutil.ToFloat64(e.srv.metrics.upstreamHeld.WithLabelValues("PX-2")); v != 4 {
		t.Fatalf("held metric %v, want 4", v)
	}
	if ltx, err := e.store.Transaction(ctx, "PX-2", "TX-B"); err != nil || ltx.Active() || ltx.MeterStopWh != 6000 || ltx.SeqNo != 4 {
		t.Fatalf("transaction during the outage %+v %v", ltx, err)
	}

	gate.up()
	eventually(t, "held messages delivered", func() bool {
		n, _ := e.store.CountHeldUpstream(ctx, "PX-2")
		return n == 0 && len(up.seen()) >= beforeEvents+4
	})
	var ids []string
	for _, f := range up.calls()[before:] {
		ids = append(ids, f.msg.Action+" "+f.msg.ID)
	}
	if s := strings.Join(ids, ","); s != "TransactionEvent t-9,TransactionEvent t-10,TransactionEvent t-11,TransactionEvent t-12" {
		t.Fatalf("replayed %s (the Heartbeat, answered locally, is not held)", s)
	}
	if s := fmt.Sprint(up.seen()[beforeEvents:]); s != "[{PX-2 TX-B Updated 1} {PX-2 TX-B Updated 2} {PX-2 TX-B Updated 3} {PX-2 TX-B Ended 4}]" {
		t.Fatalf("upstream's handler saw %s after the outage", s)
	}
	for _, f := range up.calls()[before:] {
		var p struct {
			Offline bool `json:"offline"`
		}
		if json.Unmarshal(f.msg.Payload, &p) != nil || !p.Offline {
			t.Fatalf("replayed payload changed: %s", f.msg.Payload)
		}
	}
	if v := testutil.ToFloat64(e.srv.metrics.upstreamHeld.WithLabelValues("PX-2")); v != 0 {
		t.Fatalf("held metric %v after delivery", v)
	}
	ch.call("Heartbeat", map[string]any{})
	if c := up.calls(); c[len(c)-1].msg.Action != "Heartbeat" || c[len(c)-1].msg.Type != ocpp.Call {
		t.Fatalf("after the outage the upstream saw %s last", c[len(c)-1].msg.Action)
	}
}

func expectResult(t *testing.T, res <-chan string, want string) {
	t.Helper()
	select {
	case s := <-res:
		if s != want {
			t.Fatalf("upstream got %s, want %s", s, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("upstream got no answer")
	}
}
