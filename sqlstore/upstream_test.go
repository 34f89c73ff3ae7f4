package sqlstore

import (
	"context"
	"testing"

	"github.com/chargedesk/chargedesk"
)

func TestUpstreamSQLite(t *testing.T) { runUpstreamConformance(t, sqliteBackend) }

func TestUpstreamPostgres(t *testing.T) { runUpstreamConformance(t, postgresBackend(t)) }

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
