package twilio

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// heldAgent is an agent whose answers the test gives, one per turn of the
// caller: Reply waits for it, so a holding line is spoken first.
type heldAgent struct{ answers chan string }

func (a *heldAgent) Open(ctx context.Context, id string, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, bool, error) {
	return &chargedesk.Conversation{ID: id, Channel: ch, Language: "en", Status: chargedesk.ConversationOpen}, false, nil
}

func (a *heldAgent) Reply(ctx context.Context, id, text string) (string, *chargedesk.Conversation, error) {
	answer := <-a.answers
	return answer, &chargedesk.Conversation{ID: id, Channel: chargedesk.ChannelVoice, Language: "en", Status: chargedesk.ConversationOpen}, nil
}

// amendStore keeps the greeting and records the amendments the line asks.
type amendStore struct {
	mu      sync.Mutex
	amended []chargedesk.Interruption
	asked   chan struct{}
}

const testGreeting = "Hello, this is charging support. What's the problem?"

func (s *amendStore) Conversation(ctx context.Context, id string) (*chargedesk.Conversation, error) {
	return &chargedesk.Conversation{ID: id, Channel: chargedesk.ChannelVoice, Language: "en", Status: chargedesk.ConversationOpen}, nil
}

func (s *amendStore) Turns(ctx context.Context, id string) ([]chargedesk.Turn, error) {
	return []chargedesk.Turn{{ConversationID: id, Seq: 1, Role: chargedesk.RoleAgent, Text: testGreeting}}, nil
}

func (s *amendStore) AmendInterruptedTurn(ctx context.Context, id string, in chargedesk.Interruption) (*chargedesk.Turn, error) {
	s.mu.Lock()
	s.amended = append(s.amended, in)
	s.mu.Unlock()
	s.asked <- struct{}{}
	return &chargedesk.Turn{ConversationID: id, Role: chargedesk.RoleAgent, Text: in.Heard}, nil
}

func (s *amendStore) Ticket(ctx context.Context, id string) (*chargedesk.Ticket, error) {
	return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "no ticket")
}

// logTap passes on the messages logged.
type logTap chan string

func (h logTap) Enabled(context.Context, slog.Level) bool { return true }
func (h logTap) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r.Message:
	default:
	}
	return nil
}
func (h logTap) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logTap) WithGroup(string) slog.Handler      { return h }

