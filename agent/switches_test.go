package agent

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sim"
)

// playbookSwitches is Config.Playbooks as a test throws them.
type playbookSwitches struct {
	mu  sync.Mutex
	off map[string]bool
}

func (p *playbookSwitches) on(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.off[name]
}
func (p *playbookSwitches) set(name string, on bool) {
	p.mu.Lock()
	p.off[name] = !on
	p.mu.Unlock()
}

// withPlaybooks gives the env an agent of its own whose playbooks are
// switched by the returned switches (all on).
func withPlaybooks(t *testing.T, e *env) *playbookSwitches {
	t.Helper()
	sw := &playbookSwitches{off: map[string]bool{}}
	cfg := e.st.cfg
	cfg.Playbooks = sw.on
	a, err := New(cfg)
	must(t, err)
	e.agent = a
	return sw
}

// handedOver fails unless the conversation was handed to a person with a
// ticket that says which playbook is off, and nothing was sent to the
// charger.
func handedOver(t *testing.T, e *env, r Reply, playbook string) *chargedesk.Ticket {
	t.Helper()
	e.status(r, chargedesk.ConversationEscalated)
	tk := e.ticket(r, TicketHumanReview)
	if !strings.Contains(tk.Summary, "the "+playbook+" playbook is switched off") {
		t.Errorf("ticket summary %q", tk.Summary)
	}
	if !strings.Contains(r.Text, tk.ID) {
		t.Errorf("reply %q does not give the ticket %s", r.Text, tk.ID)
	}
	for _, a := range r.Actions {
		if a.Kind != "ticket" {
			t.Errorf("action %+v with the playbook off", a)
		}
	}
	return tk
}

func TestPlaybookSwitchedOff(t *testing.T) {
	st := newStack(t)

	t.Run("the agent hands over instead of unlocking", func(t *testing.T) {
		e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
		sw := withPlaybooks(t, e)
		sw.set(PlaybookStuck, false)
		e.endSession()
		e.inject(sim.FaultLockAfterSession, sim.FaultOptions{})
		c := e.sms()
		r := e.say(c, "my session ended but the cable is stuck in charger "+e.id+", it won't come out")
		tk := handedOver(t, e, r, PlaybookStuck)
		if n := e.commands(e.id); len(n) != 0 {
			t.Errorf("commands with the stuck playbook off: %v", n)
		}
		if tk.Urgency() != chargedesk.UrgencyBlocked {
			t.Errorf("a stuck cable handed over is %v, want blocked (evidence %s)", tk.Urgency(), tk.Evidence)
		}
		// Switched back on, the same trouble is fixed.
		sw.set(PlaybookStuck, true)
		c = e.sms()
		r = e.say(c, "my cable is stuck in charger "+e.id+", it won't come out")
		e.status(r, chargedesk.ConversationResolved)
		if n := e.commands(e.id); n["UnlockConnector:Unlocked"] != 1 {
			t.Errorf("commands with the playbook back on: %v", n)
		}
	})

	t.Run("other playbooks still act", func(t *testing.T) {
		e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
		sw := withPlaybooks(t, e)
		sw.set(PlaybookSession, false)
		e.endSession()
		e.inject(sim.FaultLockAfterSession, sim.FaultOptions{})
		r := e.say(e.sms(), "my cable is stuck in charger "+e.id+", it won't come out")
		e.status(r, chargedesk.ConversationResolved)
	})

	t.Run("switched off while the driver answers", func(t *testing.T) {
		e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
		sw := withPlaybooks(t, e)
		e.inject(sim.FaultVehicleSideLock, sim.FaultOptions{})
		e.waitStatus(e.occupied(chargedesk.StatusFinishing))
		c := e.sms()
		r := e.say(c, "my cable is stuck at "+e.id+", it won't come out")
		for i := 0; i < 3 && r.Text != say("en", keyVehicleLock); i++ {
			r = e.say(c, "yes")
		}
		if r.Text != say("en", keyVehicleLock) {
			t.Fatalf("reply %q", r.Text)
		}
		before := e.commands(e.id)
		sw.set(PlaybookStuck, false)
		r = e.say(c, "I did that and it is still stuck")
		handedOver(t, e, r, PlaybookStuck)
		if after := e.commands(e.id); len(after) != len(before) || after[string(chargedesk.CmdUnlockConnector)] != before[string(chargedesk.CmdUnlockConnector)] {
			t.Errorf("commands %v after the switch, %v before", after, before)
		}
	})

	t.Run("a hazard is handed over, most urgent, without taking the connector out of service", func(t *testing.T) {
		e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
		sw := withPlaybooks(t, e)
		sw.set(PlaybookRouted, false)
		c := e.sms()
		r := e.say(c, "the cable of charger "+e.id+" is melted and there is smoke coming out of it")
		tk := handedOver(t, e, r, PlaybookRouted)
		if n := e.commands(e.id); len(n) != 0 {
			t.Errorf("commands %v", n)
		}
		if tk.Urgency() != chargedesk.UrgencySafety {
			t.Errorf("hazard handed over is %v (evidence %s), want safety", tk.Urgency(), tk.Evidence)
		}
	})
}

// TestStoredKillSwitchOff: with the kill switch off in the store (as the
// console throws it for every node), the agent still answers the driver
// but nothing it asks for reaches the charger.
func TestStoredKillSwitchOff(t *testing.T) {
	st := newStack(t)
	e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
	sw := policy.NewSwitches(st.store, policy.SwitchOptions{})
	rules := &policy.Rules{Store: st.store, Now: time.Now, Switches: sw}
	gw := &policy.Gateway{Policy: rules, Audit: st.store, Next: st.srv, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	cfg := st.cfg
	cfg.Commands, cfg.Enabled = gw, rules.AgentEnabled
	a, err := New(cfg)
	must(t, err)
	e.agent = a
	e.endSession()
	e.inject(sim.FaultLockAfterSession, sim.FaultOptions{})
	must(t, sw.Set(e.ctx, policy.KillSwitchKey, false, "console:ada"))

	r := e.say(e.sms(), "my session ended but the cable is stuck in charger "+e.id+", it won't come out")
	if r.Text == "" || r.Conversation.Status == chargedesk.ConversationResolved {
		t.Fatalf("reply %q (%s)", r.Text, r.Conversation.Status)
	}
	n := e.commands(e.id)
	for kind, count := range n {
		if !strings.HasSuffix(kind, ":Refused") {
			t.Errorf("%d × %s with the kill switch off (all: %v)", count, kind, n)
		}
	}
	if n["UnlockConnector:Refused"] == 0 {
		t.Errorf("no unlock was even asked for: %v", n)
	}
	if s := e.c.State().Connector(1); !s.LockEngaged || !s.Plugged {
		t.Errorf("the charger's lock moved with the kill switch off: %+v", s)
	}
}
