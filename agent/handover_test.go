package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sim"
)

// turnsOf returns a conversation's turns.
func (e *env) turnsOf(id string) []chargedesk.Turn {
	e.t.Helper()
	turns, err := e.st.store.Turns(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return turns
}

func TestTakeOverAndHandBack(t *testing.T) {
	st := newStack(t)
	e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
	c := e.sms()
	if r := e.say(c, "hi"); r.Text == "" {
		t.Fatal("no answer before the takeover")
	}

	conv, notice, err := e.agent.TakeOver(e.ctx, c.ID, "ada")
	must(t, err)
	if conv.Operator != "ada" || conv.Phase(time.Now()) != chargedesk.PhasePerson {
		t.Fatalf("after the takeover: operator %q, phase %s", conv.Operator, conv.Phase(time.Now()))
	}
	if notice == nil || notice.Role != chargedesk.RoleAgent || notice.Text != say("en", keyTakenOver) || notice.Seq == 0 {
		t.Fatalf("takeover notice %+v", notice)
	}
	// Taking it over again: the same operator changes nothing, another
	// one is refused.
	if _, again, err := e.agent.TakeOver(e.ctx, c.ID, "ada"); err != nil || again != nil {
		t.Fatalf("second takeover by the same operator: notice %+v, %v", again, err)
	}
	if _, _, err := e.agent.TakeOver(e.ctx, c.ID, "bob"); chargedesk.ErrorCode(err) != chargedesk.ECONFLICT {
		t.Fatalf("takeover of a conversation ada has: %v", err)
	}

	// The driver's messages are stored, card numbers masked; the agent
	// answers none and sends nothing to the charger.
	before := len(e.turnsOf(c.ID))
	r := e.say(c, "I plugged in at "+e.id+" and the session won't start, my card is 4111 1111 1111 1111")
	if r.Text != "" || len(r.Actions) != 0 || r.Conversation.Operator != "ada" {
		t.Fatalf("the agent answered while a person has the conversation: %q %v", r.Text, r.Actions)
	}
	turns := e.turnsOf(c.ID)
	if len(turns) != before+1 || turns[len(turns)-1].Role != chargedesk.RoleDriver {
		t.Fatalf("turns after the driver's message: %+v", turns[before:])
	}
	if strings.Contains(turns[len(turns)-1].Text, "4111 1111 1111 1111") {
		t.Errorf("card number stored: %q", turns[len(turns)-1].Text)
	}
	if n := e.commands(e.id); len(n) != 0 {
		t.Errorf("commands while a person has the conversation: %v", n)
	}

	// Only ada, or an admin's force, hands it back.
	if _, _, err := e.agent.HandBack(e.ctx, c.ID, "bob", false); chargedesk.ErrorCode(err) != chargedesk.ECONFLICT {
		t.Fatalf("hand back by another operator: %v", err)
	}
	conv, notice, err = e.agent.HandBack(e.ctx, c.ID, "ada", false)
	must(t, err)
	if conv.Operator != "" || notice == nil || notice.Text != say("en", keyHandedBack) {
		t.Fatalf("after the hand back: operator %q, notice %+v", conv.Operator, notice)
	}
	if _, again, err := e.agent.HandBack(e.ctx, c.ID, "ada", false); err != nil || again != nil {
		t.Fatalf("second hand back: notice %+v, %v", again, err)
	}
	if r := e.say(c, "are you there?"); r.Text == "" {
		t.Fatal("the agent does not answer after the hand back")
	}

	// Forced by an admin; the notice in the driver's language.
	fr, err := e.agent.Start(e.ctx, chargedesk.ChannelChat, "", "fr")
	must(t, err)
	_, notice, err = e.agent.TakeOver(e.ctx, fr.ID, "ada")
	must(t, err)
	if notice.Text != say("fr", keyTakenOver) || !strings.Contains(notice.Text, "prend") {
		t.Errorf("French takeover notice %q", notice.Text)
	}
	_, notice, err = e.agent.HandBack(e.ctx, fr.ID, "root", true)
	must(t, err)
	if notice.Text != say("fr", keyHandedBack) {
		t.Errorf("French hand back notice %q", notice.Text)
	}

	// Closed, unknown, nobody.
	closed := &chargedesk.Conversation{ID: "C-closed", Channel: chargedesk.ChannelChat, Language: "en", Status: chargedesk.ConversationClosed}
	must(t, e.st.store.CreateConversation(e.ctx, closed))
	if _, _, err := e.agent.TakeOver(e.ctx, closed.ID, "ada"); chargedesk.ErrorCode(err) != chargedesk.ECONFLICT {
		t.Errorf("takeover of a closed conversation: %v", err)
	}
	if _, _, err := e.agent.TakeOver(e.ctx, "C-none", "ada"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Errorf("takeover of an unknown conversation: %v", err)
	}
	if _, _, err := e.agent.TakeOver(e.ctx, c.ID, ""); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Errorf("takeover by nobody: %v", err)
	}
}

