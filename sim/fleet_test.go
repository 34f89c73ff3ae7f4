package sim

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/sqlstore"
)

func fastTune(c *ChargerConfig) {
	c.RebootDelay = 100 * time.Millisecond
	c.BackoffMin, c.BackoffMax = 20*time.Millisecond, 200*time.Millisecond
	c.CallTimeout = 5 * time.Second
	c.Settings = map[string]string{keyMeterValueSampleInterval: "1"}
}

// runFleet runs f until the test ends.
func runFleet(t *testing.T, f *Fleet) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("fleet: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("fleet did not stop")
		}
		if n := f.Stats().Counters.InvalidOutgoing; n != 0 {
			t.Errorf("fleet built %d invalid frames", n)
		}
	})
}

func waitFleet(ctx context.Context, t *testing.T, f *Fleet, what string, cond func(FleetStats) bool) FleetStats {
	t.Helper()
	for {
		s := f.Stats()
		if cond(s) {
			return s
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("fleet: timed out waiting for %s: %+v", what, s)
		}
	}
}

func TestFleetAgainstTestCSMS(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	net := GenerateNetwork(7, 12)
	f, err := NewFleet(FleetConfig{URL: m.url, Chargers: net.Chargers, ConnectRate: 200, Validator: testValidator, Tune: fastTune})
	if err != nil {
		t.Fatal(err)
	}
	runFleet(t, f)
	s := waitFleet(ctx, t, f, "all connected", func(s FleetStats) bool { return s.Connected == 12 })
	if s.Counters.Boots < 12 {
		t.Errorf("boots %d", s.Counters.Boots)
	}
	sum := f.Summary()
	if !strings.Contains(sum, "12/12 connected") || !strings.Contains(sum, "msg/s") {
		t.Errorf("summary %q", sum)
	}
	if f.Charger(net.Chargers[3].ID) == nil || f.Charger("nope") != nil {
		t.Error("Charger lookup")
	}
	if _, err := NewFleet(FleetConfig{URL: m.url, Chargers: append(net.Chargers[:1:1], net.Chargers[0]), Validator: testValidator}); err == nil {
		t.Error("a fleet with a duplicate id was accepted")
	}
}

// realCSMS starts chargedesk's own central system on a SQLite store.
func realCSMS(t *testing.T) (*csms.Server, *sqlstore.Store, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv, err := csms.New(ctx, csms.Config{Node: "sim-test", Store: store, Validator: testValidator,
		FlushInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = srv.Run(ctx) }()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		cancel()
		<-runDone
		store.Close()
	})
	return srv, store, "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp"
}

func TestFleetAgainstChargedeskCSMS(t *testing.T) {
	ctx := testCtx(t)
	srv, store, url := realCSMS(t)
	net := GenerateNetwork(11, 8)
	for _, c := range net.Chargers {
		if _, err := store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: c.ID,
			PasswordHash: chargedesk.HashPassword(c.Password), BootStatus: chargedesk.RegistrationAccepted}); err != nil {
			t.Fatal(err)
		}
	}
	tag := net.Drivers[0].IDTags[0]
	if err := store.PutToken(ctx, &chargedesk.Token{IDTag: tag, Status: chargedesk.AuthAccepted}); err != nil {
		t.Fatal(err)
	}
	f, err := NewFleet(FleetConfig{URL: url, Chargers: net.Chargers, ConnectRate: 100, Validator: testValidator, Tune: fastTune})
	if err != nil {
		t.Fatal(err)
	}
	runFleet(t, f)
	waitFleet(ctx, t, f, "all connected", func(s FleetStats) bool { return s.Connected == len(net.Chargers) })

	// One charger of each version: remote start, then remote stop, through
	// chargedesk's own commands.
	seen := map[chargedesk.Protocol]bool{}
	for _, spec := range net.Chargers {
		if seen[spec.Protocol] {
			continue
		}
		seen[spec.Protocol] = true
		t.Run(string(spec.Protocol), func(t *testing.T) {
			c := f.Charger(spec.ID)
			if err := c.PlugIn(ctx, 1); err != nil {
				t.Fatal(err)
			}
			res, err := srv.Send(ctx, chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: spec.ID, ConnectorID: 1, IDTag: tag, Timeout: 5 * time.Second})
			if err != nil || res.Status != chargedesk.ResultAccepted {
				t.Fatalf("remote start: %+v %v", res, err)
			}
			s := waitState(ctx, t, c, "transaction", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
			txid := s.Connector(1).TransactionID
			for {
				tx, err := store.Transaction(ctx, spec.ID, txid)
				if err == nil && tx.Active() && tx.IDTag == tag {
					break
				}
				select {
				case <-time.After(20 * time.Millisecond):
				case <-ctx.Done():
					t.Fatalf("transaction %s not stored: %v", txid, err)
				}
			}
			res, err = srv.Send(ctx, chargedesk.Command{Kind: chargedesk.CmdRemoteStop, ChargerID: spec.ID, TransactionID: txid, Timeout: 5 * time.Second})
			if err != nil || res.Status != chargedesk.ResultAccepted {
				t.Fatalf("remote stop: %+v %v", res, err)
			}
			waitState(ctx, t, c, "stopped", func(s Snapshot) bool { return s.Connector(1).TransactionID == "" })
			for {
				tx, err := store.Transaction(ctx, spec.ID, txid)
				if err == nil && !tx.Active() {
					break
				}
				select {
				case <-time.After(20 * time.Millisecond):
				case <-ctx.Done():
					t.Fatalf("transaction %s not stopped in the store: %v", txid, err)
				}
			}
		})
	}
	if s := f.Stats(); s.Counters.CallErrorsReceived != 0 {
		t.Errorf("the CSMS answered %d CALLs with errors", s.Counters.CallErrorsReceived)
	}
}
