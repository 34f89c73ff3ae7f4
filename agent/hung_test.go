package agent

import (
	"encoding/json"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sim"
)

// A hung controller and a start asked for with no cable, end to end on
// both OCPP versions (issue 16, item 4): a hung controller is reset and
// verified before anything is concluded, and a remote start is judged
// only once the charger shows the driver's car plugged in.

// chatES starts a web chat whose language the driver's first words set,
// and proves who the driver is by phone and card digits, as the demo's
// driver does.
func (e *env) chatES(first string) Reply {
	e.t.Helper()
	c, err := e.agent.Start(e.ctx, chargedesk.ChannelChat, "web-"+e.id, "")
	if err != nil {
		e.t.Fatal(err)
	}
	e.say(c, first)
	e.say(c, e.driver.Phone[2:])
	return e.say(c, "4242")
}

// asked returns what the agent waits for from the driver.
func asked(t *testing.T, r Reply) string {
	t.Helper()
	var d convData
	if err := json.Unmarshal(r.Conversation.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d.Ask
}

// stillPlugged fails unless the simulated car's cable is in connector 1.
func (e *env) stillPlugged() {
	e.t.Helper()
	if !e.c.State().Connector(1).Plugged {
		e.t.Error("the car's cable is no longer in connector 1")
	}
}

func forProtocols(t *testing.T, run func(t *testing.T, e *env), o envOpts) {
	st := newStack(t)
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			run(t, newEnv(t, st, p, o))
		})
	}
}

// The demo's conversation with the car plugged in: the controller hangs,
// the driver plugs in and writes (no card tapped), the agent's remote
// start is refused, one soft reset clears it, and the driver charges with
// their own card.
func TestHungControllerCarPlugged(t *testing.T) {
	forProtocols(t, func(t *testing.T, e *env) {
		e.inject(sim.FaultControllerHung, sim.FaultOptions{})
		e.waitStatus(e.occupied(chargedesk.StatusPreparing))
		e.plugIn()
		r := e.chatES("el cargador " + e.id + " no arranca, se queda en preparando")
		tx := e.charging(r)
		if tx.IDTag != e.tag {
			t.Errorf("transaction of %s, want the driver's %s", tx.IDTag, e.tag)
		}
		e.noTicket(r)
		e.stillPlugged()
		if r.Conversation.Language != "es" {
			t.Errorf("conversation in %q, want es", r.Conversation.Language)
		}
		if n := e.commands(e.id); n["Reset"] != 1 || n["RemoteStart:Accepted"] != 1 {
			t.Errorf("commands %v, want one soft reset and one accepted remote start", n)
		}
	}, envOpts{})
}

// The controller hung with no car at the connector.
// The refused start and the Preparing it shows justify one reset; after
// the boot the charger shows no cable, so the agent asks the driver to
// plug in instead of judging a remote start, and starts once the cable is
// in. No ticket.
func TestHungControllerCableAfterReset(t *testing.T) {
	forProtocols(t, func(t *testing.T, e *env) {
		e.inject(sim.FaultControllerHung, sim.FaultOptions{})
		e.waitStatus(e.occupied(chargedesk.StatusPreparing))
		r := e.chatES("el cargador " + e.id + " no arranca, se queda en preparando")
		if got := asked(t, r); got != askPlugIn {
			t.Fatalf("asked %q (%q), want the driver to plug in", got, r.Text)
		}
		e.noTicket(r)
		n := e.commands(e.id)
		if n["Reset"] != 1 || n["RemoteStart:Accepted"] != 0 {
			t.Errorf("commands %v: want one reset and no start judged without a cable", n)
		}
		e.plugIn()
		r = e.say(r.Conversation, "ya conecté")
		e.charging(r)
		e.noTicket(r)
		if n := e.commands(e.id); n["Reset"] != 1 || n["RemoteStart:Accepted"] != 1 {
			t.Errorf("commands %v, want one reset and one accepted remote start", n)
		}
	}, envOpts{})
}

// A driver asks for a start before plugging in: the agent asks for the
// cable first and sends nothing; once it is in, one remote start.
func TestStartWithoutCable(t *testing.T) {
	forProtocols(t, func(t *testing.T, e *env) {
		c := e.sms()
		r := e.say(c, "charger "+e.id+" won't start my session")
		if got := asked(t, r); got != askPlugIn {
			t.Fatalf("asked %q (%q), want the driver to plug in", got, r.Text)
		}
		e.noTicket(r)
		if n := e.commands(e.id); len(n) != 0 {
			t.Errorf("commands %v before a cable is in", n)
		}
		e.plugIn()
		r = e.say(c, "ok I'm plugged in now")
		e.charging(r)
		e.noTicket(r)
		if n := e.commands(e.id); n["RemoteStart"] != 1 || n["Reset"] != 0 {
			t.Errorf("commands %v, want one remote start and no reset", n)
		}
	}, envOpts{})
}

// The driver says the cable is in, but the charger never sees one: the
// agent checks with a fresh status report instead of trusting its store,
// never sends a start nor a reset, and hands over to people rather than
// ticketing the charger for field service.
func TestStartWithoutCableNeverSeen(t *testing.T) {
	forProtocols(t, func(t *testing.T, e *env) {
		c := e.sms()
		r := e.say(c, "I'm plugged in at charger "+e.id+" and the session won't start")
		if got := asked(t, r); got != askPlugIn {
			t.Fatalf("asked %q (%q), want the driver to plug in", got, r.Text)
		}
		for i := 0; i < 3 && r.Conversation.Status == chargedesk.ConversationOpen; i++ {
			r = e.say(c, "it is plugged in!")
		}
		if r.Conversation.Status != chargedesk.ConversationEscalated {
			t.Fatalf("conversation %s (%q), want handed to people", r.Conversation.Status, r.Text)
		}
		e.ticket(r, TicketHumanReview)
		n := e.commands(e.id)
		if n["RemoteStart"]+n["Reset"] != 0 {
			t.Errorf("commands %v: a start or a reset without a cable", n)
		}
		if n["TriggerMessage"] == 0 {
			t.Errorf("commands %v: the charger's status was never asked for", n)
		}
	}, envOpts{})
}