// A person takes over while the agent waits on the charger: the agent's
// commands and their results are kept, its answer is not given.
func TestTakeOverWhileTheAgentWaitsOnACharger(t *testing.T) {
	st := newStack(t)
	e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
	e.inject(sim.FaultRemoteStartIgnored, sim.FaultOptions{})
	e.plugIn()
	c := e.sms()
	type result struct {
		r   Reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := e.agent.Handle(e.ctx, c.ID, "I plugged in at "+e.id+" and the session won't start")
		done <- result{r, err}
	}()
	waiting := poll(e, "the agent waiting on the charger", func() (*chargedesk.Conversation, bool) {
		conv, err := e.st.store.Conversation(e.ctx, c.ID)
		return conv, err == nil && conv.Phase(time.Now()) == chargedesk.PhaseCharger
	})
	if !waiting.BusyUntil.After(time.Now()) {
		t.Fatalf("lease %v", waiting.BusyUntil)
	}
	if f := Findings(waiting); len(f.Commands) == 0 || f.Commands[len(f.Commands)-1].Status != string(resultPending) {
		t.Errorf("findings while waiting: %+v", f)
	}
	_, notice, err := e.agent.TakeOver(e.ctx, c.ID, "ada")
	must(t, err)
	res := <-done
	must(t, res.err)
	if res.r.Text != "" || res.r.Conversation.Operator != "ada" || res.r.Conversation.Busy != "" {
		t.Fatalf("reply after the takeover: %q, operator %q, busy %q", res.r.Text, res.r.Conversation.Operator, res.r.Conversation.Busy)
	}
	turns := e.turnsOf(c.ID)
	last := -1
	for i, tu := range turns {
		if tu.Role == chargedesk.RoleAgent {
			last = i
		}
	}
	if last < 0 || turns[last].Seq != notice.Seq {
		t.Errorf("the last agent turn is not the takeover's notice: %+v", turns)
	}
	stored, err := e.st.store.Conversation(e.ctx, c.ID)
	must(t, err)
	f := Findings(stored)
	if len(f.Commands) == 0 || f.Commands[0].Kind != string(chargedesk.CmdRemoteStart) || f.Commands[0].Status == string(resultPending) {
		t.Errorf("the agent's commands are not kept: %+v", f)
	}
	if stored.Phase(time.Now()) != chargedesk.PhasePerson {
		t.Errorf("phase %s", stored.Phase(time.Now()))
	}
}

// A takeover that finds another node's agent storing its answer waits for
// it: the driver reads the answer, then the notice.
func TestTakeOverWaitsForAnAnswerBeingStored(t *testing.T) {
	st := newStack(t)
	e := newEnv(t, st, chargedesk.OCPP16, envOpts{})
	c := e.chat()
	// Another node's agent marked the conversation and is storing its
	// answer.
	_, err := e.st.store.UpdateConversation(e.ctx, c.ID, func(c *chargedesk.Conversation) error {
		c.Busy, c.BusyUntil = chargedesk.BusyReplying, time.Now().Add(5*time.Second)
		return nil
	})
	must(t, err)
	done := make(chan *chargedesk.Turn, 1)
	go func() {
		_, notice, err := e.agent.TakeOver(e.ctx, c.ID, "ada")
		if err != nil {
			t.Error(err)
		}
		done <- notice
	}()
	select {
	case n := <-done:
		t.Fatalf("the notice %+v came before the answer being stored", n)
	case <-time.After(200 * time.Millisecond):
	}
	answer := &chargedesk.Turn{ConversationID: c.ID, Role: chargedesk.RoleAgent, Text: "the other node's answer"}
	must(t, e.st.store.AppendTurn(e.ctx, answer))
	_, err = e.st.store.UpdateConversation(e.ctx, c.ID, func(c *chargedesk.Conversation) error {
		c.Busy, c.BusyUntil = "", time.Time{}
		return nil
	})
	must(t, err)
	notice := <-done
	if notice == nil || notice.Seq != answer.Seq+1 {
		t.Fatalf("notice %+v after the answer %d", notice, answer.Seq)
	}
}
