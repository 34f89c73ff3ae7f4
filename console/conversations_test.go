package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/agent/nlu"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/internal/sse/ssetest"
)

// quietNLU understands nothing: the console's tests take conversations
// over and back, they do not talk to the agent.
type quietNLU struct{}

func (quietNLU) Understand(_, lang string) nlu.Result {
	return nlu.Result{Lang: lang, Category: chargedesk.CategoryOther}
}

// outbox is the Outbound of the tests: it records what it is asked to
// send and refuses what refuse says.
type outbox struct {
	mu     sync.Mutex
	sent   []sent
	refuse map[chargedesk.OutboundKind]error
	fail   error
}

type sent struct {
	ID   string
	Kind chargedesk.OutboundKind
	Text string
}

func (o *outbox) Check(_ *chargedesk.Conversation, kind chargedesk.OutboundKind) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.refuse[kind]
}

func (o *outbox) Send(_ context.Context, c *chargedesk.Conversation, kind chargedesk.OutboundKind, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.sent = append(o.sent, sent{c.ID, kind, text})
	return nil
}

func (o *outbox) all() []sent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]sent(nil), o.sent...)
}

// convRig is the console with the real agent as its Assistant and an
// outbox.
func newConvRig(t *testing.T) (*rig, *outbox) {
	t.Helper()
	out := &outbox{refuse: map[chargedesk.OutboundKind]error{}}
	var r *rig
	r = newRig(t, func(cfg *console.Config) {
		a, err := agent.New(agent.Config{Store: cfg.Store, Commands: cfg.Commands, NLU: quietNLU{}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Assistant, cfg.Outbound = a, out
	})
	return r, out
}

// conv stores a conversation with turns, written through the store the
// console reads (so the bus hears of them).
func (r *rig) conv(c *chargedesk.Conversation, turns ...chargedesk.Turn) *chargedesk.Conversation {
	r.t.Helper()
	ctx := context.Background()
	if c.Language == "" {
		c.Language = "en"
	}
	if c.Status == "" {
		c.Status = chargedesk.ConversationOpen
	}
	if err := r.convs.CreateConversation(ctx, c); err != nil {
		r.t.Fatal(err)
	}
	for _, tu := range turns {
		tu.ConversationID = c.ID
		if err := r.convs.AppendTurn(ctx, &tu); err != nil {
			r.t.Fatal(err)
		}
	}
	return c
}

func (r *rig) stored(id string) *chargedesk.Conversation {
	r.t.Helper()
	c, err := r.store.Conversation(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func (r *rig) turns(id string) []chargedesk.Turn {
	r.t.Helper()
	ts, err := r.store.Turns(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return ts
}

// audited returns the console's audit entries of kind as "actor target
// outcome".
func (r *rig) audited(kind string) []string {
	r.t.Helper()
	entries, err := r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Kind == kind {
			out = append(out, e.Actor+" "+e.CommandID+" "+e.Outcome)
		}
	}
	return out
}

var rowRE = regexp.MustCompile(`<tr data-id="([^"]+)"`)

func rowIDs(body string) []string {
	var ids []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var olderRE = regexp.MustCompile(`<a href="(/console/conversations\?[^"]*)">Older`)

func TestConversationList(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vera", chargedesk.RoleViewer)
	r.conv(&chargedesk.Conversation{ID: "C-sms", Channel: chargedesk.ChannelSMS, From: "+15145550123", Language: "fr",
		Category: chargedesk.CategoryPaymentFailure, DriverID: "drv-1", Verified: chargedesk.VerifiedPhone, ChargerID: "CP-7"})
	r.conv(&chargedesk.Conversation{ID: "C-voice", Channel: chargedesk.ChannelVoice, From: "+15555550199", Operator: "ada"})
	r.conv(&chargedesk.Conversation{ID: "C-charger", Channel: chargedesk.ChannelChat, Busy: chargedesk.BusyCharger, BusyUntil: time.Now().Add(time.Hour)})
	r.conv(&chargedesk.Conversation{ID: "C-done", Channel: chargedesk.ChannelChat, Status: chargedesk.ConversationResolved})
	r.conv(&chargedesk.Conversation{ID: "C-ticket", Channel: chargedesk.ChannelChat, Status: chargedesk.ConversationEscalated, Language: "es",
		Category: chargedesk.CategoryConnectorStuck})
	// A turn moves a conversation to the top.
	r.conv(&chargedesk.Conversation{ID: "C-old", Channel: chargedesk.ChannelChat}, chargedesk.Turn{Role: chargedesk.RoleDriver, Text: "hi",
		At: time.Now().Add(time.Minute)})

	status, body := b.get("/console/conversations")
	if status != http.StatusOK {
		t.Fatalf("list: %d\n%s", status, body)
	}
	if got, want := rowIDs(body), []string{"C-old", "C-ticket", "C-done", "C-charger", "C-voice", "C-sms"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want newest activity first %v", got, want)
	}
	for _, want := range []string{"Waiting on a charger", "With a person", "Resolved / closed", "Escalated", "Agent working", "••• 0123", "payment_failure"} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if strings.Contains(body, "5145550123") || strings.Contains(body, "5555550199") {
		t.Error("a full phone number in the list")
	}
	for query, want := range map[string][]string{
		"?channel=sms":                  {"C-sms"},
		"?language=es":                  {"C-ticket"},
		"?category=connector_stuck":     {"C-ticket"},
		"?state=person":                 {"C-voice"},
		"?state=charger":                {"C-charger"},
		"?state=done":                   {"C-done"},
		"?state=escalated":              {"C-ticket"},
		"?state=agent":                  {"C-old", "C-sms"},
		"?channel=chat&state=agent":     {"C-old"},
		"?channel=voice&language=fr":    nil,
		"?category=payment_failure&x=1": {"C-sms"},
	} {
		status, body := b.get("/console/conversations" + query)
		if got := rowIDs(body); status != http.StatusOK || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %d %v, want %v", query, status, got, want)
		}
	}
	for _, query := range []string{"?channel=fax", "?language=de", "?category=nope", "?state=sleeping", "?after=nonsense", "?after=x.C-1"} {
		if status, _ := b.get("/console/conversations" + query); status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", query, status)
		}
	}
	if status, body := b.get("/console/conversations?channel=%3Cscript%3E"); status != http.StatusBadRequest || strings.Contains(body, "<script>") {
		t.Errorf("a hostile filter: %d", status)
	}
	// Signed out: to the sign-in page.
	if status, _ := r.browser().get("/console/conversations"); status != http.StatusSeeOther {
		t.Errorf("signed out: %d", status)
	}
}

func TestConversationListPaged(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vera", chargedesk.RoleViewer)
	for i := range 123 {
		r.conv(&chargedesk.Conversation{ID: fmt.Sprintf("C-%03d", i), Channel: chargedesk.ChannelChat})
	}
	var all []string
	path := "/console/conversations?channel=chat"
	for page := 0; path != ""; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		status, body := b.get(path)
		if status != http.StatusOK {
			t.Fatalf("%s: %d", path, status)
		}
		ids := rowIDs(body)
		if len(ids) > 50 {
			t.Fatalf("a page of %d rows", len(ids))
		}
		if page > 0 && (!strings.Contains(body, "← Newest") || strings.Contains(body, `data-live=`)) {
			t.Errorf("page %d: a later page links to the newest and is not live", page)
		}
		all = append(all, ids...)
		path = ""
		if m := olderRE.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
			if !strings.Contains(path, "channel=chat") {
				t.Errorf("the next page forgets the filter: %s", path)
			}
		}
	}
	if len(all) != 123 || all[0] != "C-122" || all[122] != "C-000" {
		t.Fatalf("%d conversations paged, from %s to %s", len(all), all[0], all[len(all)-1])
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Errorf("%s on two pages", id)
		}
		seen[id] = true
	}
}

