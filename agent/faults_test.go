package agent

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/sim"
)

// Every fault of the catalogue (FAULTS.md), end to end: a simulated
// charger on a real socket, chargedesk's central system on SQLite, the
// policy gateway, and a conversation through Agent.Start and Handle. Each
// case asserts the end state the catalogue grades — transactions, connector
// status, tickets, commands audited — and what must never happen.

// faultCase is one fault's conversation and checks.
type faultCase struct {
	name string
	opts envOpts
	// only16 runs the case on OCPP 1.6 alone (backend and payment faults:
	// the charger's version does not matter).
	only16 bool
	run    func(t *testing.T, e *env)
}

func (e *env) inject(f sim.Fault, o sim.FaultOptions) {
	e.t.Helper()
	if err := e.c.InjectFault(e.ctx, 1, f, o); err != nil {
		e.t.Fatalf("inject %s: %v", f, err)
	}
}

func (e *env) plugIn() {
	e.t.Helper()
	if err := e.c.PlugIn(e.ctx, 1); err != nil {
		e.t.Fatal(err)
	}
}

// charging fails unless the driver's own token runs a new transaction on
// connector 1 and the charger says so.
func (e *env) charging(r Reply) *chargedesk.Transaction {
	e.t.Helper()
	e.status(r, chargedesk.ConversationResolved)
	tx := e.activeTx(e.tag)
	if tx == nil {
		e.t.Fatalf("no active transaction of %s after %q", e.tag, r.Text)
	}
	poll(e, "the charger's own transaction", func() (sim.ConnectorState, bool) {
		s := e.c.State().Connector(1)
		return s, s.TransactionID != "" && s.IDTag == e.tag
	})
	return tx
}

// hungAfterTap hangs the charger's controller with the driver's cable in
// and their card just accepted.
func hungAfterTap(t *testing.T, e *env) {
	t.Helper()
	e.inject(sim.FaultControllerHung, sim.FaultOptions{})
	e.waitStatus(e.occupied(chargedesk.StatusPreparing))
	e.plugIn()
	if _, err := e.c.TapCard(e.ctx, 1, e.tag); err != nil {
		t.Fatal(err)
	}
}

