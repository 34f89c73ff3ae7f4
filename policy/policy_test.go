package policy

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// fakeCommander records what reaches the chargers.
type fakeCommander struct {
	sent []chargedesk.Command
	res  chargedesk.Result
	err  error
}

var _ chargedesk.Commander = (*fakeCommander)(nil)

func (f *fakeCommander) Send(_ context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	f.sent = append(f.sent, cmd)
	return f.res, f.err
}

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func setup(t testing.TB) (*sqlstore.Store, *Gateway, *fakeCommander) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, id := range []string{"CP-1", "CP-PENDING", "CP-201", "CP-REJECTED"} {
		if _, err := store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, BootStatus: chargedesk.RegistrationAccepted}); err != nil {
			t.Fatal(err)
		}
	}
	boot := func(id string, s chargedesk.RegistrationStatus) {
		if _, err := store.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error { c.BootStatus = s; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	boot("CP-1", chargedesk.RegistrationAccepted)
	boot("CP-201", chargedesk.RegistrationAccepted)
	boot("CP-PENDING", chargedesk.RegistrationPending)
	boot("CP-REJECTED", chargedesk.RegistrationRejected)
	for id, p := range map[string]chargedesk.Protocol{"CP-1": chargedesk.OCPP16, "CP-201": chargedesk.OCPP201} {
		if _, err := store.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error { c.Protocol = p; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for tag, st := range map[string]chargedesk.AuthStatus{"GOOD": chargedesk.AuthAccepted, "BLOCKED": chargedesk.AuthBlocked, "INVALID": chargedesk.AuthInvalid} {
		if err := store.PutToken(ctx, &chargedesk.Token{IDTag: tag, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.PutToken(ctx, &chargedesk.Token{IDTag: "OLD", Status: chargedesk.AuthAccepted, ExpiresAt: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	next := &fakeCommander{res: chargedesk.Result{Status: chargedesk.ResultAccepted}}
	g := &Gateway{Policy: &Rules{Store: store, Now: func() time.Time { return now }}, Audit: store, Next: next,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	return store, g, next
}

func TestRules(t *testing.T) {
	tests := []struct {
		name       string
		cmd        chargedesk.Command
		active     bool // transaction 1 runs on connector 2 of CP-1 and tx-9 on EVSE 2 of CP-201
		wantAllow  bool
		wantReason string
	}{
		{"remote start with a valid token", chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-1", IDTag: "GOOD"}, false, true, ""},
		{"remote start with a blocked token", chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-1", IDTag: "BLOCKED"}, false, false, "token BLOCKED is Blocked"},
		{"remote start with an invalid token", chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-1", IDTag: "INVALID"}, false, false, "is Invalid"},
		{"remote start with an expired token", chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-1", IDTag: "OLD"}, false, false, "is Expired"},
		{"remote start with an unknown token", chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-1", IDTag: "WHO"}, false, false, "unknown"},
		{"remote start on a pending charger", chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-PENDING", IDTag: "GOOD"}, false, false, "boot status"},
		{"unknown charger", chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP-9"}, false, false, "not registered"},
		{"hard reset while charging", chargedesk.Command{Kind: chargedesk.CmdReset, ChargerID: "CP-1", ResetType: chargedesk.ResetHard}, true, false, "Hard reset refused"},
		{"hard reset when idle", chargedesk.Command{Kind: chargedesk.CmdReset, ChargerID: "CP-1", ResetType: chargedesk.ResetHard}, false, true, ""},
		{"1.6 soft reset while charging ends the session", chargedesk.Command{Kind: chargedesk.CmdReset, ChargerID: "CP-1", ResetType: chargedesk.ResetSoft}, true, false, "Soft reset refused"},
		{"2.0.1 soft reset while charging waits", chargedesk.Command{Kind: chargedesk.CmdReset, ChargerID: "CP-201", ResetType: chargedesk.ResetSoft}, true, true, ""},
		{"2.0.1 hard reset while charging", chargedesk.Command{Kind: chargedesk.CmdReset, ChargerID: "CP-201", ResetType: chargedesk.ResetHard}, true, false, "tx-9"},
		{"unlock the connector of a running session", chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-1", ConnectorID: 2}, true, false, "stop it first"},
		{"unlock another connector", chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-1", ConnectorID: 1}, true, true, ""},
		{"remote stop of a running session", chargedesk.Command{Kind: chargedesk.CmdRemoteStop, ChargerID: "CP-1", TransactionID: "1"}, true, true, ""},
		{"remote stop of an unknown transaction", chargedesk.Command{Kind: chargedesk.CmdRemoteStop, ChargerID: "CP-1", TransactionID: "77"}, true, false, "no transaction 77"},
		{"remote stop of another charger's transaction", chargedesk.Command{Kind: chargedesk.CmdRemoteStop, ChargerID: "CP-201", TransactionID: "1"}, true, false, "no transaction 1"},
		{"anything but a trigger to a rejected charger", chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP-REJECTED"}, false, false, "rejected"},
		{"a trigger to a rejected charger", chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ChargerID: "CP-REJECTED", Trigger: "BootNotification"}, false, true, ""},
		{"local list accepting a blocked token", chargedesk.Command{Kind: chargedesk.CmdSendLocalList, ChargerID: "CP-1", ListVersion: 2, UpdateType: chargedesk.UpdateFull,
			LocalList: []chargedesk.LocalListEntry{{IDTag: "GOOD", Status: chargedesk.AuthAccepted}, {IDTag: "BLOCKED", Status: chargedesk.AuthAccepted}}}, false, false, "would accept token BLOCKED"},
		{"local list with the backend's verdicts", chargedesk.Command{Kind: chargedesk.CmdSendLocalList, ChargerID: "CP-1", ListVersion: 2, UpdateType: chargedesk.UpdateFull,
			LocalList: []chargedesk.LocalListEntry{{IDTag: "GOOD", Status: chargedesk.AuthAccepted}, {IDTag: "BLOCKED", Status: chargedesk.AuthBlocked}}}, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, g, _ := setup(t)
			if tt.active {
				if _, err := store.StartTransaction(context.Background(), &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 2, IDTag: "GOOD", StartedAt: now}); err != nil {
					t.Fatal(err)
				}
				if _, err := store.StartTransaction(context.Background(), &chargedesk.Transaction{ID: "tx-9", ChargerID: "CP-201", ConnectorID: 2, IDTag: "GOOD", StartedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			d, err := g.Policy.Check(context.Background(), tt.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.wantAllow || !strings.Contains(d.Reason, tt.wantReason) {
				t.Fatalf("decision %+v, want allowed=%v with reason containing %q", d, tt.wantAllow, tt.wantReason)
			}
		})
	}
}

func TestGatewayAuditsDecisionAndOutcome(t *testing.T) {
	store, g, next := setup(t)
	ctx := context.Background()
	res, err := g.Send(ctx, chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-1", ConnectorID: 1, Actor: "operator:alice", Reason: "driver call"})
	if err != nil || res.Status != chargedesk.ResultAccepted || res.CommandID == "" {
		t.Fatalf("result %+v, %v", res, err)
	}
	if len(next.sent) != 1 || next.sent[0].ID != res.CommandID {
		t.Fatalf("sent %+v", next.sent)
	}
	entries, err := store.AuditEntries(ctx, chargedesk.AuditFilter{CommandID: res.CommandID})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Stage != chargedesk.AuditDecision || !entries[0].Allowed ||
		entries[1].Stage != chargedesk.AuditOutcome || entries[1].Outcome != "Accepted" || entries[0].Actor != "operator:alice" {
		t.Fatalf("audit entries %+v", entries)
	}
	if err := store.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestGatewayRefusalSendsNothing(t *testing.T) {
	store, g, next := setup(t)
	ctx := context.Background()
	res, err := g.Send(ctx, chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP-1", IDTag: "BLOCKED", Actor: "agent:conv-1"})
	if err != nil || res.Status != chargedesk.ResultRefused || !strings.Contains(res.Detail, "Blocked") {
		t.Fatalf("result %+v, %v", res, err)
	}
	if len(next.sent) != 0 {
		t.Fatalf("a refused command was sent: %+v", next.sent)
	}
	entries, _ := store.AuditEntries(ctx, chargedesk.AuditFilter{CommandID: res.CommandID})
	if len(entries) != 1 || entries[0].Allowed || entries[0].Outcome != "Refused" {
		t.Fatalf("audit entries %+v", entries)
	}
}

func TestGatewayNeedsActorAndValidCommand(t *testing.T) {
	_, g, next := setup(t)
	for _, cmd := range []chargedesk.Command{
		{Kind: chargedesk.CmdClearCache, ChargerID: "CP-1"},
		{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP-1", Actor: "operator:alice"},
	} {
		if _, err := g.Send(context.Background(), cmd); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Errorf("%+v: err %v, want invalid", cmd, err)
		}
	}
	if len(next.sent) != 0 {
		t.Fatalf("sent %+v", next.sent)
	}
}

// failingAudit refuses every append.
type failingAudit struct{ chargedesk.AuditLog }

func (failingAudit) AppendAudit(context.Context, *chargedesk.AuditEntry) error {
	return errors.New("disk full")
}

func TestGatewayDoesNotSendUnaudited(t *testing.T) {
	_, g, next := setup(t)
	g.Audit = failingAudit{}
	_, err := g.Send(context.Background(), chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP-1", Actor: "operator:alice"})
	if chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
		t.Fatalf("err %v, want unavailable", err)
	}
	if len(next.sent) != 0 {
		t.Fatal("a command whose decision could not be audited was sent")
	}
}

func TestGatewayAuditsSendErrors(t *testing.T) {
	store, g, next := setup(t)
	next.err = chargedesk.Errorf(chargedesk.EUNAVAILABLE, "bus down")
	_, err := g.Send(context.Background(), chargedesk.Command{ID: "c-1", Kind: chargedesk.CmdClearCache, ChargerID: "CP-1", Actor: "operator:alice"})
	if chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
		t.Fatalf("err %v", err)
	}
	entries, _ := store.AuditEntries(context.Background(), chargedesk.AuditFilter{CommandID: "c-1"})
	if len(entries) != 2 || entries[1].Outcome != "Error" || !strings.Contains(entries[1].Reason, "bus down") {
		t.Fatalf("audit entries %+v", entries)
	}
}

// blockingCommander waits for its context and reports how it ended.
type blockingCommander struct{ ended chan error }

func (b blockingCommander) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	select {
	case <-ctx.Done():
		b.ended <- ctx.Err()
		return chargedesk.Result{Status: chargedesk.ResultTimeout}, nil
	case <-time.After(300 * time.Millisecond):
		b.ended <- nil
		return chargedesk.Result{Status: chargedesk.ResultAccepted}, nil
	}
}

func TestGatewayOutlivesItsCaller(t *testing.T) {
	store, g, _ := setup(t)
	next := blockingCommander{ended: make(chan error, 1)}
	g.Next = next
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }() // the API client hangs up
	_, _ = g.Send(ctx, chargedesk.Command{ID: "c-gone", Kind: chargedesk.CmdClearCache, ChargerID: "CP-1", Actor: "operator:alice"})
	if err := <-next.ended; err != nil {
		t.Fatalf("the command was cut short by the caller: %v", err)
	}
	entries, _ := store.AuditEntries(context.Background(), chargedesk.AuditFilter{CommandID: "c-gone"})
	if len(entries) != 2 || entries[1].Outcome != "Accepted" {
		t.Fatalf("audit %+v, want the charger's answer recorded", entries)
	}
}
