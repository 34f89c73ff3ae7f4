package main

// The console's takeover end to end: chargedesk as serve wires it (the
// real agent on SQLite, the bus, the policy gateway, the public web chat,
// the Twilio webhooks and the console), a simulated fleet, and a fake
// Twilio. A driver writes in the web chat, an operator takes the
// conversation over in the console, the agent falls silent, the operator's
// words reach the driver's page through its event stream, the operator
// hands back and the agent answers again. The same over SMS (the fake
// Twilio receives what is texted) and on a call (transferred to the
// staff's number through the REST API).

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/internal/sse/ssetest"
	"golang.org/x/crypto/bcrypt"
)

// smsE2EHuman is the staff's number a call is transferred to.
const smsE2EHuman = "+18005550199"

// consoleClient is an operator's browser on the console.
type consoleClient struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// operator creates a console account of role and signs it in.
func (s *smsStack) operator(t *testing.T, username string, role chargedesk.Role) *consoleClient {
	t.Helper()
	pw := "e2e-password-of-" + username
	hash, err := console.HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.srv.store.PutOperator(context.Background(), &chargedesk.Operator{Username: username, Role: role, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	cc := &consoleClient{t: t, base: s.srv.apiURL, hc: &http.Client{Jar: jar, Timeout: e2eReplyTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cc.get("/console/signin")
	if status, loc, body := cc.post("/console/signin", url.Values{"username": {username}, "password": {pw}}); status != http.StatusSeeOther || loc != "/console/" {
		t.Fatalf("sign in as %s: %d %q %s", username, status, loc, body)
	}
	cc.get("/console/")
	return cc
}

func (cc *consoleClient) get(path string) (int, string) {
	cc.t.Helper()
	res, err := cc.hc.Get(cc.base + path)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		cc.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

// post sends a console form with the session's token.
func (cc *consoleClient) post(path string, form url.Values) (int, string, string) {
	cc.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", cc.csrf)
	res, err := cc.hc.PostForm(cc.base+path, form)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// act takes over, writes or hands back, and fails unless it worked.
func (cc *consoleClient) act(convID, action string, form url.Values) string {
	cc.t.Helper()
	path := "/console/conversations/" + convID
	cc.get(path)
	status, loc, body := cc.post(path+"/"+action, form)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, path+"?done=") {
		cc.t.Fatalf("%s %s: %d %q %s", action, convID, status, loc, body)
	}
	done, _ := url.QueryUnescape(strings.TrimPrefix(loc, path+"?done="))
	return done
}

// chatTurn is a turn as the chat's event stream gives it.
type chatTurn struct {
	Seq        int64
	Role, Text string
}

// await reads the chat's stream until a turn of role whose text contains
// want comes, and returns the turns read.
func awaitTurn(t *testing.T, s *ssetest.Stream, role, want string) []chatTurn {
	t.Helper()
	var seen []chatTurn
	_, err := s.Until(20*time.Second, func(ev ssetest.Event) bool {
		var tu chatTurn
		if ev.Name != "turn" || json.Unmarshal([]byte(ev.Data), &tu) != nil {
			return false
		}
		seen = append(seen, tu)
		return tu.Role == role && strings.Contains(tu.Text, want)
	})
	if err != nil {
		t.Fatalf("the chat's stream has no %s turn with %q: %v (read %+v)", role, want, err, seen)
	}
	return seen
}

// audited is the console's audit of a conversation: "actor kind outcome".
func (s *smsStack) audited(c *e2eClient, convID string) []string {
	c.t.Helper()
	var list struct{ Entries []chargedesk.AuditEntry }
	if code := c.do("GET", "/api/v1/audit?limit=1000&commandId="+url.QueryEscape(convID), nil, true, &list); code != http.StatusOK {
		c.t.Fatalf("audit: %d", code)
	}
	var out []string
	for _, e := range list.Entries {
		out = append(out, e.Actor+" "+e.Kind+" "+e.Outcome)
	}
	return out
}

func TestConsoleTakeoverEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chargedesk with a simulated fleet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startSMSStack(t, ctx)
	ada := s.operator(t, "ada", chargedesk.RoleOperator)
	t.Run("web chat", func(t *testing.T) { s.chatTakeover(t, ctx, ada) })
	t.Run("sms", func(t *testing.T) { s.smsTakeover(t, ctx, ada) })
	t.Run("voice", func(t *testing.T) { s.callTakeover(t, ctx, ada) })
}

// chatTakeover: the driver in the public web chat, the operator in the
// console.
func (s *smsStack) chatTakeover(t *testing.T, ctx context.Context, ada *consoleClient) {
	c := &e2eClient{t: t, ctx: ctx, api: s.c.api, key: s.c.key, hc: s.c.hc}
	ada.t = t
	chat := c.startChat("en")
	// The driver's page listens to the conversation, as chat.js does.
	stream, err := ssetest.Open(http.DefaultClient, s.srv.apiURL+"/chat/api/conversations/"+chat.id+"/events?after=1", nil)
	if err != nil || stream.Status != http.StatusOK {
		t.Fatalf("chat stream: %v %v", stream, err)
	}
	defer stream.Close()
	id := s.charger(c)
	if reply := chat.say("hi, the charging session won't start at " + id); reply == "" {
		t.Fatal("the agent does not answer")
	}
	awaitTurn(t, stream, "agent", "")

	// The operator takes over: the driver's page is told.
	if done := ada.act(chat.id, "takeover", nil); !strings.Contains(done, "You have this conversation now") {
		t.Errorf("takeover said %q", done)
	}
	awaitTurn(t, stream, "agent", "A person from our support team is taking over")

	// The driver writes: no answer from the agent.
	before := len(s.turns(c, chat.id))
	if reply := chat.say("hello? is someone there?"); reply != "" {
		t.Errorf("the agent answered while a person has the conversation: %q", reply)
	}
	time.Sleep(300 * time.Millisecond)
	after := s.turns(c, chat.id)
	if len(after) != before+1 || !strings.HasPrefix(after[len(after)-1], "driver: hello?") {
		t.Fatalf("after the driver's message under the operator:\n%s", strings.Join(after[before:], "\n"))
	}

	// The operator writes: the driver's page gets it, unasked.
	const words = "Hi, I'm Ada from support. I'm looking at your charger now."
	if done := ada.act(chat.id, "messages", url.Values{"text": {words}}); done != "Sent." {
		t.Errorf("message said %q", done)
	}
	if seen := awaitTurn(t, stream, "operator", words); seen[len(seen)-1].Text != words {
		t.Errorf("operator turn %+v", seen[len(seen)-1])
	}
	if _, page := ada.get("/console/conversations/" + chat.id); !strings.Contains(page, "Operator ada") || !strings.Contains(page, "I&#39;m looking at your charger") {
		t.Error("the console's transcript lacks the operator's message")
	}

	// Hand back: the driver is told, and the agent answers again.
	ada.act(chat.id, "handback", nil)
	awaitTurn(t, stream, "agent", "You're back with the automated assistant")
	if reply := chat.say("it still won't start at " + id); reply == "" {
		t.Fatal("the agent does not answer after the hand back")
	}
	awaitTurn(t, stream, "agent", "")

	want := []string{"console:ada console.takeover ok", "console:ada console.message ok", "console:ada console.handback ok"}
	if got := s.audited(c, chat.id); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit of %s:\n%s\nwant:\n%s", chat.id, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// smsTakeover: the driver texts, the operator's words are texted back
// through Twilio's Messages API.
func (s *smsStack) smsTakeover(t *testing.T, ctx context.Context, ada *consoleClient) {
	c := &e2eClient{t: t, ctx: ctx, api: s.c.api, key: s.c.key, hc: s.c.hc}
	ada.t = t
	who := s.driver(t, "en")
	phone := &smsPhone{s: s, c: c, phone: who.Phone}
	id := s.charger(c)
	phone.text("hi, the charging session won't start at " + id)
	convs := s.conversations(c, who.ID)
	if len(convs) != 1 {
		t.Fatalf("conversations of %s: %+v", who.ID, convs)
	}
	conv := convs[0].ID
	sent := len(s.sentTo(who.Phone))
	texted := func(want string) {
		t.Helper()
		if !c.waitFor(10*time.Second, func() bool { return len(s.sentTo(who.Phone)) > sent }) {
			t.Fatalf("nothing texted to the driver; want %q", want)
		}
		got := s.sentTo(who.Phone)
		m := got[len(got)-1]
		sent = len(got)
		if !strings.Contains(m.Body, want) || m.From != smsE2ENumber {
			t.Fatalf("texted %+v, want %q from %s", m, want, smsE2ENumber)
		}
	}

	ada.act(conv, "takeover", nil)
	texted("A person from our support team is taking over")

	// The driver's text gets no answer, in the webhook or later.
	res, err := s.post(ctx, s.nextSID(), who.Phone, "ok thanks, waiting")
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("text: %+v %v", res, err)
	}
	var tw smsTwiML
	if err := xml.Unmarshal([]byte(res.Body), &tw); err != nil || len(tw.Messages) != 0 {
		t.Errorf("the webhook answered %q while a person has the conversation", res.Body)
	}

	ada.act(conv, "messages", url.Values{"text": {"Hi, this is Ada from support: I'm restarting the charger for you."}})
	texted("Hi, this is Ada from support: I'm restarting the charger for you.")
	time.Sleep(time.Second)
	if n := len(s.sentTo(who.Phone)); n != sent {
		t.Errorf("%d more texts than the operator's: %+v", n-sent, s.sentTo(who.Phone)[sent:])
	}

	ada.act(conv, "handback", nil)
	texted("You're back with the automated assistant")

	// A driver who said STOP is texted nothing, and the operator is told.
	ada.act(conv, "takeover", nil)
	texted("A person from our support team")
	if r, err := s.post(ctx, s.nextSID(), who.Phone, "STOP"); err != nil || r.Status != http.StatusOK {
		t.Fatalf("STOP: %+v %v", r, err)
	}
	sent = len(s.sentTo(who.Phone))
	ada.get("/console/conversations/" + conv)
	status, _, body := ada.post("/console/conversations/"+conv+"/messages", url.Values{"text": {"are you still there?"}})
	if status != http.StatusConflict || !strings.Contains(body, "STOP") {
		t.Errorf("a message to a number that said STOP: %d", status)
	}
	if n := len(s.sentTo(who.Phone)); n != sent {
		t.Errorf("texted after STOP: %+v", s.sentTo(who.Phone)[sent:])
	}
}

// callTakeover: a call is transferred to the staff's number through the
// REST API, and returned to the line.
func (s *smsStack) callTakeover(t *testing.T, ctx context.Context, ada *consoleClient) {
	ada.t = t
	callSid := fmt.Sprintf("CA%032x", time.Now().UnixNano())
	form := url.Values{"AccountSid": {smsE2EAccount}, "CallSid": {callSid}, "From": {"+15145550123"}, "To": {smsE2ENumber},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}}
	res, err := s.signer.Post(ctx, "/twilio/voice", form)
	if err != nil || res.Status != http.StatusOK || !strings.Contains(res.Body, "ConversationRelay") {
		t.Fatalf("incoming call: %+v %v", res, err)
	}
	conv := "C-" + callSid
	// An operator talks to a caller; they do not write.
	ada.get("/console/conversations/" + conv)
	if status, _, body := ada.post("/console/conversations/"+conv+"/messages", url.Values{"text": {"hi"}}); status != http.StatusConflict ||
		!strings.Contains(body, "Take the conversation over") {
		t.Errorf("writing to a call before a takeover: %d", status)
	}
	done := ada.act(conv, "takeover", nil)
	if !strings.Contains(done, "transferred") {
		t.Errorf("takeover of a call said %q", done)
	}
	calls := s.twilio.Calls()
	if len(calls) == 0 || calls[len(calls)-1].CallSID != callSid {
		t.Fatalf("the call was not updated: %+v", calls)
	}
	var doc struct {
		Say, Dial, Redirect string
	}
	if err := xml.Unmarshal([]byte(calls[len(calls)-1].Twiml), &doc); err != nil || doc.Dial != smsE2EHuman ||
		!strings.Contains(doc.Say, "person from our support team") {
		t.Fatalf("transfer TwiML %q: %+v %v", calls[len(calls)-1].Twiml, doc, err)
	}
	ada.get("/console/conversations/" + conv)
	if status, _, body := ada.post("/console/conversations/"+conv+"/messages", url.Values{"text": {"hi"}}); status != http.StatusBadRequest || !strings.Contains(body, "This is a call") {
		t.Errorf("writing to a call: %d", status)
	}
	ada.act(conv, "handback", nil)
	calls = s.twilio.Calls()
	doc = struct{ Say, Dial, Redirect string }{}
	if err := xml.Unmarshal([]byte(calls[len(calls)-1].Twiml), &doc); err != nil || doc.Redirect != smsE2EPublic+"/twilio/voice" ||
		!strings.Contains(doc.Say, "back with the automated assistant") {
		t.Fatalf("return TwiML %q: %+v %v", calls[len(calls)-1].Twiml, doc, err)
	}
}
