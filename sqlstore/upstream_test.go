package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestUpstreamSQLite(t *testing.T) { runUpstreamConformance(t, sqliteBackend) }

func TestUpstreamPostgres(t *testing.T) { runUpstreamConformance(t, postgresBackend(t)) }

func TestUpstreamRoutesSQLite(t *testing.T) { runUpstreamRoutesConformance(t, sqliteBackend) }

func TestUpstreamRoutesPostgres(t *testing.T) { runUpstreamRoutesConformance(t, postgresBackend(t)) }

// runUpstreamRoutesConformance checks operators' routes (stored, replaced,
// found by change time, refused when invalid) and the recorded link states
// (a state older than the stored one, from a node that held the charger
// before, does not overwrite it).
func runUpstreamRoutesConformance(t *testing.T, b backend) {
	ctx := context.Background()
	s := openStore(t, b.newDSN(t))
	if _, err := s.UpstreamRoute(ctx, "CP-A"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Fatalf("no route yet: %v", err)
	}
	before := time.Now().Add(-time.Second)
	r := &chargedesk.UpstreamRoute{ChargerID: "CP-A", URL: "wss://csms.example.net/ocpp", Auth: chargedesk.UpstreamAuthBasic,
		Username: "CP-A", Password: "s3cret pass", UpdatedBy: "operator:ops"}
	if err := s.PutUpstreamRoute(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.UpdatedAt.IsZero() {
		t.Fatal("UpdatedAt not set")
	}
	got, err := s.UpstreamRoute(ctx, "CP-A")
	if err != nil || *got != *r {
		t.Fatalf("route: %+v %v, want %+v", got, err, r)
	}
	for _, bad := range []chargedesk.UpstreamRoute{
		{ChargerID: "CP-A", URL: "http://csms.example.net", Auth: chargedesk.UpstreamAuthForward},
		{ChargerID: "CP-A", URL: "ws://user:pw@csms.example.net", Auth: chargedesk.UpstreamAuthForward},
		{ChargerID: "CP-A", Auth: chargedesk.UpstreamAuthBasic},
		{ChargerID: "CP-A", Auth: chargedesk.UpstreamAuthNone, Password: "x"},
		{ChargerID: "CP-A", Auth: chargedesk.UpstreamAuthBasic, Username: "a:b"},
		{ChargerID: "CP-A", Auth: "token"},
		{ChargerID: "bad id with spaces", Auth: chargedesk.UpstreamAuthForward},
	} {
		if err := s.PutUpstreamRoute(ctx, &bad); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", bad, err)
		}
	}
	// Back to the defaults: the route stays, as a change the node sees.
	if err := s.PutUpstreamRoute(ctx, &chargedesk.UpstreamRoute{ChargerID: "CP-A", Auth: chargedesk.UpstreamAuthForward}); err != nil {
		t.Fatal(err)
	}
	changed, err := s.UpstreamRoutesChanged(ctx, before)
	if err != nil || len(changed) != 1 || changed[0].URL != "" || changed[0].Password != "" {
		t.Fatalf("changed routes: %+v %v", changed, err)
	}
	if changed, err := s.UpstreamRoutesChanged(ctx, time.Now().Add(time.Hour)); err != nil || len(changed) != 0 {
		t.Fatalf("changed after the last change: %+v %v", changed, err)
	}

	if _, err := s.UpstreamLink(ctx, "CP-A"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Fatalf("no link yet: %v", err)
	}
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	down := chargedesk.UpstreamLink{ChargerID: "CP-A", Node: "node-1", URL: "ws://up/ocpp", Up: false, Since: t0,
		LastError: "upstream refused: HTTP 503", DialFailures: 3, UpdatedAt: t0}
	up := chargedesk.UpstreamLink{ChargerID: "CP-A", Node: "node-2", URL: "ws://up/ocpp", Up: true, Since: t0.Add(time.Second),
		Relayed: 12, RelayMeanUS: 180, RelayMaxUS: 900, UpdatedAt: t0.Add(time.Second)}
	other := chargedesk.UpstreamLink{ChargerID: "CP-B", Node: "node-1", URL: "ws://up/ocpp", Up: true, Since: t0, UpdatedAt: t0}
	if err := s.RecordUpstreamLinks(ctx, []chargedesk.UpstreamLink{up, other}); err != nil {
		t.Fatal(err)
	}
	// node-1's older state arrives late: kept out.
	if err := s.RecordUpstreamLinks(ctx, []chargedesk.UpstreamLink{down}); err != nil {
		t.Fatal(err)
	}
	l, err := s.UpstreamLink(ctx, "CP-A")
	if err != nil || *l != up {
		t.Fatalf("link: %+v %v, want %+v", l, err, up)
	}
	down.UpdatedAt, down.Since = t0.Add(2*time.Second), t0.Add(2*time.Second)
	if err := s.RecordUpstreamLinks(ctx, []chargedesk.UpstreamLink{down}); err != nil {
		t.Fatal(err)
	}
	if l, err := s.UpstreamLink(ctx, "CP-A"); err != nil || *l != down {
		t.Fatalf("newer link state: %+v %v, want %+v", l, err, down)
	}
}