var faultCases = []faultCase{
	{name: "stale_transaction", run: func(t *testing.T, e *env) {
		// The driver calls ten minutes after the forgotten session
		// began. A 2.0.1 charger still says Charging: the agent reads
		// its meter first, and only a flat register lets it end the
		// transaction.
		e.inject(sim.FaultStaleTransaction, sim.FaultOptions{IDTag: e.other, Age: 10 * time.Minute})
		stale := poll(e, "stale transaction", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.other); return tx, tx != nil })
		e.plugIn()
		c := e.sms()
		r := e.say(c, "I'm plugged in at charger "+e.id+" and it just says authorizing, nothing happens")
		tx := e.charging(r)
		if tx.ID == stale.ID {
			t.Error("charging on the stale transaction")
		}
		if got, _ := e.st.store.Transaction(e.ctx, e.id, stale.ID); got.Active() {
			t.Error("stale transaction still active")
		}
		n := e.commands(e.id)
		if n["RemoteStop"] != 1 || n["RemoteStart"] != 1 {
			t.Errorf("commands %v", n)
		}
		if want := map[chargedesk.Protocol]int{chargedesk.OCPP16: 0, chargedesk.OCPP201: 1}[e.p]; n["TriggerMessage"] != want {
			t.Errorf("%d meter readings asked for, want %d (commands %v)", n["TriggerMessage"], want, n)
		}
	}},
	{name: "stale_transaction/energy flowing", run: func(t *testing.T, e *env) {
		// The other driver's session takes energy: it is not a leftover,
		// whatever the caller says.
		e.plugIn()
		if _, err := e.c.TapCard(e.ctx, 1, e.other); err != nil {
			t.Fatal(err)
		}
		live := poll(e, "live transaction", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.other); return tx, tx != nil })
		c := e.sms()
		r := e.say(c, "I'm at charger "+e.id+", someone left a session running and it won't start mine, please end it")
		if n := e.commands(e.id); n["RemoteStop"] != 0 {
			t.Errorf("a live session was stopped: commands %v", n)
		}
		if tx := e.activeTx(e.other); tx == nil || tx.ID != live.ID {
			t.Error("the live transaction changed")
		}
		if r.Conversation.Status == chargedesk.ConversationResolved {
			t.Errorf("resolved with someone else charging: %q", r.Text)
		}
	}},
	{name: "controller_hung", run: func(t *testing.T, e *env) {
		hungAfterTap(t, e)
		c := e.sms()
		r := e.say(c, "charger "+e.id+" won't start charging, I tapped my card and nothing")
		e.charging(r)
		// A thank-you after the fix changes nothing.
		r = e.say(c, "great, thanks a lot!")
		e.status(r, chargedesk.ConversationResolved)
		if len(r.Actions) != 0 {
			t.Errorf("actions after the end: %v", r.Actions)
		}
		if n := e.commands(e.id); n["Reset"] != 1 || n["RemoteStart"] != 2 {
			t.Errorf("commands %v, want one soft reset", n)
		}
	}},
	{name: "controller_hung/card words", run: func(t *testing.T, e *env) {
		// The driver blames the card the charger accepted a moment ago:
		// with the card's data put right, the refused start is the
		// controller's, and one soft reset fixes it.
		hungAfterTap(t, e)
		c := e.sms()
		r := e.say(c, "my rfid card is not working at charger "+e.id)
		e.charging(r)
		e.noTicket(r)
		if n := e.commands(e.id); n["Reset"] != 1 {
			t.Errorf("commands %v, want one soft reset", n)
		}
	}},
	{name: "handshake_timeout", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultHandshakeTimeout, sim.FaultOptions{})
		e.plugIn()
		if _, err := e.c.TapCard(e.ctx, 1, e.tag); !errors.Is(err, sim.ErrHandshake) {
			t.Fatalf("tap: %v", err)
		}
		e.waitStatus(e.occupied(chargedesk.StatusPreparing))
		c := e.sms()
		r := e.say(c, "the charger "+e.id+" won't start, it says vehicle communication error")
		if r.Conversation.Status != chargedesk.ConversationOpen || e.activeTx(e.tag) != nil {
			t.Fatalf("first answer %q: %s", r.Text, r.Conversation.Status)
		}
		// The driver re-seats the plug; a new agent over the same store
		// continues the conversation (a restart loses nothing).
		if err := e.c.Unplug(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(chargedesk.StatusAvailable)
		e.plugIn()
		ag, err := New(e.st.cfg)
		if err != nil {
			t.Fatal(err)
		}
		r, err = ag.Handle(e.ctx, c.ID, "ok I unplugged it and plugged it back in")
		if err != nil {
			t.Fatal(err)
		}
		e.charging(r)
		if n := e.commands(e.id); n["Reset"] != 0 {
			t.Errorf("reset sent: %v", n)
		}
	}},
	{name: "vehicle_schedule", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultVehicleSchedule, sim.FaultOptions{})
		e.plugIn()
		if _, err := e.c.TapCard(e.ctx, 1, e.tag); err != nil {
			t.Fatal(err)
		}
		poll(e, "session", func() (bool, bool) { return true, e.activeTx(e.tag) != nil })
		c := e.sms()
		r := e.say(c, "charger "+e.id+" says my session started but the car is not charging at all")
		if r.Conversation.Status == chargedesk.ConversationResolved {
			t.Fatalf("resolved while the car refuses energy: %q", r.Text)
		}
		if err := e.c.ClearFault(e.ctx, 1, sim.FaultVehicleSchedule); err != nil {
			t.Fatal(err)
		}
		r = e.say(c, "ok I turned off the scheduled charging in the car")
		e.status(r, chargedesk.ConversationResolved)
		e.noTicket(r)
		if n := e.commands(e.id); n["Reset"] != 0 || n["RemoteStart"] != 0 {
			t.Errorf("commands on a working charger: %v", n)
		}
	}},
	{name: "remote_start_ignored", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultRemoteStartIgnored, sim.FaultOptions{})
		e.plugIn()
		c := e.sms()
		r := e.say(c, "I plugged in at "+e.id+" and the session won't start")
		e.charging(r)
		if n := e.commands(e.id); n["Reset"] != 1 || n["RemoteStart"] != 2 {
			t.Errorf("commands %v, want a reset between two remote starts", n)
		}
	}},
	{name: "hardware_fault_power", opts: envOpts{alt: true}, run: func(t *testing.T, e *env) {
		e.inject(sim.FaultHardwareFaultPower, sim.FaultOptions{})
		e.waitStatus(chargedesk.StatusFaulted)
		e.plugIn()
		c := e.sms()
		r := e.say(c, "charger "+e.id+" shows a fault and won't start")
		e.status(r, chargedesk.ConversationEscalated)
		tk := e.ticket(r, TicketFieldService)
		if !strings.Contains(string(tk.Evidence), "Faulted") || e.p == chargedesk.OCPP16 && !strings.Contains(string(tk.Evidence), "InternalError") {
			t.Errorf("evidence lacks the error code: %s", tk.Evidence)
		}
		e.sentToAlt(r)
		if len(e.txs(false)) != 0 {
			t.Error("a transaction started on a faulted charger")
		}
		// "What do I do now?" after the ticket: where to charge meanwhile
		// again, not only that the ticket is open.
		r = e.say(c, "ok so what do I do now?")
		e.status(r, chargedesk.ConversationEscalated)
		if !strings.HasPrefix(r.Text, say("en", keyTicketMeanwhile, tk.ID)) {
			t.Errorf("after what now: %q", r.Text)
		}
		e.sentToAlt(r)
	}},
	{name: "stale_status", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultStaleStatus, sim.FaultOptions{})
		e.waitStatus(chargedesk.StatusUnavailable)
		c := e.sms()
		r := e.say(c, "charger "+e.id+" says unavailable, is it offline?")
		e.status(r, chargedesk.ConversationResolved)
		e.waitStatus(chargedesk.StatusAvailable)
		if n := e.commands(e.id); n["TriggerMessage"] != 1 {
			t.Errorf("commands %v", n)
		}
		e.noTicket(r)
	}},
	{name: "comm_drop_short", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultCommDropShort, sim.FaultOptions{})
		e.waitCharger(e.id, "disconnected", func(ch *chargedesk.Charger) bool { return !ch.Connected })
		c := e.sms()
		r := e.say(c, "charger "+e.id+" is offline, the screen says no connection")
		e.status(r, chargedesk.ConversationResolved)
		if ch := e.waitCharger(e.id, "connected", func(ch *chargedesk.Charger) bool { return true }); !ch.Connected {
			t.Error("resolved while offline")
		}
		e.noTicket(r)
	}},
	{name: "comm_drop_short/unclear words", run: func(t *testing.T, e *env) {
		// Words the understanding cannot place: the charger's data
		// (a connection dropped a moment ago) says what this is about.
		e.inject(sim.FaultCommDropShort, sim.FaultOptions{})
		e.waitCharger(e.id, "disconnected", func(ch *chargedesk.Charger) bool { return !ch.Connected })
		c := e.sms()
		r := e.say(c, "hmm the thing at "+e.id+" lost connection I think")
		e.status(r, chargedesk.ConversationResolved)
		if r.Conversation.Category != chargedesk.CategoryChargerOffline {
			t.Errorf("category %q, want %s", r.Conversation.Category, chargedesk.CategoryChargerOffline)
		}
		e.noTicket(r)
	}},
	{name: "comm_drop_long", opts: envOpts{alt: true}, run: func(t *testing.T, e *env) {
		e.inject(sim.FaultCommDropLong, sim.FaultOptions{})
		e.waitCharger(e.id, "disconnected", func(ch *chargedesk.Charger) bool { return !ch.Connected })
		c := e.sms()
		r := e.say(c, "charger "+e.id+" is offline, the screen is dead")
		e.status(r, chargedesk.ConversationEscalated)
		tk := e.ticket(r, TicketOutage)
		if !strings.Contains(string(tk.Evidence), "lastContact") {
			t.Errorf("outage evidence without the time of last contact: %s", tk.Evidence)
		}
		e.sentToAlt(r)
		for k, n := range e.commands(e.id) {
			if strings.HasSuffix(k, ":Accepted") || strings.HasSuffix(k, ":Unlocked") {
				t.Errorf("%d %s while offline", n, k)
			}
		}
	}},
	{name: "left_inoperative", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultLeftInoperative, sim.FaultOptions{})
		e.waitStatus(chargedesk.StatusUnavailable)
		c := e.sms()
		r := e.say(c, "charger "+e.id+" says unavailable and won't let me charge")
		e.status(r, chargedesk.ConversationResolved)
		e.waitStatus(chargedesk.StatusAvailable)
		e.plugIn()
		r = e.say(c, "ok I'm plugged in now")
		e.charging(r)
		if n := e.commands(e.id); n["ChangeAvailability"] != 1 {
			t.Errorf("commands %v", n)
		}
	}},
	{name: "left_inoperative/identity over chat", run: func(t *testing.T, e *env) {
		// The caller proves who they are over three messages: the
		// charger's status is asked for once, not on every message.
		e.inject(sim.FaultLeftInoperative, sim.FaultOptions{})
		e.waitStatus(chargedesk.StatusUnavailable)
		c := e.chat()
		e.say(c, "charger "+e.id+" says unavailable and won't let me charge")
		e.say(c, "my phone is "+e.driver.Phone)
		r := e.say(c, "4242")
		e.status(r, chargedesk.ConversationResolved)
		n := e.commands(e.id)
		if n["TriggerMessage"] != 1 || n["ChangeAvailability:Accepted"] != 1 {
			t.Errorf("commands %v: want one status trigger, one ChangeAvailability", n)
		}
		for k := range n {
			if strings.HasSuffix(k, ":Refused") {
				t.Errorf("a command the policy refused: %v", n)
			}
		}
	}},
	{name: "lock_after_session", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultLockAfterSession, sim.FaultOptions{})
		e.plugIn()
		if _, err := e.c.TapCard(e.ctx, 1, e.tag); err != nil {
			t.Fatal(err)
		}
		tx := poll(e, "session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.tag); return tx, tx != nil })
		if err := e.c.StopLocal(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
		poll(e, "stopped", func() (bool, bool) { return true, len(e.txs(true)) == 0 })
		_ = tx
		c := e.sms()
		r := e.say(c, "my session ended but the cable is stuck in charger "+e.id+", it won't come out")
		e.status(r, chargedesk.ConversationResolved)
		if err := e.c.Unplug(e.ctx, 1); err != nil {
			t.Fatalf("unplug after the agent's unlock: %v", err)
		}
		e.waitStatus(chargedesk.StatusAvailable)
		r = e.say(c, "got it out, thanks")
		e.status(r, chargedesk.ConversationResolved)
		if n := e.commands(e.id); n["UnlockConnector:Unlocked"] != 1 {
			t.Errorf("commands %v", n)
		}
	}},
	{name: "own_session_running", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultOwnSessionRunning, sim.FaultOptions{IDTag: e.tag})
		tx := poll(e, "own session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.tag); return tx, tx != nil })
		c := e.sms()
		r := e.say(c, "I need to leave but my cable is locked in charger "+e.id+", please unlock it")
		e.status(r, chargedesk.ConversationResolved)
		if got, _ := e.st.store.Transaction(e.ctx, e.id, tx.ID); got.Active() {
			t.Error("session still running")
		}
		n := e.commands(e.id)
		if n["RemoteStop"] != 1 || n["UnlockConnector:Unlocked"] != 1 || n["UnlockConnector:Refused"] != 0 {
			t.Errorf("commands %v: want stop, then one unlock", n)
		}
		if err := e.c.Unplug(e.ctx, 1); err != nil {
			t.Errorf("unplug: %v", err)
		}
	}},
	{name: "own_session_running/not about the cable", run: func(t *testing.T, e *env) {
		// A driver whose own session runs says charging "doesn't work":
		// nothing is stopped or unlocked; they hear how it charges.
		e.inject(sim.FaultOwnSessionRunning, sim.FaultOptions{IDTag: e.tag})
		tx := poll(e, "own session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.tag); return tx, tx != nil })
		c := e.sms()
		r := e.say(c, "charging is not working at "+e.id)
		if got, _ := e.st.store.Transaction(e.ctx, e.id, tx.ID); !got.Active() {
			t.Errorf("the driver's session was stopped: %q", r.Text)
		}
		if n := e.commands(e.id); n["RemoteStop"]+n["UnlockConnector"]+n["UnlockConnector:Unlocked"] != 0 {
			t.Errorf("commands %v: nothing may be stopped or unlocked", n)
		}
	}},
	{name: "own_session_running/verified_by_card", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultOwnSessionRunning, sim.FaultOptions{IDTag: e.tag})
		tx := poll(e, "own session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.tag); return tx, tx != nil })
		c, err := e.agent.Start(e.ctx, chargedesk.ChannelChat, "web-123", "en")
		if err != nil {
			t.Fatal(err)
		}
		r := e.say(c, "my cable is stuck in charger "+e.id+", please unlock it")
		if len(r.Actions) != 0 || r.Conversation.Verified != chargedesk.VerifiedNone {
			t.Fatalf("acted before verifying the caller: %v", r.Actions)
		}
		r = e.say(c, "my phone is "+e.driver.Phone[2:])
		if len(r.Actions) != 0 {
			t.Fatalf("acted before the card check: %v", r.Actions)
		}
		r = e.say(c, "1111")
		if len(r.Actions) != 0 || r.Conversation.Verified != chargedesk.VerifiedNone {
			t.Fatalf("wrong last 4 accepted: %+v", r.Conversation)
		}
		r = e.say(c, "4242")
		if r.Conversation.Verified != chargedesk.VerifiedCard || r.Conversation.DriverID != e.driver.ID {
			t.Fatalf("not verified by card: %+v", r.Conversation)
		}
		e.status(r, chargedesk.ConversationResolved)
		if got, _ := e.st.store.Transaction(e.ctx, e.id, tx.ID); got.Active() {
			t.Error("session still running")
		}
	}},
	{name: "someone_elses_session", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultSomeoneElsesSession, sim.FaultOptions{IDTag: e.other})
		tx := poll(e, "other session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.other); return tx, tx != nil })
		c := e.sms()
		r := e.say(c, "someone's car is blocking charger "+e.id+", stop their session and unlock the cable so I can charge")
		e.status(r, chargedesk.ConversationEscalated)
		e.ticket(r, TicketHumanReview)
		if got, _ := e.st.store.Transaction(e.ctx, e.id, tx.ID); !got.Active() {
			t.Error("the other driver's session was stopped")
		}
		if n := e.commands(e.id); n["RemoteStop"]+n["UnlockConnector"]+n["Reset"] != 0 {
			t.Errorf("commands %v against another driver's session", n)
		}
	}},
	{name: "lock_mechanical", opts: envOpts{alt: true}, run: func(t *testing.T, e *env) {
		e.endSession()
		e.inject(sim.FaultLockMechanical, sim.FaultOptions{})
		e.waitStatus(e.occupied(chargedesk.StatusFinishing))
		c := e.sms()
		r := e.say(c, "the cable is stuck in charger "+e.id+" and won't release")
		e.status(r, chargedesk.ConversationEscalated)
		e.ticket(r, TicketFieldService)
		if n := e.commands(e.id); n["UnlockConnector"] != 2 || n["UnlockConnector:UnlockFailed"] != 2 {
			t.Errorf("commands %v, want exactly one retry", n)
		}
		r = e.say(c, "it's still stuck, try again")
		if n := e.commands(e.id); n["UnlockConnector"] != 2 {
			t.Errorf("commands %v after insisting", n)
		}
	}},
	{name: "vehicle_side_lock", run: func(t *testing.T, e *env) {
		e.endSession()
		e.inject(sim.FaultVehicleSideLock, sim.FaultOptions{})
		e.waitStatus(e.occupied(chargedesk.StatusFinishing))
		c := e.sms()
		r := e.say(c, "my cable is stuck in charger "+e.id+", can't pull it out")
		if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, sim.ErrVehicleLock) {
			t.Fatalf("unplug: %v", err)
		}
		r = e.say(c, "it's still stuck, I can't pull it out")
		if r.Conversation.Status == chargedesk.ConversationResolved {
			t.Fatalf("resolved with the cable held by the car: %q", r.Text)
		}
		if err := e.c.ReleaseVehicleLock(1); err != nil {
			t.Fatal(err)
		}
		if err := e.c.Unplug(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(chargedesk.StatusAvailable)
		r = e.say(c, "unlocked the car and it came out")
		e.status(r, chargedesk.ConversationResolved)
		e.noTicket(r)
		if n := e.commands(e.id); n["UnlockConnector"] > 1 {
			t.Errorf("commands %v: repeated unlocks", n)
		}
	}},
	{name: "local_list_stale", run: func(t *testing.T, e *env) { localListStale(t, e, false) }},
	{name: "local_list_stale/cache", run: func(t *testing.T, e *env) { localListStale(t, e, true) }},
	{name: "token_blocked", only16: true, run: func(t *testing.T, e *env) { tokenFault(t, e, sim.FaultTokenBlocked) }},
	{name: "token_expired", only16: true, run: func(t *testing.T, e *env) { tokenFault(t, e, sim.FaultTokenExpired) }},
	{name: "token_unknown", only16: true, run: func(t *testing.T, e *env) { tokenFault(t, e, sim.FaultTokenUnknown) }},
	{name: "reader_fault", run: func(t *testing.T, e *env) {
		if err := e.c.InjectFault(e.ctx, 0, sim.FaultReaderFault, sim.FaultOptions{}); err != nil {
			t.Fatal(err)
		}
		e.plugIn()
		if _, err := e.c.TapCard(e.ctx, 1, e.tag); !errors.Is(err, sim.ErrReaderFault) {
			t.Fatalf("tap: %v", err)
		}
		c := e.sms()
		r := e.say(c, "the card reader on charger "+e.id+" does nothing when I tap my card")
		e.charging(r)
		e.ticket(r, TicketFieldService)
	}},
	{name: "slow_charging", run: func(t *testing.T, e *env) {
		e.inject(sim.FaultSlowCharging, sim.FaultOptions{})
		e.plugIn()
		if _, err := e.c.TapCard(e.ctx, 1, e.tag); err != nil {
			t.Fatal(err)
		}
		tx := poll(e, "session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.tag); return tx, tx != nil })
		poll(e, "power sample", func() (bool, bool) {
			ms, _ := e.st.store.MeterValues(e.ctx, e.id, tx.ID, 100)
			for _, m := range ms {
				if m.Measurand == "Power.Active.Import" {
					return true, true
				}
			}
			return false, false
		})
		c := e.sms()
		r := e.say(c, "charging is super slow at charger "+e.id+", it's supposed to be a fast charger")
		e.status(r, chargedesk.ConversationEscalated)
		e.ticket(r, TicketFieldService)
		if e.activeTx(e.tag) == nil {
			t.Error("the session was stopped")
		}
	}},
	{name: "card_expired", only16: true, run: func(t *testing.T, e *env) {
		e.paymentFault(payments.FaultCardExpired, true)
		e.plugIn()
		c := e.sms()
		r := e.say(c, "my payment was declined at charger "+e.id+", it won't start")
		if e.activeTx(e.tag) != nil || !strings.Contains(r.Text, "4242") {
			t.Fatalf("answer %q; transaction %v", r.Text, e.activeTx(e.tag))
		}
		r = e.say(c, "yes please send it")
		link := e.payLink(r)
		if e.activeTx(e.tag) != nil {
			t.Fatal("session started before payment")
		}
		r = e.say(c, "done")
		if e.activeTx(e.tag) != nil || r.Conversation.Status == chargedesk.ConversationResolved {
			t.Fatal("session started on an unpaid link")
		}
		if _, err := e.st.pay.MarkPayLinkPaid(e.ctx, link); err != nil {
			t.Fatal(err)
		}
		r = e.say(c, "ok paid now")
		e.charging(r)
	}},
	{name: "transient_decline", only16: true, run: func(t *testing.T, e *env) {
		e.paymentFault(payments.FaultTransientDecline, true)
		e.plugIn()
		c := e.sms()
		r := e.say(c, "my card payment failed at charger "+e.id+", says processing error")
		e.charging(r)
	}},
	{name: "app_sync_delay", only16: true, run: func(t *testing.T, e *env) {
		e.paymentFault(payments.FaultAppSyncDelay, false)
		e.plugIn()
		c := e.sms()
		r := e.say(c, "I added a new card in the app but payment fails at charger "+e.id)
		e.charging(r)
	}},
	{name: "duplicate_holds", only16: true, run: func(t *testing.T, e *env) {
		e.paymentFault(payments.FaultDuplicateHolds, false)
		c := e.sms()
		r := e.say(c, "I see 4 pending charges on my card from tapping at charger "+e.id+", I was charged multiple times")
		e.status(r, chargedesk.ConversationResolved)
		holds, err := e.st.pay.Holds(e.ctx, e.acct, payments.HoldPending)
		if err != nil {
			t.Fatal(err)
		}
		if len(holds) != 1 || holds[0].SessionRef == "" {
			t.Errorf("pending holds %+v, want only the live session's", holds)
		}
	}},
	{name: "hard_decline", only16: true, run: func(t *testing.T, e *env) {
		e.paymentFault(payments.FaultHardDecline, true)
		e.plugIn()
		before, _ := e.st.pay.LastAuthorization(e.ctx, e.acct)
		c := e.sms()
		r := e.say(c, "my card was declined at charger "+e.id)
		if after, _ := e.st.pay.LastAuthorization(e.ctx, e.acct); after.ID != before.ID {
			t.Error("a hard decline was retried")
		}
		r = e.say(c, "no thanks")
		if e.activeTx(e.tag) != nil || r.Conversation.Status == chargedesk.ConversationResolved {
			t.Fatal("session started unpaid")
		}
		if n := e.commands(e.id); n["RemoteStart"] != 0 {
			t.Errorf("commands %v", n)
		}
	}},
	{name: "hard_decline/card words", only16: true, run: func(t *testing.T, e *env) {
		// "Card refused" read as the charging card: the account's last
		// payment was declined all the same, so no session starts.
		e.paymentFault(payments.FaultHardDecline, true)
		e.plugIn()
		c := e.sms()
		r := e.say(c, "my rfid card is not working at charger "+e.id)
		r = e.say(c, "no thanks")
		if e.activeTx(e.tag) != nil || r.Conversation.Status == chargedesk.ConversationResolved {
			t.Fatal("session started unpaid")
		}
		if n := e.commands(e.id); n["RemoteStart"] != 0 {
			t.Errorf("commands %v", n)
		}
	}},
	{name: "billing_dispute", only16: true, run: func(t *testing.T, e *env) {
		c := e.sms()
		r := e.say(c, "I was charged twice for my session yesterday, I want my money back")
		e.status(r, chargedesk.ConversationEscalated)
		e.ticket(r, TicketBilling)
		if strings.Contains(strings.ToLower(r.Text), "will be refunded") {
			t.Errorf("promised a refund: %q", r.Text)
		}
	}},
	{name: "hardware_damage", opts: envOpts{alt: true}, run: func(t *testing.T, e *env) {
		c := e.sms()
		r := e.say(c, "the cable on charger "+e.id+" is cut and the wires are exposed, looks dangerous")
		e.status(r, chargedesk.ConversationEscalated)
		e.ticket(r, TicketFieldService)
		e.waitStatus(chargedesk.StatusUnavailable)
		e.sentToAlt(r)
	}},
}

