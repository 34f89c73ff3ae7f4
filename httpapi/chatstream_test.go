package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/internal/sse/ssetest"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// memFeed is a conversation feed in memory: one node.
type memFeed struct {
	mu   sync.Mutex
	n    int
	subs map[int]memSub
}

type memSub struct {
	id string
	fn func(chargedesk.ConversationChange)
}

func (f *memFeed) PublishConversation(ch chargedesk.ConversationChange) error {
	f.mu.Lock()
	var fns []func(chargedesk.ConversationChange)
	for _, s := range f.subs {
		if s.id == "" || s.id == ch.ID {
			fns = append(fns, s.fn)
		}
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(ch)
	}
	return nil
}

func (f *memFeed) SubscribeConversations(id string, fn func(chargedesk.ConversationChange)) (func() error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]memSub{}
	}
	f.n++
	n := f.n
	f.subs[n] = memSub{id, fn}
	return func() error { f.mu.Lock(); delete(f.subs, n); f.mu.Unlock(); return nil }, nil
}

// storeAgent is an agent on a real store: a greeting, the driver's turn,
// an action and an echo, or nothing while a person has the conversation.
type storeAgent struct {
	st chargedesk.Store
	n  atomic.Int64
}

func (a *storeAgent) Start(ctx context.Context, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, error) {
	return a.start(ctx, fmt.Sprintf("C-%032d", a.n.Add(1)), ch, from)
}

func (a *storeAgent) Open(ctx context.Context, id string, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, bool, error) {
	c, err := a.st.Conversation(ctx, id)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		c, err = a.start(ctx, id, ch, from)
		return c, err == nil, err
	}
	return c, false, err
}

func (a *storeAgent) start(ctx context.Context, id string, ch chargedesk.Channel, from string) (*chargedesk.Conversation, error) {
	c := &chargedesk.Conversation{ID: id, Channel: ch, From: from, Language: "en", Status: chargedesk.ConversationOpen}
	if err := a.st.CreateConversation(ctx, c); err != nil {
		return nil, err
	}
	return c, a.st.AppendTurn(ctx, &chargedesk.Turn{ConversationID: c.ID, Role: chargedesk.RoleAgent, Text: "Hi, how can I help?"})
}

func (a *storeAgent) Reply(ctx context.Context, id, text string) (string, *chargedesk.Conversation, error) {
	c, err := a.st.Conversation(ctx, id)
	if err != nil {
		return "", nil, err
	}
	for _, t := range []chargedesk.Turn{{Role: chargedesk.RoleDriver, Text: text}, {Role: chargedesk.RoleAction, Text: "TriggerMessage", Meta: json.RawMessage(`{"secret":1}`)}} {
		t.ConversationID = id
		if err := a.st.AppendTurn(ctx, &t); err != nil {
			return "", nil, err
		}
	}
	if c.Operator != "" {
		return "", c, nil
	}
	reply := "you said: " + text
	return reply, c, a.st.AppendTurn(ctx, &chargedesk.Turn{ConversationID: id, Role: chargedesk.RoleAgent, Text: reply})
}

func (a *storeAgent) SetEnabled(bool) {}
func (a *storeAgent) Enabled() bool   { return true }

