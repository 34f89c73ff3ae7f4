package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
)

// fakeAgent answers every message with an echo and keeps conversations in a
// map shared with the fake store.
type fakeAgent struct {
	mu      sync.Mutex
	convs   map[string]*chargedesk.Conversation
	turns   map[string][]chargedesk.Turn
	enabled bool
	n       int
}

var _ httpapi.Agent = (*fakeAgent)(nil)

func newFakeAgent() *fakeAgent {
	return &fakeAgent{convs: map[string]*chargedesk.Conversation{}, turns: map[string][]chargedesk.Turn{}, enabled: true}
}

func (a *fakeAgent) Start(_ context.Context, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return a.startLocked("conv-"+strings.Repeat("x", a.n), ch, from, lang), nil
}

func (a *fakeAgent) Open(_ context.Context, id string, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.convs[id]; ok {
		return c, false, nil
	}
	return a.startLocked(id, ch, from, lang), true, nil
}

func (a *fakeAgent) startLocked(id string, ch chargedesk.Channel, from, lang string) *chargedesk.Conversation {
	c := &chargedesk.Conversation{ID: id, Channel: ch, From: from, Language: lang, Status: chargedesk.ConversationOpen}
	a.convs[id] = c
	a.turns[id] = []chargedesk.Turn{{ConversationID: id, Seq: 1, Role: chargedesk.RoleAgent, Text: "Hi, how can I help?"}}
	return c
}

func (a *fakeAgent) Reply(_ context.Context, id, text string) (string, *chargedesk.Conversation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.convs[id]
	if !ok {
		return "", nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "conversation %s not found", id)
	}
	a.turns[id] = append(a.turns[id],
		chargedesk.Turn{ConversationID: id, Role: chargedesk.RoleDriver, Text: text},
		chargedesk.Turn{ConversationID: id, Role: chargedesk.RoleAction, Text: "TriggerMessage", Meta: json.RawMessage(`{"secret":1}`)},
		chargedesk.Turn{ConversationID: id, Role: chargedesk.RoleAgent, Text: "you said: " + text})
	return "you said: " + text, c, nil
}

func (a *fakeAgent) SetEnabled(on bool) { a.mu.Lock(); a.enabled = on; a.mu.Unlock() }
func (a *fakeAgent) Enabled() bool      { a.mu.Lock(); defer a.mu.Unlock(); return a.enabled }

func (a *fakeAgent) store() *fakeStore {
	return &fakeStore{
		ConversationFn: func(_ context.Context, id string) (*chargedesk.Conversation, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if c, ok := a.convs[id]; ok {
				return c, nil
			}
			return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "conversation %s not found", id)
		},
		TurnsFn: func(_ context.Context, id string) ([]chargedesk.Turn, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			return append([]chargedesk.Turn(nil), a.turns[id]...), nil
		},
		ConversationsFn: func(context.Context, chargedesk.ConversationFilter) ([]*chargedesk.Conversation, error) {
			return nil, nil
		},
	}
}

func TestConversationAPI(t *testing.T) {
	ag := newFakeAgent()
	api := start(t, httpapi.Config{Store: ag.store(), Agent: ag})
	res := api.call("POST", "/api/v1/conversations", `{"channel":"sms","from":"+15555550123","language":"fr"}`)
	var conv struct {
		ID    string
		Turns []chargedesk.Turn
	}
	wantJSON(t, res, http.StatusCreated, &conv)
	if conv.ID == "" || len(conv.Turns) != 1 {
		t.Fatalf("started %+v", conv)
	}
	var reply struct{ Reply string }
	wantJSON(t, api.call("POST", "/api/v1/conversations/"+conv.ID+"/messages", `{"text":"borne 42 bloquée"}`), 200, &reply)
	if reply.Reply != "you said: borne 42 bloquée" {
		t.Fatalf("reply %q", reply.Reply)
	}
	wantJSON(t, api.call("GET", "/api/v1/conversations/"+conv.ID, ""), 200, &conv)
	if len(conv.Turns) != 4 {
		t.Fatalf("operator transcript has %d turns, want all 4 incl. the action", len(conv.Turns))
	}
	for _, bad := range []struct{ path, body, msg string }{
		{"/api/v1/conversations", `{"channel":"fax"}`, "channel"},
		{"/api/v1/conversations", `{"channel":"chat","language":"de"}`, "language"},
		{"/api/v1/conversations/" + conv.ID + "/messages", `{"text":""}`, "text"},
		{"/api/v1/conversations/" + conv.ID + "/messages", `{"text":"` + strings.Repeat("a", chargedesk.MaxMessageLen+1) + `"}`, "text"},
	} {
		wantError(t, api.call("POST", bad.path, bad.body), 400, chargedesk.EINVALID, bad.msg)
	}
	wantError(t, api.call("POST", "/api/v1/conversations/nope/messages", `{"text":"hi"}`), 404, chargedesk.ENOTFOUND, "")
	// The kill switch.
	var sw struct{ Enabled bool }
	wantJSON(t, api.call("PUT", "/api/v1/agent", `{"enabled":false}`), 200, &sw)
	if sw.Enabled || ag.Enabled() {
		t.Fatal("agent not switched off")
	}
	wantError(t, api.call("PUT", "/api/v1/agent", `{}`), 400, chargedesk.EINVALID, "enabled")
}