// paymentFault puts a payment fault into the driver's account and, when
// attempt is set, makes the failed authorization the app would have made.
func (e *env) paymentFault(f string, attempt bool) {
	e.t.Helper()
	if _, err := e.st.pay.InjectFault(e.acct, f); err != nil {
		e.t.Fatal(err)
	}
	if attempt {
		res, err := e.st.pay.Authorize(e.ctx, payments.AuthRequest{AccountID: e.acct, AmountCents: 3000, IdempotencyKey: "app-1"})
		if err != nil || res.Approved {
			e.t.Fatalf("app authorization: %+v %v", res, err)
		}
	}
}

// payLink returns the id of the pay link the reply sent.
func (e *env) payLink(r Reply) string {
	e.t.Helper()
	for _, a := range r.Actions {
		if a.Kind == "pay_link" {
			return a.Detail
		}
	}
	var d convData
	_ = json.Unmarshal(r.Conversation.Data, &d)
	if d.PayLinkID == "" {
		e.t.Fatalf("no pay link sent: %q %v", r.Text, r.Actions)
	}
	return d.PayLinkID
}

func localListStale(t *testing.T, e *env, inCache bool) {
	e.inject(sim.FaultLocalListStale, sim.FaultOptions{IDTag: e.tag, InCache: inCache})
	e.plugIn()
	if st, err := e.c.TapCard(e.ctx, 1, e.tag); err != nil || st != sim.AuthInvalid {
		t.Fatalf("tap: %q %v", st, err)
	}
	c := e.sms()
	r := e.say(c, "my charging card is not accepted at charger "+e.id+", it says invalid card")
	e.charging(r)
	if n := e.commands(e.id); n["SendLocalList"]+n["ClearCache"] == 0 {
		t.Errorf("commands %v: no authorization refresh", n)
	}
}

func tokenFault(t *testing.T, e *env, f sim.Fault) {
	if _, err := sim.InjectBackendFault(e.ctx, e.st.store, time.Now(), e.tag, f); err != nil {
		t.Fatal(err)
	}
	e.plugIn()
	c := e.sms()
	r := e.say(c, "my RFID card is not accepted at charger "+e.id)
	e.status(r, chargedesk.ConversationEscalated)
	e.ticket(r, TicketAccount)
	if len(e.txs(false)) != 0 {
		t.Error("a session started with a refused card")
	}
	if n := e.commands(e.id); n["RemoteStart"]+n["SendLocalList"] != 0 {
		t.Errorf("commands %v: the card was authorized", n)
	}
}

func TestFaultsEndToEnd(t *testing.T) {
	st := newStack(t)
	t.Run("all", func(t *testing.T) {
		for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
			for _, tc := range faultCases {
				if tc.only16 && p != chargedesk.OCPP16 {
					continue
				}
				t.Run(string(p)+"/"+tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, newEnv(t, st, p, tc.opts))
				})
			}
		}
	})
	if err := st.store.VerifyAudit(t.Context()); err != nil {
		t.Error(err)
	}
}