// TestRelayAmendsOnlyTheAnswerSpokenOver plays the races of a barge-in:
// an interrupt of a holding line while the agent works, of an answer sent
// while Twilio still spoke a holding line, of the greeting, and a second
// interrupt of one answer.
func TestRelayAmendsOnlyTheAnswerSpokenOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store := &amendStore{asked: make(chan struct{}, 16)}
	agent := &heldAgent{answers: make(chan string)}
	logs := make(logTap, 1024)
	v, err := NewVoice(VoiceConfig{AuthToken: "relay-test-token", Agent: agent, Store: store, Logger: slog.New(logs),
		HoldAfter: time.Millisecond, HoldEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.Handler())
	defer srv.Close()
	call := &RelayCall{Target: srv.URL, AuthToken: "relay-test-token", CallSid: "CA00000000000000000000000000000001", From: "+15145550100", To: "+18005550100"}
	if err := call.Dial(ctx); err != nil {
		t.Fatal(err)
	}
	if err := call.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	// utterance reads the line's messages up to the next last token.
	utterance := func() string {
		t.Helper()
		var b strings.Builder
		for {
			m, err := call.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != "text" {
				continue
			}
			b.WriteString(m.Token)
			if m.Last {
				return strings.TrimSpace(b.String())
			}
		}
	}
	interrupt := func(heard string, ms int) {
		t.Helper()
		if err := call.Interrupt(ctx, heard, ms); err != nil {
			t.Fatal(err)
		}
	}
	// amended waits for the line to ask the store to amend a turn.
	amended := func() chargedesk.Interruption {
		t.Helper()
		select {
		case <-store.asked:
		case <-ctx.Done():
			t.Fatal("no amendment asked")
		}
		store.mu.Lock()
		defer store.mu.Unlock()
		return store.amended[len(store.amended)-1]
	}
	// skipped waits for the line to log that an interrupt cut no turn.
	skipped := func() {
		t.Helper()
		for {
			select {
			case msg := <-logs:
				if strings.Contains(msg, "nothing to amend") {
					return
				}
			case <-ctx.Done():
				t.Fatal("the interrupt was not taken")
			}
		}
	}
	noMoreAmendments := func() {
		t.Helper()
		select {
		case <-store.asked:
			t.Fatalf("amendments asked: %+v", store.amended)
		default:
		}
	}

	// The greeting, spoken over: its turn keeps what was heard.
	interrupt("Hello, this is", 700)
	if got := amended(); got != (chargedesk.Interruption{Planned: testGreeting, Heard: "Hello, this is", DurationMs: 700}) {
		t.Errorf("greeting amended as %+v", got)
	}

	// A holding line spoken over while the agent works: no turn of the
	// transcript was cut, and the greeting is not cut again.
	if err := call.Prompt(ctx, "my charge won't start", "en-US"); err != nil {
		t.Fatal(err)
	}
	hold := utterance()
	if !HoldingLine(hold) {
		t.Fatalf("first utterance %q, want a holding line", hold)
	}
	interrupt("One moment", 300)
	skipped()
	const first = "I restarted the charger. Your session has started."
	agent.answers <- first
	if got := utterance(); got != first {
		t.Fatalf("answer %q, want %q", got, first)
	}
	noMoreAmendments()

	// The next answer is sent while Twilio still speaks the holding line
	// before it: the caller heard none of the answer.
	if err := call.Prompt(ctx, "it stopped again", "en-US"); err != nil {
		t.Fatal(err)
	}
	if hold = utterance(); !HoldingLine(hold) {
		t.Fatalf("utterance %q, want a holding line", hold)
	}
	const second = "The charger reports a fault. I opened a ticket."
	agent.answers <- second
	if got := utterance(); got != second {
		t.Fatalf("answer %q, want %q", got, second)
	}
	interrupt("One moment, I'm working", 900)
	if got := amended(); got != (chargedesk.Interruption{Planned: second, Heard: "", DurationMs: 900}) {
		t.Errorf("answer after a holding line amended as %+v", got)
	}
	// A second interrupt of the same answer amends nothing more.
	interrupt("The charger", 50)
	skipped()
	noMoreAmendments()

	// Twilio reports the holding line with the part of the answer heard
	// after it: only that part is the answer's.
	if err := call.Prompt(ctx, "what ticket", "en-US"); err != nil {
		t.Fatal(err)
	}
	if hold = utterance(); !HoldingLine(hold) {
		t.Fatalf("utterance %q, want a holding line", hold)
	}
	const third = "Your ticket is T 12. A technician will call you."
	agent.answers <- third
	// The answer is spoken in its spoken rendering ("T twelve"): what is
	// stored as heard is what Twilio reports, no prefix of the answer.
	said := Sentences(utterance())
	if len(said) != 2 || strings.HasPrefix(third, said[0]) {
		t.Fatalf("answer spoken as %q", said)
	}
	// The duration comes as a string here, as a number before.
	if err := call.Send(ctx, RelayMessage{Type: "interrupt", UtteranceUntilInterrupt: hold + " " + said[0], DurationUntilInterruptMs: "1500"}); err != nil {
		t.Fatal(err)
	}
	if got := amended(); got != (chargedesk.Interruption{Planned: third, Heard: said[0], DurationMs: 1500}) {
		t.Errorf("answer heard after a holding line amended as %+v", got)
	}
}

func TestAnswerHeard(t *testing.T) {
	hold, again := line(lineHold, "en"), line(lineHoldAgain, "en")
	for _, tt := range []struct {
		name  string
		heard string
		held  []string
		want  string
	}{
		{"no holding line", "Done: your session", nil, "Done: your session"},
		{"as Twilio says it", "Done:  your session", nil, "Done:  your session"},
		{"nothing heard", "", []string{hold}, ""},
		{"within the holding line", "One moment, I'm working", []string{hold}, ""},
		{"the whole holding line", hold, []string{hold}, ""},
		{"the holding line, then the answer", hold + " Done: your session", []string{hold}, "Done: your session"},
		{"two holding lines, then the answer", hold + " " + again + " Done:", []string{hold, again}, "Done:"},
		{"within the second holding line", hold + " Still working", []string{hold, again}, ""},
		{"the answer alone after holding lines", "Done: your session", []string{hold, again}, "Done: your session"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := answerHeard(tt.heard, tt.held); got != tt.want {
				t.Errorf("answerHeard(%q) = %q, want %q", tt.heard, got, tt.want)
			}
		})
	}
}

func TestInterruptMs(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want int64
	}{
		{float64(850), 850},
		{float64(0), 0},
		{"1200", 1200},
		{" 12.7 ", 12},
		{nil, -1},
		{"soon", -1},
		{float64(-5), -1},
		{float64(1e12), -1},
		{true, -1},
	} {
		if got := interruptMs(tt.in); got != tt.want {
			t.Errorf("interruptMs(%#v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
