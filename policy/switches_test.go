package policy

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// testClock is a time the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSwitchesSharedAcrossNodes: two nodes, each with its own handle on
// one database and its own cache. A switch thrown on one holds there at
// once and on the other once its cache is TTL old.
func TestSwitchesSharedAcrossNodes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func() *sqlstore.Store {
		st, err := sqlstore.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	clock := &testClock{t: now}
	one := NewSwitches(open(), SwitchOptions{Now: clock.now})
	two := NewSwitches(open(), SwitchOptions{Now: clock.now, TTL: 3 * time.Second})
	rulesTwo := &Rules{Store: open(), Now: clock.now, Switches: two}

	if !one.AgentEnabled() || !two.AgentEnabled() || !two.PlaybookEnabled("stuck") {
		t.Fatal("a switch never set is not on")
	}
	if err := one.Set(ctx, KillSwitchKey, false, "console:ada"); err != nil {
		t.Fatal(err)
	}
	if err := one.Set(ctx, PlaybookKey("stuck"), false, "console:ada"); err != nil {
		t.Fatal(err)
	}
	if one.AgentEnabled() || one.PlaybookEnabled("stuck") {
		t.Fatal("the node that threw the switches does not see them at once")
	}
	// The other node trusts what it read until its cache is TTL old.
	clock.add(3*time.Second - time.Millisecond)
	if !two.AgentEnabled() || !rulesTwo.AgentEnabled() || !two.PlaybookEnabled("stuck") {
		t.Fatal("the cache was not used within its TTL")
	}
	clock.add(time.Millisecond)
	if two.AgentEnabled() || rulesTwo.AgentEnabled() {
		t.Fatal("the kill switch thrown on another node is not seen after the TTL")
	}
	if two.PlaybookEnabled("stuck") || !two.PlaybookEnabled("rfid") {
		t.Fatal("playbook switches after the TTL: stuck should be off, rfid on")
	}
	stored, err := two.Stored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := stored[KillSwitchKey]; st == nil || st.Value != "false" || st.UpdatedBy != "console:ada" {
		t.Fatalf("stored kill switch %+v", st)
	}
	// And back on, through the operator API's path.
	rulesTwo.SetAgentEnabled(true)
	if !two.AgentEnabled() {
		t.Fatal("SetAgentEnabled(true) not seen by its own node")
	}
	clock.add(2 * time.Second)
	if !one.AgentEnabled() {
		t.Fatal("the kill switch thrown back on is not seen by the other node after the TTL")
	}
}

// TestStoredKillSwitchSendsNothing: with the kill switch off in the store,
// the gateway refuses every command of the agent, audits the refusal, and
// nothing reaches the chargers; operators' commands still go.
func TestStoredKillSwitchSendsNothing(t *testing.T) {
	store, g, next := setup(t)
	ctx := context.Background()
	rules := g.Policy.(*Rules)
	rules.Switches = NewSwitches(store, SwitchOptions{Now: func() time.Time { return now }})
	rules.SetAgentEnabled(false)
	st, err := store.Setting(ctx, KillSwitchKey)
	if err != nil || st.Value != "false" {
		t.Fatalf("kill switch not stored: %+v %v", st, err)
	}
	for _, kind := range []chargedesk.CommandKind{chargedesk.CmdTriggerMessage, chargedesk.CmdUnlockConnector, chargedesk.CmdReset} {
		cmd := chargedesk.Command{Kind: kind, ChargerID: "CP-1", ConnectorID: 1, Actor: "agent:C-1", Trigger: "StatusNotification",
			ResetType: chargedesk.ResetSoft}
		res, err := g.Send(ctx, cmd)
		if err != nil || res.Status != chargedesk.ResultRefused || !strings.Contains(res.Detail, "kill switch") {
			t.Fatalf("%s by the agent with the switch off: %+v %v", kind, res, err)
		}
	}
	if len(next.sent) != 0 {
		t.Fatalf("commands reached the chargers: %+v", next.sent)
	}
	entries, err := store.AuditEntries(ctx, chargedesk.AuditFilter{ActorPrefix: "agent:"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d audit entries, want the 3 refusals", len(entries))
	}
	for _, e := range entries {
		if e.Allowed || e.Stage != chargedesk.AuditDecision || !strings.Contains(e.Reason, "kill switch") {
			t.Errorf("audit %+v", e)
		}
	}
	op := chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ChargerID: "CP-1", Actor: "operator:key1", Trigger: "Heartbeat"}
	if res, err := g.Send(ctx, op); err != nil || res.Status != chargedesk.ResultAccepted || len(next.sent) != 1 {
		t.Fatalf("operator's command with the agent off: %+v %v", res, err)
	}
	rules.SetAgentEnabled(true)
	agentCmd := chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ChargerID: "CP-1", Actor: "agent:C-1", Trigger: "Heartbeat"}
	if res, err := g.Send(ctx, agentCmd); err != nil || res.Status != chargedesk.ResultAccepted || len(next.sent) != 2 {
		t.Fatalf("agent's command with the switch back on: %+v %v", res, err)
	}
}

// failingSettings is a setting store that fails while told to.
type failingSettings struct {
	chargedesk.SettingStore
	mu   sync.Mutex
	fail bool
}

func (f *failingSettings) Settings(ctx context.Context, prefix string) ([]*chargedesk.Setting, error) {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return nil, errors.New("database down")
	}
	return f.SettingStore.Settings(ctx, prefix)
}

func TestSwitchesKeepPositionsWhenTheStoreFails(t *testing.T) {
	store, _, _ := setup(t)
	ctx := context.Background()
	clock := &testClock{t: now}
	fs := &failingSettings{SettingStore: store}
	sw := NewSwitches(fs, SwitchOptions{Now: clock.now, TTL: time.Minute})
	if sw.TTL() != MaxSwitchTTL {
		t.Fatalf("TTL %v, want it capped at %v", sw.TTL(), MaxSwitchTTL)
	}
	if err := store.PutSetting(ctx, &chargedesk.Setting{Key: KillSwitchKey, Value: "false"}); err != nil {
		t.Fatal(err)
	}
	if sw.AgentEnabled() {
		t.Fatal("stored off, read on")
	}
	fs.mu.Lock()
	fs.fail = true
	fs.mu.Unlock()
	clock.add(time.Minute)
	if sw.AgentEnabled() {
		t.Fatal("a failed read switched the agent back on")
	}
	if _, err := sw.Stored(ctx); err == nil {
		t.Fatal("Stored hid the store's failure")
	}
	if err := sw.Set(ctx, "billing.mode", false, ""); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Fatalf("a key outside the agent's switches: %v", err)
	}
}

func TestAgentLimitsWithDefaults(t *testing.T) {
	l := AgentLimits{PerCharger: 3}.WithDefaults()
	if l.PerCharger != 3 || l.PerConversation != 12 || l.Network != 200 || l.Retries != 1 || l.Window != 10*time.Minute || l.StaleAfter != DefaultStaleAfter {
		t.Fatalf("limits %+v", l)
	}
}
