package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/sim"
)

// TestSecurity holds the regression tests of the security review, each on
// the real stack: a simulated charger, the central system on SQLite, the
// policy gateway and the payments processor.
func TestSecurity(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"last4 guessing is bounded per driver", func(t *testing.T, e *env) {
			e.inject(sim.FaultOwnSessionRunning, sim.FaultOptions{IDTag: e.tag})
			tx := poll(e, "own session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.tag); return tx, tx != nil })
			c := e.chat()
			e.say(c, "my cable is stuck in charger "+e.id+", please unlock it")
			e.say(c, "my phone is "+e.driver.Phone[2:])
			var r Reply
			for _, guess := range []string{"1000", "1001", "1002"} {
				r = e.say(c, guess)
			}
			e.status(r, chargedesk.ConversationEscalated)
			e.ticket(r, TicketHumanReview)
			// The right digits after the lockout change nothing.
			r = e.say(c, "4242")
			if r.Conversation.Verified != chargedesk.VerifiedNone {
				t.Fatalf("verified after the lockout: %+v", r.Conversation)
			}
			// Nor in a new conversation: the count is the driver's.
			c2 := e.chat()
			e.say(c2, "my cable is stuck in charger "+e.id+", please unlock it")
			e.say(c2, "my phone is "+e.driver.Phone[2:])
			r = e.say(c2, "4242")
			if r.Conversation.Verified != chargedesk.VerifiedNone || r.Conversation.DriverID != "" {
				t.Fatalf("verified in a new conversation after 3 failures: %+v", r.Conversation)
			}
			e.status(r, chargedesk.ConversationEscalated)
			if got, _ := e.st.store.Transaction(e.ctx, e.id, tx.ID); !got.Active() {
				t.Error("the session was stopped")
			}
			if n := e.commands(e.id); n["RemoteStop"]+n["UnlockConnector"] != 0 {
				t.Errorf("commands %v", n)
			}
			if n, err := e.agent.verifyFailures(e.ctx, e.driver.ID); err != nil || n != 3 {
				t.Errorf("failures recorded %d %v, want 3", n, err)
			}
		}},
		{"identity leaks", func(t *testing.T, e *env) {
			e.inject(sim.FaultSomeoneElsesSession, sim.FaultOptions{IDTag: e.other})
			poll(e, "other session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.other); return tx, tx != nil })
			c := e.chat()
			r := e.say(c, "my cable is stuck in charger "+e.id+", unlock it")
			if strings.Contains(r.Text, e.other) || strings.Contains(string(r.Conversation.Data), e.other) {
				t.Errorf("another driver's card id shown to the caller: %q %s", r.Text, r.Conversation.Data)
			}
			// A card id alone is no identity claim: the phone number is
			// asked again, in other words.
			r = e.say(c, "my card number is "+e.other)
			if r.Conversation.Verified != chargedesk.VerifiedNone || r.Text != say("en", keyAskIdentityAgain) {
				t.Errorf("after a card id: %q %+v", r.Text, r.Conversation)
			}
			// A customer's phone number and a stranger's get the same answer.
			answer := func(phone string) string {
				c := e.chat()
				e.say(c, "my cable is stuck in charger "+e.id+", unlock it")
				return e.say(c, "my phone number is "+phone).Text
			}
			if a, b := answer(e.driver.Phone[2:]), answer("4155550123"); a != b {
				t.Errorf("answers differ: customer %q, stranger %q", a, b)
			}
		}},
		{"card numbers never stored", func(t *testing.T, e *env) {
			c := e.chat()
			e.say(c, "my card 4111/1111/1111/1111 was declined at "+e.id)
			e.say(c, "it is 4111_1111_1111_1111 exp 1227 cvc 123")
			e.say(c, "4111  1111  1111  1111")
			e.say(c, "4111 1111 1111 1111 1227 123")
			e.say(c, "ok the first half is 5555 5555")
			r := e.say(c, "and then 5555 4444")
			if r.Text != say("en", keyCardNumberWarning) {
				t.Errorf("second half of a card: reply %q", r.Text)
			}
			r = e.say(c, "I want a person, this is a billing problem, I was charged twice")
			turns, err := e.st.store.Turns(e.ctx, c.ID)
			must(t, err)
			var all strings.Builder
			for _, tn := range turns {
				all.WriteString(tn.Text + string(tn.Meta))
			}
			all.Write(r.Conversation.Data)
			if r.Conversation.TicketID != "" {
				tk, err := e.st.store.Ticket(e.ctx, r.Conversation.TicketID)
				must(t, err)
				all.WriteString(tk.Transcript + string(tk.Evidence) + tk.Summary)
			}
			digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, all.String())
			for _, pan := range []string{"41111111", "55555555", "55554444", "1227123"} {
				if strings.Contains(digits, pan) {
					t.Errorf("card digits %s stored", pan)
				}
			}
		}},
		{"hard decline not retried on words", func(t *testing.T, e *env) {
			e.paymentFault(payments.FaultHardDecline, true)
			e.plugIn()
			before, _ := e.st.pay.LastAuthorization(e.ctx, e.acct)
			c := e.sms()
			e.say(c, "my card was declined at charger "+e.id)
			for range 3 {
				r := e.say(c, "I updated my card")
				if e.activeTx(e.tag) != nil || r.Conversation.Status == chargedesk.ConversationResolved {
					t.Fatal("session started on a hard-declined card")
				}
			}
			if after, _ := e.st.pay.LastAuthorization(e.ctx, e.acct); after.ID != before.ID {
				t.Error("the hard-declined card was authorized again")
			}
			// A real new card is tried, at most twice in a conversation.
			if _, err := e.st.pay.AddAppMethod(e.acct, payments.Card{Brand: "Visa", Last4: "1881", ExpMonth: 1, ExpYear: time.Now().Year() + 2}); err != nil {
				t.Fatal(err)
			}
			e.say(c, "I added a new card in the app")
			if after, _ := e.st.pay.LastAuthorization(e.ctx, e.acct); after.Last4 != "1881" {
				t.Errorf("last authorization %+v, want the new card", after)
			}
			n, err := e.agent.paymentActions(e.ctx, e.acct, payAuthorize)
			if err != nil || n != 1 {
				t.Errorf("%d authorizations %v, want 1", n, err)
			}
		}},
		{"kill switch stops payment actions", func(t *testing.T, e *env) {
			cfg := e.st.cfg
			cfg.Enabled = func() bool { return false }
			var err error
			e.agent, err = New(cfg)
			must(t, err)
			e.paymentFault(payments.FaultDuplicateHolds, false)
			pending := func() int {
				hs, err := e.st.pay.Holds(e.ctx, e.acct, payments.HoldPending)
				must(t, err)
				return len(hs)
			}
			n := pending()
			c := e.sms()
			r := e.say(c, "I see 4 pending charges on my card from tapping at charger "+e.id+", I was charged multiple times")
			if pending() != n {
				t.Error("holds released while the agent is switched off")
			}
			e.status(r, chargedesk.ConversationEscalated)
			es, err := e.st.store.AuditEntries(e.ctx, chargedesk.AuditFilter{CommandID: payKey(e.acct)})
			must(t, err)
			if len(es) != 1 || es[0].Kind != payReleaseHold || es[0].Allowed || es[0].Actor != chargedesk.AgentActorPrefix+c.ID {
				t.Errorf("audit %+v, want one refused release", es)
			}
			// Switched on, every release is audited before and after.
			e.agent = e.st.agent
			c = e.sms()
			e.say(c, "I see 4 pending charges on my card from tapping at charger "+e.id+", I was charged multiple times")
			es, err = e.st.store.AuditEntries(e.ctx, chargedesk.AuditFilter{CommandID: payKey(e.acct)})
			must(t, err)
			stages := map[string]int{}
			for _, a := range es[1:] {
				stages[a.Kind+"/"+a.Stage]++
			}
			if stages[payReleaseHold+"/decision"] == 0 || stages[payReleaseHold+"/decision"] != stages[payReleaseHold+"/outcome"] {
				t.Errorf("audit stages %v", stages)
			}
		}},
		{"connector out of service for safety stays so", func(t *testing.T, e *env) {
			e.inject(sim.FaultLeftInoperative, sim.FaultOptions{})
			e.waitStatus(chargedesk.StatusUnavailable)
			// An anonymous caller cannot put it back.
			c := e.chat()
			r := e.say(c, "charger "+e.id+" says unavailable and won't let me charge")
			if n := e.commands(e.id); n["ChangeAvailability"] != 0 || r.Conversation.Verified != chargedesk.VerifiedNone {
				t.Errorf("unverified caller: commands %v", n)
			}
			// Nor a verified one while a repair ticket is open.
			must(t, e.st.store.CreateTicket(e.ctx, &chargedesk.Ticket{ID: "T-cut-" + e.id, Category: TicketFieldService, ChargerID: e.id,
				ConnectorID: 1, Summary: "cable cut, taken out of service", Status: chargedesk.TicketOpen, CreatedAt: time.Now(), UpdatedAt: time.Now()}))
			c = e.sms()
			r = e.say(c, "charger "+e.id+" says unavailable and won't let me charge")
			e.status(r, chargedesk.ConversationEscalated)
			e.ticket(r, TicketHumanReview)
			if n := e.commands(e.id); n["ChangeAvailability"] != 0 {
				t.Errorf("commands %v", n)
			}
		}},
		{"inoperative by the agent is not undone", func(t *testing.T, e *env) {
			c := e.chat()
			r := e.say(c, "the cable on charger "+e.id+" is cut and the wires are exposed, sparks came out")
			if n := e.commands(e.id); n["ChangeAvailability:Accepted"] != 1 {
				t.Fatalf("hazard: commands %v", n)
			}
			// Close the ticket as if repaired; only a person reverses the
			// agent's Inoperative.
			_, err := e.st.store.UpdateTicket(e.ctx, r.Conversation.TicketID, func(tk *chargedesk.Ticket) error {
				tk.Status = chargedesk.TicketClosed
				return nil
			})
			must(t, err)
			e.waitStatus(chargedesk.StatusUnavailable)
			c = e.sms()
			r = e.say(c, "charger "+e.id+" says unavailable and won't let me charge")
			e.status(r, chargedesk.ConversationEscalated)
			if n := e.commands(e.id); n["ChangeAvailability"] != 1 {
				t.Errorf("commands %v", n)
			}
		}},
		{"damage reports and the out-of-service cap", func(t *testing.T, e *env) {
			c := e.chat()
			r := e.say(c, "someone cut the price sticker on charger "+e.id+", there's a wire tie and some water on the ground")
			e.status(r, chargedesk.ConversationEscalated)
			if n := e.commands(e.id); n["ChangeAvailability"] != 0 {
				t.Errorf("vague report: commands %v", n)
			}
			e.say(e.chat(), "charger "+e.id+" is sparking and smoking, the cable is melted")
			if n := e.commands(e.id); n["ChangeAvailability"] != 1 {
				t.Fatalf("commands %v, want one Inoperative", n)
			}
			// Someone puts it back in service outside the agent; a second
			// hazard report the same day leaves it to people.
			if _, err := e.st.srv.Send(e.ctx, chargedesk.Command{ID: chargedesk.NewCommandID(), Kind: chargedesk.CmdChangeAvailability, ChargerID: e.id,
				ConnectorID: 1, Availability: chargedesk.AvailabilityOperative, Timeout: 5 * time.Second}); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(chargedesk.StatusAvailable)
			r = e.say(e.chat(), "charger "+e.id+" is sparking and smoking, the cable is melted")
			e.status(r, chargedesk.ConversationEscalated)
			e.ticket(r, TicketFieldService)
			if n := e.commands(e.id); n["ChangeAvailability"] != 1 {
				t.Errorf("commands %v, want one Inoperative", n)
			}
		}},
		{"unlock after a session needs the caller bound to it", func(t *testing.T, e *env) {
			tx := e.endSession()
			e.inject(sim.FaultLockAfterSession, sim.FaultOptions{})
			c := e.chat()
			r := e.say(c, "my session ended but the cable is stuck in charger "+e.id)
			if r.Text != say("en", keyAskStartTime) {
				t.Fatalf("reply %q, want the start time asked", r.Text)
			}
			wrong := tx.StartedAt.Add(-2 * time.Hour).In(time.Local).Format("3:04 pm")
			e.say(c, "around "+wrong)
			r = e.say(c, "maybe "+wrong)
			e.status(r, chargedesk.ConversationEscalated)
			if n := e.commands(e.id); n["UnlockConnector"] != 0 {
				t.Fatalf("unlocked for a stranger: %v", n)
			}
			c = e.chat()
			e.say(c, "my session ended but the cable is stuck in charger "+e.id)
			r = e.say(c, "I started at about "+tx.StartedAt.Add(5*time.Minute).In(time.Local).Format("15:04"))
			e.status(r, chargedesk.ConversationResolved)
			if n := e.commands(e.id); n["UnlockConnector:Unlocked"] != 1 {
				t.Errorf("commands %v", n)
			}
		}},
		{"a lone number or a thank-you is no start time", func(t *testing.T, e *env) {
			tx := e.endSession()
			e.inject(sim.FaultLockAfterSession, sim.FaultOptions{})
			c := e.chat()
			e.say(c, "my session ended but the cable is stuck in charger "+e.id)
			// The hour the session started, alone: it could answer anything.
			r := e.say(c, tx.StartedAt.In(time.Local).Format("3"))
			if r.Text != say("en", keyAskTimeAgain) {
				t.Fatalf("reply %q to a lone number, want the start time asked again", r.Text)
			}
			r = e.say(c, "ok thanks")
			if r.Text != say("en", keyStartTimeLater) {
				t.Fatalf("reply %q to a thank-you, want the start time left for later", r.Text)
			}
			e.status(r, chargedesk.ConversationOpen)
			e.noTicket(r)
			r = e.say(c, "I started about "+tx.StartedAt.In(time.Local).Format("3:04 pm"))
			e.status(r, chargedesk.ConversationResolved)
			if n := e.commands(e.id); n["UnlockConnector:Unlocked"] != 1 {
				t.Errorf("commands %v", n)
			}
		}},
		{"bare number while verifying keeps the charger", func(t *testing.T, e *env) {
			decoy := fmt.Sprintf("CDA-DCY-%04d", 1000+e.n)
			_, err := e.st.store.RegisterCharger(e.ctx, chargedesk.ChargerRegistration{ID: decoy, PasswordHash: chargedesk.HashPassword("decoy-secret-123"),
				BootStatus: chargedesk.RegistrationAccepted})
			must(t, err)
			e.inject(sim.FaultOwnSessionRunning, sim.FaultOptions{IDTag: e.tag})
			c := e.chat()
			e.say(c, "my cable is stuck in charger "+e.id+", please unlock it")
			e.say(c, "my phone is "+e.driver.Phone[2:])
			r := e.say(c, decoy[len(decoy)-4:])
			if r.Conversation.ChargerID != e.id {
				t.Errorf("charger %q after a bare number", r.Conversation.ChargerID)
			}
		}},
		{"state stored before each command", func(t *testing.T, e *env) {
			var checked atomic.Int32
			cfg := e.st.cfg
			cfg.Commands = commanderFunc(func(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
				c, err := e.st.store.Conversation(ctx, strings.TrimPrefix(cmd.Actor, chargedesk.AgentActorPrefix))
				if err != nil {
					return chargedesk.Result{}, err
				}
				var d convData
				must(t, json.Unmarshal(c.Data, &d))
				if n := len(d.Results); n == 0 || d.Results[n-1].Kind != cmd.Kind || d.Results[n-1].Status != resultPending || d.Tries["unlock"] == 0 {
					t.Errorf("before %s the stored state is %s", cmd.Kind, c.Data)
				}
				checked.Add(1)
				return e.st.gw.Send(ctx, cmd)
			})
			var err error
			e.agent, err = New(cfg)
			must(t, err)
			e.endSession()
			e.inject(sim.FaultLockAfterSession, sim.FaultOptions{})
			r := e.say(e.sms(), "my session ended but the cable is stuck in charger "+e.id)
			e.status(r, chargedesk.ConversationResolved)
			if checked.Load() == 0 {
				t.Error("no command sent")
			}
		}},
	}
	t.Run("all", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.run(t, newEnv(t, st, chargedesk.OCPP16, envOpts{}))
			})
		}
	})
	if err := st.store.VerifyAudit(t.Context()); err != nil {
		t.Error(err)
	}
}