// runUpstreamConformance checks the proxy-mode outbox: held messages come
// back in order per charger, are released one by one, and their seqs are
// never reused; local transaction ids map to the upstream's.
func runUpstreamConformance(t *testing.T, b backend) {
	ctx := context.Background()
	s := openStore(t, b.newDSN(t))
	hold := func(charger, id, action string) int64 {
		t.Helper()
		m := &chargedesk.HeldMessage{ChargerID: charger, Protocol: chargedesk.OCPP16, MessageID: id, Action: action, Payload: []byte(`{"a":1}`)}
		if err := s.HoldUpstream(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m.Seq
	}
	a1 := hold("CP-A", "1", "StartTransaction")
	b1 := hold("CP-B", "1", "MeterValues")
	a2 := hold("CP-A", "2", "StopTransaction")
	if !(a1 < b1 && b1 < a2) {
		t.Fatalf("seqs %d %d %d not increasing", a1, b1, a2)
	}
	got, err := s.HeldUpstream(ctx, "CP-A", 10)
	if err != nil || len(got) != 2 || got[0].Seq != a1 || got[1].Action != "StopTransaction" || string(got[0].Payload) != `{"a":1}` || got[0].HeldAt.IsZero() {
		t.Fatalf("held CP-A: %+v %v", got, err)
	}
	if n, err := s.CountHeldUpstream(ctx, "CP-A"); err != nil || n != 2 {
		t.Fatalf("count %d %v", n, err)
	}
	if err := s.ReleaseUpstream(ctx, "CP-A", a1); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseUpstream(ctx, "CP-A", a2); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountHeldUpstream(ctx, "CP-A"); n != 0 {
		t.Fatalf("after release: %d held", n)
	}
	if c := hold("CP-A", "3", "StartTransaction"); c <= a2 {
		t.Fatalf("seq %d reused (last %d)", c, a2)
	}
	if err := s.HoldUpstream(ctx, &chargedesk.HeldMessage{ChargerID: "CP-A", Protocol: chargedesk.OCPP16, MessageID: "x", Action: "Heartbeat"}); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Fatalf("empty payload: %v", err)
	}

	if _, err := s.UpstreamTransaction(ctx, "CP-A", "1500000001"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Fatalf("unmapped: %v", err)
	}
	if err := s.MapUpstreamTransaction(ctx, "CP-A", "1500000001", "77"); err != nil {
		t.Fatal(err)
	}
	if err := s.MapUpstreamTransaction(ctx, "CP-A", "1500000001", "78"); err != nil {
		t.Fatal(err)
	}
	if id, err := s.UpstreamTransaction(ctx, "CP-A", "1500000001"); err != nil || id != "78" {
		t.Fatalf("mapped: %q %v", id, err)
	}
	if id, err := s.LocalTransaction(ctx, "CP-A", "78"); err != nil || id != "1500000001" {
		t.Fatalf("local id of 78: %q %v", id, err)
	}
	if _, err := s.LocalTransaction(ctx, "CP-B", "78"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Fatalf("another charger's: %v", err)
	}
	if _, err := s.LocalTransaction(ctx, "CP-A", "77"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Fatalf("replaced mapping: %v", err)
	}
	// An upstream that reuses an id: the latest local transaction wins.
	if err := s.MapUpstreamTransaction(ctx, "CP-A", "1500000012", "78"); err != nil {
		t.Fatal(err)
	}
	if id, err := s.LocalTransaction(ctx, "CP-A", "78"); err != nil || id != "1500000012" {
		t.Fatalf("local id of reused 78: %q %v", id, err)
	}
}