// findings is what the agent keeps in a conversation's Data that the
// panel shows.
const findings = `{"ask":"replug","categoryConf":0.82,"categorySure":true,"cause":"transaction stuck; card 4111 1111 1111 1111",
	"evidence":["connector 1 Preparing for 12 min","StatusNotification SuspendedEV"],
	"results":[{"at":"2026-01-02T03:04:05Z","kind":"RemoteStartTransaction","chargerId":"CP-7","connectorId":1,"status":"Accepted"}]}`

func TestConversationPage(t *testing.T) {
	r, _ := newConvRig(t)
	c := r.conv(&chargedesk.Conversation{ID: "C-1", Channel: chargedesk.ChannelSMS, From: "+15145550123", ChargerID: "CP-7", ConnectorID: 1,
		Category: chargedesk.CategorySessionWontStart, Playbook: "session", State: "waiting", TicketID: "T-9", DriverID: "drv-1",
		Verified: chargedesk.VerifiedCard, Data: json.RawMessage(findings)},
		chargedesk.Turn{Role: chargedesk.RoleAgent, Text: "Hi, this is charging support."},
		chargedesk.Turn{Role: chargedesk.RoleDriver, Text: `<script>alert(1)</script> call me on +1 514 555 0123`},
		chargedesk.Turn{Role: chargedesk.RoleAction, Text: "RemoteStartTransaction CP-7/1: Accepted"},
		chargedesk.Turn{Role: chargedesk.RoleOperatorTurn, Text: "I'm on it <b>now</b>", Meta: json.RawMessage(`{"operator":"ada"}`)},
	)
	v := r.signedIn("vera", chargedesk.RoleViewer)
	status, body := v.get("/console/conversations/" + c.ID)
	if status != http.StatusOK {
		t.Fatalf("page: %d\n%s", status, body)
	}
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `I&#39;m on it &lt;b&gt;now&lt;/b&gt;`, "Operator ada", `class="turn action"`,
		"RemoteStartTransaction", "CP-7", "82%", "the driver&#39;s words were clear", "connector 1 Preparing for 12 min",
		"session_wont_start", "last 4 digits of a card on file", `href="/console/tickets/T-9"`, "••• 0123", "replug", "Accepted",
		`data-live="/console/conversations/C-1/events?after=4"`, "Agent working",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, leak := range []string{"<script>alert", "<b>now", "5145550123", "514 555 0123", "4111 1111 1111 1111"} {
		if strings.Contains(body, leak) {
			t.Errorf("page shows %q", leak)
		}
	}
	// The page obeys the CSP: no inline script, style or handler.
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\sstyle=|\son[a-z]+=`).MatchString(body) {
		t.Error("inline script, style or event handler on the page")
	}
	// A viewer watches; only an operator sees the controls.
	if strings.Contains(body, "/takeover") {
		t.Error("a viewer is offered to take over")
	}
	o := r.signedIn("ada", chargedesk.RoleOperator)
	if _, body := o.get("/console/conversations/" + c.ID); !strings.Contains(body, `action="/console/conversations/C-1/takeover"`) {
		t.Error("an operator is not offered to take over")
	}
	if status, _ := v.get("/console/conversations/C-none"); status != http.StatusNotFound {
		t.Errorf("unknown conversation: %d", status)
	}
}

func TestTakeOverWriteHandBack(t *testing.T) {
	r, out := newConvRig(t)
	c := r.conv(&chargedesk.Conversation{ID: "C-1", Channel: chargedesk.ChannelSMS, From: "+15145550123", Language: "fr"},
		chargedesk.Turn{Role: chargedesk.RoleAgent, Text: "Bonjour"})
	page := "/console/conversations/" + c.ID
	viewer := r.signedIn("vera", chargedesk.RoleViewer)
	ada := r.signedIn("ada", chargedesk.RoleOperator)
	bob := r.signedIn("bob", chargedesk.RoleOperator)
	root := r.signedIn("root", chargedesk.RoleAdmin)

	// A viewer may not; nobody may without the session's token.
	for _, action := range []string{"/takeover", "/handback", "/messages"} {
		if status, _, _ := viewer.post(page+action, url.Values{"text": {"hi"}}); status != http.StatusForbidden {
			t.Errorf("viewer %s: %d", action, status)
		}
		if status, _, _ := ada.post(page+action, url.Values{"csrf": {"forged"}, "text": {"hi"}}); status != http.StatusForbidden {
			t.Errorf("%s without the CSRF token: %d", action, status)
		}
	}
	if r.stored(c.ID).Operator != "" || len(out.all()) != 0 {
		t.Fatal("a refused request changed something")
	}
	// Nobody writes to a driver whose conversation they do not have.
	if status, _, _ := ada.post(page+"/messages", url.Values{"text": {"hello"}}); status != http.StatusConflict {
		t.Errorf("message before a takeover: %d", status)
	}

	// Ada takes over: the agent stops, the driver is told in French.
	status, loc, _ := ada.post(page+"/takeover", nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, page+"?done=") {
		t.Fatalf("takeover: %d %q", status, loc)
	}
	if got := r.stored(c.ID); got.Operator != "ada" {
		t.Fatalf("operator %q after the takeover", got.Operator)
	}
	turns := r.turns(c.ID)
	notice := turns[len(turns)-1]
	if notice.Role != chargedesk.RoleAgent || !strings.Contains(notice.Text, "prend") {
		t.Fatalf("takeover notice %+v", notice)
	}
	if got := out.all(); len(got) != 1 || got[0] != (sent{c.ID, chargedesk.OutboundTakeover, notice.Text}) {
		t.Fatalf("sent %+v", got)
	}
	_, body := ada.get(loc)
	if !strings.Contains(body, "You have this conversation now") || !strings.Contains(body, `action="/console/conversations/C-1/messages"`) {
		t.Error("the page after the takeover has no flash or no message form")
	}
	// Bob may neither take it nor write nor hand it back.
	if status, _, _ := bob.post(page+"/takeover", nil); status != http.StatusConflict {
		t.Errorf("bob takes ada's conversation: %d", status)
	}
	if status, _, _ := bob.post(page+"/messages", url.Values{"text": {"hi"}}); status != http.StatusConflict {
		t.Errorf("bob writes in ada's conversation: %d", status)
	}
	if status, _, _ := bob.post(page+"/handback", nil); status != http.StatusConflict {
		t.Errorf("bob hands back ada's conversation: %d", status)
	}

	// Ada writes: bounded, stored as an operator turn, sent.
	for _, bad := range []string{"", "   ", strings.Repeat("é", chargedesk.MaxOperatorMessageLen+1), "bell\x07"} {
		if status, _, _ := ada.post(page+"/messages", url.Values{"text": {bad}}); status != http.StatusBadRequest {
			t.Errorf("message %.20q: %d", bad, status)
		}
	}
	if status, _, _ := ada.post(page+"/messages", url.Values{"text": {"  Bonjour, je regarde la borne <b>maintenant</b>.\r\n"}}); status != http.StatusSeeOther {
		t.Fatalf("message: %d", status)
	}
	turns = r.turns(c.ID)
	op := turns[len(turns)-1]
	if op.Role != chargedesk.RoleOperatorTurn || op.Text != "Bonjour, je regarde la borne <b>maintenant</b>." || !strings.Contains(string(op.Meta), `"ada"`) {
		t.Fatalf("operator turn %+v", op)
	}
	if got := out.all(); len(got) != 2 || got[1] != (sent{c.ID, chargedesk.OutboundMessage, op.Text}) {
		t.Fatalf("sent %+v", got)
	}
	// A message the channel could not deliver stays in the transcript,
	// and the operator is told.
	out.fail = errors.New("twilio: http 400")
	_, loc, _ = ada.post(page+"/messages", url.Values{"text": {"encore là?"}})
	if _, body := ada.get(loc); !strings.Contains(body, "did not reach the driver") {
		t.Error("a failed delivery is not told")
	}
	out.fail = nil

	// Ada hands back: the driver is told, the agent answers again.
	if status, _, _ := ada.post(page+"/handback", nil); status != http.StatusSeeOther {
		t.Fatalf("hand back: %d", status)
	}
	if got := r.stored(c.ID); got.Operator != "" {
		t.Fatalf("operator %q after the hand back", got.Operator)
	}
	turns = r.turns(c.ID)
	if back := turns[len(turns)-1]; back.Role != chargedesk.RoleAgent || !strings.Contains(back.Text, "assistant automatisé") {
		t.Fatalf("hand back notice %+v", back)
	}
	if got := out.all(); got[len(got)-1].Kind != chargedesk.OutboundHandback {
		t.Fatalf("sent %+v", got)
	}
	// An admin hands back another operator's conversation.
	if status, _, _ := bob.post(page+"/takeover", nil); status != http.StatusSeeOther {
		t.Fatalf("bob's takeover: %d", status)
	}
	if status, _, _ := root.post(page+"/handback", nil); status != http.StatusSeeOther || r.stored(c.ID).Operator != "" {
		t.Fatalf("admin's hand back: %d", status)
	}

	// Everything audited with the operator as the actor.
	want := map[string][]string{
		"console.takeover": {"console:ada C-1 ok", "console:bob C-1 refused", "console:bob C-1 ok"},
		"console.message":  {"console:ada C-1 ok", "console:ada C-1 not delivered"},
		"console.handback": {"console:bob C-1 refused", "console:ada C-1 ok", "console:root C-1 ok"},
	}
	for kind, w := range want {
		if got := r.audited(kind); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s audited %v, want %v", kind, got, w)
		}
	}
	if err := r.store.VerifyAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A channel that cannot take a takeover (a call without a number to
// transfer it to) refuses it before anything changes.
func TestTakeOverRefusedByTheChannel(t *testing.T) {
	r, out := newConvRig(t)
	c := r.conv(&chargedesk.Conversation{ID: "C-CA123", Channel: chargedesk.ChannelVoice, From: "+15145550123"})
	out.refuse[chargedesk.OutboundTakeover] = chargedesk.Errorf(chargedesk.ECONFLICT, "No human number is configured: a live call cannot be taken over.")
	ada := r.signedIn("ada", chargedesk.RoleOperator)
	status, _, body := ada.post("/console/conversations/"+c.ID+"/takeover", nil)
	if status != http.StatusConflict || !strings.Contains(body, "No human number is configured") {
		t.Fatalf("takeover of a call without a number: %d\n%s", status, body)
	}
	if r.stored(c.ID).Operator != "" || len(r.turns(c.ID)) != 0 || len(out.all()) != 0 {
		t.Fatal("a refused takeover changed something")
	}
	if got := r.audited("console.takeover"); len(got) != 1 || got[0] != "console:ada C-CA123 refused" {
		t.Errorf("audit %v", got)
	}
}

// The live views: over real HTTP, a driver's new message reaches an open
// transcript as soon as it is stored (through the bus), as JSON text; the
// list hears of new conversations and of those that leave its filter.
func TestConversationLive(t *testing.T) {
	r, _ := newConvRig(t)
	c := r.conv(&chargedesk.Conversation{ID: "C-live", Channel: chargedesk.ChannelChat},
		chargedesk.Turn{Role: chargedesk.RoleAgent, Text: "Hi"})
	v := r.signedIn("vera", chargedesk.RoleViewer)
	open := func(path string, header http.Header) *ssetest.Stream {
		t.Helper()
		s, err := ssetest.Open(v.c, r.srv.URL+path, header)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	// Signed out, a stream is refused, not redirected.
	if s, err := ssetest.Open(r.browser().c, r.srv.URL+"/console/conversations/C-live/events", nil); err != nil || s.Status != http.StatusUnauthorized {
		t.Fatalf("signed-out stream: %v %v", s.Status, err)
	}

	transcript := open("/console/conversations/C-live/events?after=1", nil)
	if transcript.Status != http.StatusOK {
		t.Fatalf("stream: %d", transcript.Status)
	}
	list := open("/console/conversations/events", nil)
	voiceOnly := open("/console/conversations/events?channel=voice", nil)
	if ev, err := transcript.Next(5 * time.Second); err != nil || ev.Name != "conversation" {
		t.Fatalf("first event %+v %v", ev, err)
	}

	// The driver writes: the transcript has it within a generous bound
	// (it comes through the bus, well under a second).
	hostile := `<script>alert(1)</script> my card 4111 1111 1111 1111`
	stored := time.Now()
	if err := r.convs.AppendTurn(context.Background(), &chargedesk.Turn{ConversationID: c.ID, Role: chargedesk.RoleDriver, Text: hostile}); err != nil {
		t.Fatal(err)
	}
	evs, err := transcript.Until(5*time.Second, func(e ssetest.Event) bool { return e.Name == "turn" })
	if err != nil {
		t.Fatalf("no turn on the stream: %v (%+v)", err, evs)
	}
	t.Logf("the driver's message reached the transcript's stream %v after it was stored", time.Since(stored))
	ev := evs[len(evs)-1]
	if ev.ID != "2" || strings.Contains(ev.Data, "<script>") || !strings.Contains(ev.Data, `\u003cscript\u003e`) {
		t.Errorf("turn event %+v: want id 2 and the markup JSON-escaped", ev)
	}
	var turn struct {
		Seq             int64
		Role, Who, Text string
	}
	if err := json.Unmarshal([]byte(ev.Data), &turn); err != nil || turn.Seq != 2 || turn.Role != "driver" ||
		!strings.HasPrefix(turn.Text, "<script>alert(1)</script> my card ") || strings.Contains(turn.Text, "4111 1111 1111 1111") {
		t.Errorf("turn %+v %v", turn, err)
	}

	// A takeover: the notice comes as a turn, the panel says who has it.
	ada := r.signedIn("ada", chargedesk.RoleOperator)
	if status, _, _ := ada.post("/console/conversations/C-live/takeover", nil); status != http.StatusSeeOther {
		t.Fatalf("takeover: %d", status)
	}
	evs, err = transcript.Until(5*time.Second, func(e ssetest.Event) bool {
		return e.Name == "conversation" && strings.Contains(e.Data, `"operator":"ada"`)
	})
	if err != nil {
		t.Fatalf("no panel with the operator: %v %+v", err, evs)
	}

	// The list: the changed conversation comes as a row on top; a list
	// of calls hears that it does not belong there.
	// (The driver's message may have brought a row of its own first.)
	evs, err = list.Until(5*time.Second, func(e ssetest.Event) bool {
		return e.Name == "row" && strings.Contains(e.Data, `"id":"C-live"`) && strings.Contains(e.Data, `"phase":"person"`)
	})
	if err != nil || !strings.Contains(evs[len(evs)-1].Data, `"match":true`) {
		t.Fatalf("list row %+v %v", evs, err)
	}
	r.conv(&chargedesk.Conversation{ID: "C-new", Channel: chargedesk.ChannelVoice, From: "+15145550123"})
	evs, err = list.Until(5*time.Second, func(e ssetest.Event) bool { return e.Name == "row" && strings.Contains(e.Data, `"id":"C-new"`) })
	if err != nil || strings.Contains(evs[len(evs)-1].Data, "5145550123") {
		t.Fatalf("new conversation's row %+v %v", evs, err)
	}
	evs, err = voiceOnly.Until(5*time.Second, func(e ssetest.Event) bool { return e.Name == "row" && strings.Contains(e.Data, `"id":"C-live"`) })
	if err != nil || !strings.Contains(evs[len(evs)-1].Data, `"match":false`) {
		t.Fatalf("a chat's row on a list of calls %+v %v", evs, err)
	}

	// A reconnecting page gets only what it missed.
	again := open("/console/conversations/C-live/events?after=1", http.Header{"Last-Event-ID": {"2"}})
	evs, err = again.Until(5*time.Second, func(e ssetest.Event) bool { return e.Name == "turn" })
	if err != nil || evs[len(evs)-1].ID != "3" {
		t.Fatalf("after reconnecting: %+v %v", evs, err)
	}
	// A stream ends with its session: signed out, the next change closes
	// it rather than sending it.
	if status, _, _ := v.post("/console/signout", nil); status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", status)
	}
	r.clock.add(2 * time.Minute)
	if err := r.convs.AppendTurn(context.Background(), &chargedesk.Turn{ConversationID: c.ID, Role: chargedesk.RoleDriver, Text: "still there?"}); err != nil {
		t.Fatal(err)
	}
	if evs, err := transcript.Until(5*time.Second, func(e ssetest.Event) bool { return strings.Contains(e.Data, "still there?") }); !errors.Is(err, ssetest.ErrClosed) {
		t.Fatalf("a signed-out stream goes on: %+v %v", evs, err)
	}
	v = r.signedIn("vic", chargedesk.RoleViewer)
	if s := open("/console/conversations/C-none/events", nil); s.Status != http.StatusNotFound {
		t.Errorf("unknown conversation's stream: %d", s.Status)
	}
	if s := open("/console/conversations/C-live/events?after=-4", nil); s.Status != http.StatusBadRequest {
		t.Errorf("a bad cursor: %d", s.Status)
	}
}

// The live views' script inserts what it receives as text.
func TestConversationScriptInsertsText(t *testing.T) {
	js, err := fs.ReadFile(os.DirFS("static"), "conversations.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("conversations.js uses %s", bad)
		}
	}
	if !strings.Contains(string(js), "textContent") {
		t.Error("conversations.js does not set text")
	}
}