func TestPublicChat(t *testing.T) {
	ag := newFakeAgent()
	api := start(t, httpapi.Config{Store: ag.store(), Agent: ag})
	page := api.raw("GET", "/chat", nil, nil)
	if page.status != 200 || !strings.Contains(string(page.body), "<form id=\"form\"") || page.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("chat page: %d %s", page.status, page.header)
	}
	start := api.raw("POST", "/chat/api/conversations", strings.NewReader(`{"language":"es"}`), nil)
	var conv struct{ ID string }
	wantJSON(t, start, http.StatusCreated, &conv)
	if c := ag.convs[conv.ID]; c.Channel != chargedesk.ChannelChat {
		t.Fatalf("a public chat opened a %s conversation", c.Channel)
	}
	// The public answer carries the reply, not the agent's working state.
	msg := api.raw("POST", "/chat/api/conversations/"+conv.ID+"/messages", strings.NewReader(`{"text":"hola"}`), nil)
	var pub map[string]any
	wantJSON(t, msg, 200, &pub)
	if _, leak := pub["conversation"]; leak || pub["reply"] == nil || len(pub) != 3 {
		t.Fatalf("public chat answer %v", pub)
	}
	// Drivers see what was said, not the agent's actions or their details.
	api.raw("POST", "/chat/api/conversations/"+conv.ID+"/messages", strings.NewReader(`{"text":"hola"}`), nil)
	var tr struct{ Turns []chargedesk.Turn }
	wantJSON(t, api.raw("GET", "/chat/api/conversations/"+conv.ID, nil, nil), 200, &tr)
	for _, turn := range tr.Turns {
		if turn.Role == chargedesk.RoleAction || turn.Meta != nil {
			t.Fatalf("public transcript shows %+v", turn)
		}
	}
	// The public chat cannot reach other channels' conversations.
	sms, _ := ag.Start(context.Background(), chargedesk.ChannelSMS, "+15555550100", "en")
	if res := api.raw("POST", "/chat/api/conversations/"+sms.ID+"/messages", strings.NewReader(`{"text":"hi"}`), nil); res.status != 404 {
		t.Fatalf("chat API reached an SMS conversation: %d", res.status)
	}
	// Messages per conversation are bounded.
	limited := false
	for i := 0; i < 25 && !limited; i++ {
		res := api.raw("POST", "/chat/api/conversations/"+conv.ID+"/messages", strings.NewReader(`{"text":"again"}`), nil)
		limited = res.status == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("25 messages in a minute were all accepted")
	}
	// No operator routes without a key.
	if res := api.raw("GET", "/api/v1/conversations", nil, nil); res.status != 401 {
		t.Fatalf("operator conversation list without a key: %d", res.status)
	}
}

func TestTicketAPI(t *testing.T) {
	tk := &chargedesk.Ticket{ID: "T-1", Category: "field_service", Summary: "lock broken", Status: chargedesk.TicketOpen}
	store := &fakeStore{
		TicketsFn: func(_ context.Context, f chargedesk.TicketFilter) ([]*chargedesk.Ticket, error) {
			if f.Status != "" && f.Status != tk.Status {
				return nil, nil
			}
			return []*chargedesk.Ticket{tk}, nil
		},
		TicketFn: func(_ context.Context, id string) (*chargedesk.Ticket, error) {
			if id != tk.ID {
				return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "ticket %s not found", id)
			}
			return tk, nil
		},
		UpdateTicketFn: func(_ context.Context, id string, fn func(*chargedesk.Ticket) error) (*chargedesk.Ticket, error) {
			c := *tk
			if err := fn(&c); err != nil {
				return nil, err
			}
			*tk = c
			return tk, nil
		},
	}
	api := start(t, httpapi.Config{Store: store})
	var list struct{ Tickets []chargedesk.Ticket }
	wantJSON(t, api.call("GET", "/api/v1/tickets?status=open", ""), 200, &list)
	if len(list.Tickets) != 1 {
		t.Fatalf("tickets %+v", list)
	}
	var got chargedesk.Ticket
	wantJSON(t, api.call("PATCH", "/api/v1/tickets/T-1", `{"status":"assigned","assignee":"field-team-3"}`), 200, &got)
	if got.Status != chargedesk.TicketAssigned || got.Assignee != "field-team-3" {
		t.Fatalf("after assign: %+v", got)
	}
	wantJSON(t, api.call("PATCH", "/api/v1/tickets/T-1", `{"status":"closed","resolution":"lock replaced"}`), 200, &got)
	wantError(t, api.call("PATCH", "/api/v1/tickets/T-1", `{"status":"assigned"}`), 409, chargedesk.ECONFLICT, "cannot go from closed")
	wantError(t, api.call("GET", "/api/v1/tickets/T-9", ""), 404, chargedesk.ENOTFOUND, "")
}