func TestChatEventStream(t *testing.T) {
	ctx := context.Background()
	raw, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	feed := &memFeed{}
	st := natsbus.NotifyConversations(raw, feed, nil)
	ag := &storeAgent{st: st}
	api := start(t, httpapi.Config{Store: st, Agent: ag, Feed: feed, Now: time.Now})

	// The page runs its own script and style only.
	page := api.raw("GET", "/chat", nil, nil)
	csp := page.header.Get("Content-Security-Policy")
	if page.status != 200 || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "script-src 'self'") ||
		strings.Contains(string(page.body), "<script>") || strings.Contains(string(page.body), "<style>") ||
		!strings.Contains(string(page.body), `<script src="/chat/chat.js"`) {
		t.Fatalf("chat page: %d CSP %q\n%s", page.status, csp, page.body)
	}
	for path, ct := range map[string]string{"/chat/chat.js": "text/javascript", "/chat/chat.css": "text/css"} {
		if res := api.raw("GET", path, nil, nil); res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), ct) || len(res.body) == 0 {
			t.Errorf("%s: %d %q", path, res.status, res.header.Get("Content-Type"))
		}
	}

	var conv struct {
		ID    string
		Turns []chargedesk.Turn
	}
	wantJSON(t, api.raw("POST", "/chat/api/conversations", strings.NewReader(`{"language":"en"}`), nil), http.StatusCreated, &conv)
	if len(conv.Turns) != 1 || conv.Turns[0].Seq != 1 {
		t.Fatalf("greeting %+v", conv.Turns)
	}
	events := func(after string, header http.Header) *ssetest.Stream {
		t.Helper()
		s, err := ssetest.Open(http.DefaultClient, api.url+"/chat/api/conversations/"+conv.ID+"/events"+after, header)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	next := func(s *ssetest.Stream) chargedesk.Turn {
		t.Helper()
		ev, err := s.Next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var turn chargedesk.Turn
		if ev.Name != "turn" || json.Unmarshal([]byte(ev.Data), &turn) != nil || ev.ID != fmt.Sprint(turn.Seq) {
			t.Fatalf("event %+v", ev)
		}
		return turn
	}
	s := events("?after=1", nil)
	if s.Status != 200 || !strings.HasPrefix(s.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %q", s.Status, s.Header.Get("Content-Type"))
	}

	// What the driver and the agent say comes in order; the agent's
	// action does not, nor any turn's details. Markup is text, escaped.
	const hostile = `hello <script>alert(1)</script>`
	res := api.raw("POST", "/chat/api/conversations/"+conv.ID+"/messages", strings.NewReader(`{"text":"hello <script>alert(1)</script>"}`), nil)
	if res.status != 200 {
		t.Fatalf("message: %d %s", res.status, res.body)
	}
	if d := next(s); d.Seq != 2 || d.Role != chargedesk.RoleDriver || d.Text != hostile || d.Meta != nil {
		t.Fatalf("driver turn %+v", d)
	}
	if a := next(s); a.Seq != 4 || a.Role != chargedesk.RoleAgent || a.Text != "you said: "+hostile {
		t.Fatalf("agent turn %+v", a)
	}

	// A person of the staff takes over: the driver's page gets their
	// words, though it asked nothing; the chat's answer is empty.
	_, err = st.UpdateConversation(ctx, conv.ID, func(c *chargedesk.Conversation) error { c.Operator = "ada"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendTurn(ctx, &chargedesk.Turn{ConversationID: conv.ID, Role: chargedesk.RoleOperatorTurn, Text: "Hi, I'm Ada from support."}); err != nil {
		t.Fatal(err)
	}
	if o := next(s); o.Seq != 5 || o.Role != chargedesk.RoleOperatorTurn || o.Text != "Hi, I'm Ada from support." {
		t.Fatalf("operator turn %+v", o)
	}
	var pub struct{ Reply string }
	wantJSON(t, api.raw("POST", "/chat/api/conversations/"+conv.ID+"/messages", strings.NewReader(`{"text":"thanks"}`), nil), 200, &pub)
	if pub.Reply != "" {
		t.Errorf("reply while a person has the chat: %q", pub.Reply)
	}
	if d := next(s); d.Seq != 6 || d.Text != "thanks" {
		t.Fatalf("driver turn %+v", d)
	}

	// A reconnecting page gets what it missed after its last event.
	again := events("?after=1", http.Header{"Last-Event-ID": {"4"}})
	if o := next(again); o.Seq != 5 || o.Role != chargedesk.RoleOperatorTurn {
		t.Fatalf("after reconnecting: %+v", o)
	}

	// Only chat conversations, a sane cursor, a bounded number of streams.
	sms, err := ag.Start(ctx, chargedesk.ChannelSMS, "+15555550100", "en")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"/chat/api/conversations/" + sms.ID + "/events":          404,
		"/chat/api/conversations/C-nope/events":                  404,
		"/chat/api/conversations/" + conv.ID + "/events?after=x": 400,
	} {
		st, err := ssetest.Open(http.DefaultClient, api.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if st.Status != want {
			t.Errorf("%s: %d, want %d", path, st.Status, want)
		}
	}
	events("", nil)
	events("", nil) // 4 open for this conversation and client now
	if over := events("", nil); over.Status != http.StatusTooManyRequests {
		t.Errorf("a fifth stream of one conversation: %d", over.Status)
	}
}