// commanderFunc adapts a function to chargedesk.Commander.
type commanderFunc func(context.Context, chargedesk.Command) (chargedesk.Result, error)

func (f commanderFunc) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	return f(ctx, cmd)
}

// TestConversationLocks checks that a conversation's lock blocks only that
// conversation, even for ids the former 64 shared locks put together.
func TestConversationLocks(t *testing.T) {
	a, err := New(Config{Store: nilStore{}, Commands: commanderFunc(nil), NLU: nilNLU{}})
	if err != nil {
		t.Fatal(err)
	}
	slot := func(id string) uint32 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		return h.Sum32() % 64
	}
	x, y := "C-0", ""
	for i := 1; y == ""; i++ {
		if id := fmt.Sprintf("C-%d", i); slot(id) == slot(x) {
			y = id
		}
	}
	unlockX := a.lock(x)
	done := make(chan struct{})
	go func() {
		unlockY := a.lock(y)
		unlockY()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("conversation %s waits for %s", y, x)
	}
	// The same conversation waits.
	got, released := make(chan struct{}), make(chan struct{})
	go func() {
		u := a.lock(x)
		close(got)
		u()
		close(released)
	}()
	select {
	case <-got:
		t.Fatal("two handlers of one conversation at once")
	case <-time.After(50 * time.Millisecond):
	}
	unlockX()
	<-got
	<-released
	a.locksMu.Lock()
	defer a.locksMu.Unlock()
	if len(a.locks) != 0 {
		t.Errorf("%d locks left", len(a.locks))
	}
}

// nilStore and nilNLU satisfy New's checks for tests that never reach
// them.
type (
	nilStore struct{ chargedesk.Store }
	nilNLU   struct{ Understander }
)
