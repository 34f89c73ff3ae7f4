package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func agentCmd(kind chargedesk.CommandKind, f func(*chargedesk.Command)) chargedesk.Command {
	c := chargedesk.Command{Kind: kind, ChargerID: "CP-1", Actor: "agent:conv-1", DriverID: "D-ALICE"}
	if f != nil {
		f(&c)
	}
	return c
}

// agentSetup adds drivers' tokens and two transactions on CP-1: Bob's live
// session on connector 2 and a stale one of Carol's on connector 3.
func agentSetup(t *testing.T) *Rules {
	store, g, _ := setup(t)
	ctx := context.Background()
	for tag, d := range map[string]string{"ALICE-1": "D-ALICE", "BOB-1": "D-BOB", "CAROL-1": "D-CAROL"} {
		if err := store.PutToken(ctx, &chargedesk.Token{IDTag: tag, Status: chargedesk.AuthAccepted, DriverID: d}); err != nil {
			t.Fatal(err)
		}
	}
	live, err := store.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 2, IDTag: "BOB-1", StartedAt: now.Add(-time.Hour), LastMeterAt: now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	old, err := store.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 3, IDTag: "CAROL-1", StartedAt: now.Add(-3 * time.Hour), LastMeterAt: now.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range map[int]chargedesk.ConnectorStatus{2: chargedesk.StatusCharging, 3: chargedesk.StatusFinishing} {
		if err := store.PutConnector(ctx, chargedesk.Connector{ChargerID: "CP-1", ID: id, Status: st, StatusAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if live.ID != "1" || old.ID != "2" {
		t.Fatalf("ids %s %s", live.ID, old.ID)
	}
	return g.Policy.(*Rules)
}

func TestAgentRules(t *testing.T) {
	tests := []struct {
		name   string
		cmd    chargedesk.Command
		allow  bool
		reason string
	}{
		{"remote start with the caller's token", agentCmd(chargedesk.CmdRemoteStart, func(c *chargedesk.Command) { c.IDTag, c.ConnectorID = "ALICE-1", 1 }), true, ""},
		{"remote start with another driver's token", agentCmd(chargedesk.CmdRemoteStart, func(c *chargedesk.Command) { c.IDTag = "BOB-1" }), false, "does not belong"},
		{"remote start without a verified caller", agentCmd(chargedesk.CmdRemoteStart, func(c *chargedesk.Command) { c.IDTag, c.DriverID = "ALICE-1", "" }), false, "verified"},
		{"stop someone else's live session", agentCmd(chargedesk.CmdRemoteStop, func(c *chargedesk.Command) { c.TransactionID = "1" }), false, "live session"},
		{"stop the caller's own session", agentCmd(chargedesk.CmdRemoteStop, func(c *chargedesk.Command) { c.TransactionID, c.DriverID = "1", "D-BOB" }), true, ""},
		{"stop a stale session", agentCmd(chargedesk.CmdRemoteStop, func(c *chargedesk.Command) { c.TransactionID = "2" }), true, ""},
		{"unlock someone else's session", agentCmd(chargedesk.CmdUnlockConnector, func(c *chargedesk.Command) { c.ConnectorID = 2 }), false, "stop it first"},
		{"hard reset", agentCmd(chargedesk.CmdReset, func(c *chargedesk.Command) { c.ResetType = chargedesk.ResetHard }), false, ""},
		{"configuration change", agentCmd(chargedesk.CmdChangeConfiguration, func(c *chargedesk.Command) { c.Key, c.Value = "AuthorizeRemoteTxRequests", "false" }), false, "may not send"},
		{"full local list", agentCmd(chargedesk.CmdSendLocalList, func(c *chargedesk.Command) { c.UpdateType, c.ListVersion = "Full", 3 }), false, "differential"},
		{"status trigger", agentCmd(chargedesk.CmdTriggerMessage, func(c *chargedesk.Command) { c.Trigger = "StatusNotification" }), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := agentSetup(t)
			d, err := r.Check(context.Background(), tt.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.allow || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("decision %+v, want allowed=%v with %q", d, tt.allow, tt.reason)
			}
		})
	}
}

// TestAgentAllowedKinds: an operator narrows what the agent may send (a
// network beside its own CSMS lets it only unlock and trigger); operators
// are not narrowed, and the list cannot widen the agent's kinds.
func TestAgentAllowedKinds(t *testing.T) {
	r := agentSetup(t)
	r.AgentLimits.Allowed = []chargedesk.CommandKind{chargedesk.CmdUnlockConnector, chargedesk.CmdTriggerMessage, chargedesk.CmdChangeConfiguration}
	ctx := context.Background()
	start := agentCmd(chargedesk.CmdRemoteStart, func(c *chargedesk.Command) { c.IDTag, c.ConnectorID = "ALICE-1", 1 })
	if d, _ := r.Check(ctx, start); d.Allowed || !strings.Contains(d.Reason, "does not let the support agent send RemoteStart") {
		t.Fatalf("remote start outside the allowed kinds: %+v", d)
	}
	op := start
	op.Actor = "operator:alice"
	if d, _ := r.Check(ctx, op); !d.Allowed {
		t.Fatalf("an operator's remote start: %+v", d)
	}
	if d, _ := r.Check(ctx, agentCmd(chargedesk.CmdTriggerMessage, func(c *chargedesk.Command) { c.Trigger = "StatusNotification" })); !d.Allowed {
		t.Fatalf("allowed trigger: %+v", d)
	}
	conf := agentCmd(chargedesk.CmdChangeConfiguration, func(c *chargedesk.Command) { c.Key, c.Value = "HeartbeatInterval", "60" })
	if d, _ := r.Check(ctx, conf); d.Allowed {
		t.Fatalf("the allowed list widened the agent's kinds: %+v", d)
	}
}

func TestAgentKillSwitch(t *testing.T) {
	r := agentSetup(t)
	trigger := agentCmd(chargedesk.CmdTriggerMessage, func(c *chargedesk.Command) { c.Trigger = "Heartbeat" })
	r.SetAgentEnabled(false)
	if d, _ := r.Check(context.Background(), trigger); d.Allowed || !strings.Contains(d.Reason, "kill switch") {
		t.Fatalf("agent command with the switch off: %+v", d)
	}
	op := trigger
	op.Actor = "operator:alice"
	if d, _ := r.Check(context.Background(), op); !d.Allowed {
		t.Fatalf("operator command with the agent switched off: %+v", d)
	}
	r.SetAgentEnabled(true)
	if d, _ := r.Check(context.Background(), trigger); !d.Allowed {
		t.Fatalf("agent command with the switch on: %+v", d)
	}
}

func TestAgentRetriesAndRates(t *testing.T) {
	r := agentSetup(t)
	ctx := context.Background()
	unlock := agentCmd(chargedesk.CmdUnlockConnector, func(c *chargedesk.Command) { c.ConnectorID = 1 })
	for i, want := range []bool{true, true, false} { // one try, one retry, then no more
		d, _ := r.Check(ctx, unlock)
		if d.Allowed != want {
			t.Fatalf("unlock %d: %+v", i+1, d)
		}
	}
	// Other chargers and conversations are not affected by this one's
	// retries, but the per-charger limit holds for everyone.
	r.AgentLimits.PerCharger = 4
	other := agentCmd(chargedesk.CmdTriggerMessage, func(c *chargedesk.Command) { c.Trigger = "Heartbeat"; c.Actor = "agent:conv-2" })
	if d, _ := r.Check(ctx, other); !d.Allowed {
		t.Fatalf("another conversation: %+v", d)
	}
	other.Trigger = "StatusNotification"
	if d, _ := r.Check(ctx, other); !d.Allowed {
		t.Fatalf("fourth command on the charger: %+v", d)
	}
	other.Trigger = "MeterValues"
	if d, _ := r.Check(ctx, other); d.Allowed || !strings.Contains(d.Reason, "per charger") {
		t.Fatalf("fifth command on the charger: %+v", d)
	}
}

func TestStale201(t *testing.T) {
	after := 5 * time.Minute
	ch := &chargedesk.Charger{ID: "CP-2", Connectors: []chargedesk.Connector{{ID: 1, Status: chargedesk.StatusOccupied}}}
	tests := []struct {
		name  string
		state string
		// rose is how long ago the register last rose, read how long
		// ago the latest reading was taken, heard how long ago the
		// charger last reported the transaction.
		rose, read, heard time.Duration
		want              bool
	}{
		{"charging, energy rising", "Charging", time.Minute, time.Minute, time.Minute, false},
		{"charging, flat but no reading since", "Charging", 6 * time.Minute, 6 * time.Minute, 6 * time.Minute, false},
		{"charging, fresh reading shows the register flat", "Charging", 10 * time.Minute, 10 * time.Second, 10 * time.Second, true},
		{"charging, flat reading too short", "Charging", 4 * time.Minute, 10 * time.Second, 10 * time.Second, false},
		{"charging, flat reading not fresh", "Charging", 20 * time.Minute, 3 * time.Minute, 3 * time.Minute, false},
		{"charging, silent for long", "Charging", 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, true},
		{"car paused, silent for long", "SuspendedEV", 3 * time.Hour, 3 * time.Hour, 3 * time.Hour, false},
		{"connected, not charging, no energy", "EVConnected", 6 * time.Minute, time.Minute, time.Minute, true},
		{"connected, energy a minute ago", "EVConnected", time.Minute, time.Minute, time.Minute, false},
		{"idle, no energy", "Idle", 6 * time.Minute, 6 * time.Minute, 10 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := &chargedesk.Transaction{ID: "t", ChargerID: "CP-2", ConnectorID: 1, StartedAt: now.Add(-2 * time.Hour),
				EnergyAt: now.Add(-tt.rose), LastMeterAt: now.Add(-tt.read), UpdatedAt: now.Add(-tt.heard), ChargingState: tt.state}
			if got := Stale(ch, tx, now, after); got != tt.want {
				t.Fatalf("stale = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStale16(t *testing.T) {
	after := 5 * time.Minute
	tests := []struct {
		name   string
		status chargedesk.ConnectorStatus
		rose   time.Duration
		want   bool
	}{
		{"finishing, no energy for 10 minutes", chargedesk.StatusFinishing, 10 * time.Minute, true},
		{"finishing, energy 2 minutes ago", chargedesk.StatusFinishing, 2 * time.Minute, false},
		{"charging, register flat", chargedesk.StatusCharging, time.Hour, false},
		{"suspended by the car", chargedesk.StatusSuspendedEV, time.Hour, false},
		{"available with a transaction open", chargedesk.StatusAvailable, 6 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := &chargedesk.Charger{ID: "CP-1", Connectors: []chargedesk.Connector{{ID: 1, Status: tt.status}}}
			// Periodic readings keep coming; only the register tells.
			tx := &chargedesk.Transaction{ID: "7", ChargerID: "CP-1", ConnectorID: 1, StartedAt: now.Add(-2 * time.Hour),
				EnergyAt: now.Add(-tt.rose), LastMeterAt: now.Add(-10 * time.Second), UpdatedAt: now.Add(-10 * time.Second)}
			if got := Stale(ch, tx, now, after); got != tt.want {
				t.Fatalf("stale = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAgentResetNeverUnderASession(t *testing.T) {
	r := agentSetup(t) // Bob charges on connector 2 of CP-1
	d, err := r.Check(context.Background(), agentCmd(chargedesk.CmdReset, func(c *chargedesk.Command) { c.ResetType = chargedesk.ResetSoft }))
	if err != nil || d.Allowed || !strings.Contains(d.Reason, "transaction") {
		t.Fatalf("soft reset by the agent under a session: %+v %v", d, err)
	}
}

func TestAgentRetriesCountAcrossConversations(t *testing.T) {
	r := agentSetup(t)
	for i, want := range []bool{true, true, false} {
		cmd := agentCmd(chargedesk.CmdTriggerMessage, func(c *chargedesk.Command) {
			c.Trigger, c.Actor, c.DriverID = "StatusNotification", "agent:conv-"+string(rune('a'+i)), ""
		})
		if d, _ := r.Check(context.Background(), cmd); d.Allowed != want {
			t.Fatalf("trigger from conversation %d: %+v", i, d)
		}
	}
}
