package httpapi_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/sqlstore"
	"github.com/chargedesk/chargedesk/twilio"
	"github.com/chargedesk/chargedesk/twilio/twiliotest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	smsAccount = "AC0123456789abcdef0123456789abcdef"
	smsToken   = "test-auth-token-0123456789"
	smsNumber  = "+18005550199"
	driverNum  = "+15145550142"
)

// smsAgent is the fake agent with a reply of the test's choosing, which
// may wait on the test (a charger being verified).
type smsAgent struct {
	*fakeAgent
	mu      sync.Mutex
	reply   func(text string) string
	hold    chan struct{} // when set, Reply waits for it to close
	fail    error         // when set, Reply fails with it
	handled []string
}

func (a *smsAgent) Reply(ctx context.Context, id, text string) (string, *chargedesk.Conversation, error) {
	a.mu.Lock()
	hold, reply, fail := a.hold, a.reply, a.fail
	a.handled = append(a.handled, id+": "+text)
	a.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return "", nil, ctx.Err()
		}
	}
	if fail != nil {
		return "", nil, fail
	}
	_, c, err := a.fakeAgent.Reply(ctx, id, text)
	if err != nil || reply == nil {
		return "you said: " + text, c, err
	}
	return reply(text), c, nil
}

// from returns the number conversation id was started for.
func (a *smsAgent) from(id string) string {
	a.fakeAgent.mu.Lock()
	defer a.fakeAgent.mu.Unlock()
	if c := a.convs[id]; c != nil {
		return c.From
	}
	return ""
}

func (a *smsAgent) messages() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.handled...)
}

// smsRig is the API with the SMS channel on a real SQLite store, a fake
// Twilio signing webhooks and recording the REST API's messages.
type smsRig struct {
	t      *testing.T
	api    *testAPI
	agent  *smsAgent
	twilio *twiliotest.API
	signer *twiliotest.Signer
	store  *sqlstore.Store
	n      int
}

func newSMSRig(t *testing.T, wait time.Duration) *smsRig {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := twiliotest.NewAPI(smsAccount, smsToken)
	t.Cleanup(fake.Close)
	ag := &smsAgent{fakeAgent: newFakeAgent()}
	reg := prometheus.NewRegistry()
	// The public base URL differs from the loopback address: chargedesk
	// behind a TLS proxy.
	client := twilio.NewClient(twilio.Config{AccountSID: smsAccount, AuthToken: smsToken,
		PublicBaseURL: "https://support.example.com", From: smsNumber, APIURL: fake.URL, Timeout: 5 * time.Second}, nil)
	api := start(t, httpapi.Config{Store: ag.store(), Agent: ag, Registerer: reg,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), Now: time.Now,
		Twilio: &httpapi.TwilioConfig{Client: client, SMS: st, SMSReplyWait: wait, SMSLateTimeout: 10 * time.Second}})
	return &smsRig{t: t, api: api, agent: ag, twilio: fake, store: st,
		signer: &twiliotest.Signer{AuthToken: smsToken, Target: api.url, Public: "https://support.example.com"}}
}

// twiml is a messaging answer as Twilio reads it.
type twiml struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

// text sends the driver's message signed and returns the messages of
// the TwiML answer.
func (r *smsRig) text(body string) []string {
	r.t.Helper()
	r.n++
	return r.textSID(smsSID(r.n), body)
}

func smsSID(n int) string {
	return "SM" + strings.Repeat("0", 30) + string(rune('a'+n%26)) + string(rune('a'+n/26))
}

func (r *smsRig) textSID(sid, body string) []string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := r.signer.Post(ctx, "/twilio/sms", twiliotest.SMSForm(smsAccount, sid, driverNum, smsNumber, body))
	if err != nil {
		r.t.Fatal(err)
	}
	if res.Status != 200 || !strings.HasPrefix(res.ContentType, "text/xml") {
		r.t.Fatalf("status %d, %s: %s", res.Status, res.ContentType, res.Body)
	}
	var tw twiml
	if err := xml.Unmarshal([]byte(res.Body), &tw); err != nil {
		r.t.Fatalf("answer is not TwiML: %v: %s", err, res.Body)
	}
	return tw.Messages
}

func (r *smsRig) metrics() string {
	r.t.Helper()
	res := r.api.raw("GET", "/metrics", nil, nil)
	return string(res.body)
}

func TestSMSConversation(t *testing.T) {
	r := newSMSRig(t, 5*time.Second)
	got := r.text("the charger A-42 won't start")
	if len(got) != 1 || got[0] != "you said: the charger A-42 won't start" {
		t.Fatalf("reply = %q", got)
	}
	r.text("connector 1")
	// One conversation for the number.
	msgs := r.agent.messages()
	if len(msgs) != 2 || strings.SplitN(msgs[0], ":", 2)[0] != strings.SplitN(msgs[1], ":", 2)[0] {
		t.Fatalf("messages went to %q, want one conversation", msgs)
	}
	th, err := r.store.SMSThread(context.Background(), driverNum)
	if err != nil || th.ConversationID == "" || th.Stopped {
		t.Fatalf("thread = %+v, %v", th, err)
	}
	if n := len(r.twilio.Messages()); n != 0 {
		t.Fatalf("%d messages sent through the REST API for replies given in time", n)
	}
}

func TestSMSIdleOpensNewConversation(t *testing.T) {
	r := newSMSRig(t, 5*time.Second)
	r.text("hello")
	ctx := context.Background()
	th, _ := r.store.SMSThread(ctx, driverNum)
	first := th.ConversationID
	th.LastAt = time.Now().Add(-httpapi.DefaultSMSIdle - time.Minute)
	if err := r.store.PutSMSThread(ctx, th); err != nil {
		t.Fatal(err)
	}
	r.text("hello again")
	th, _ = r.store.SMSThread(ctx, driverNum)
	if th.ConversationID == first {
		t.Fatal("an idle thread kept its conversation")
	}
}

// TestSMSTwoNodesOneConversation: the first messages of a number reach two
// nodes (two APIs on one store) at the same instant; the per-number lock is
// each process's own, yet both go to one conversation.
func TestSMSTwoNodesOneConversation(t *testing.T) {
	r := newSMSRig(t, 5*time.Second)
	client := twilio.NewClient(twilio.Config{AccountSID: smsAccount, AuthToken: smsToken,
		PublicBaseURL: "https://support.example.com", From: smsNumber, APIURL: r.twilio.URL, Timeout: 5 * time.Second}, nil)
	reg := prometheus.NewRegistry()
	b := start(t, httpapi.Config{Store: r.agent.store(), Agent: r.agent, Registerer: reg,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), Now: time.Now,
		Twilio: &httpapi.TwilioConfig{Client: client, SMS: r.store, SMSReplyWait: 5 * time.Second, SMSLateTimeout: 10 * time.Second}})
	nodes := []*twiliotest.Signer{r.signer, {AuthToken: smsToken, Target: b.url, Public: "https://support.example.com"}}
	ctx := context.Background()
	for round := range 8 {
		phone := fmt.Sprintf("+1514555%04d", 2000+round)
		var wg sync.WaitGroup
		for i, node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sid := smsSID(100 + 2*round + i)
				res, err := node.Post(ctx, "/twilio/sms", twiliotest.SMSForm(smsAccount, sid, phone, smsNumber, fmt.Sprintf("node %d here", i)))
				if err != nil || res.Status != 200 {
					t.Errorf("round %d node %d: %v %+v", round, i, err, res)
				}
			}()
		}
		wg.Wait()
		th, err := r.store.SMSThread(ctx, phone)
		if err != nil {
			t.Fatal(err)
		}
		var convs []string
		for _, m := range r.agent.messages() {
			if id, _, _ := strings.Cut(m, ":"); !slices.Contains(convs, id) && r.agent.from(id) == phone {
				convs = append(convs, id)
			}
		}
		if len(convs) != 1 || convs[0] != th.ConversationID {
			t.Fatalf("round %d: the number's two messages went to %v, its thread to %s; want one conversation", round, convs, th.ConversationID)
		}
	}
}

func TestSMSBadSignature(t *testing.T) {
	r := newSMSRig(t, 5*time.Second)
	ctx := context.Background()
	form := twiliotest.SMSForm(smsAccount, "SMbad", driverNum, smsNumber, "stop my session")
	for name, sig := range map[string]string{
		"none":         "",
		"wrong token":  twilio.Signature("other-token", r.signer.URL("/twilio/sms"), form),
		"loopback url": twilio.Signature(smsToken, r.api.url+"/twilio/sms", form),
	} {
		res, err := r.signer.PostSignature(ctx, "/twilio/sms", form, sig)
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, response{status: res.Status, header: http.Header{"Content-Type": {res.ContentType}}, body: []byte(res.Body)},
			403, chargedesk.EFORBIDDEN, "X-Twilio-Signature")
		_ = name
	}
	// A tampered body under a good signature.
	sig := r.signer.Sign("/twilio/sms", form)
	tampered := twiliotest.SMSForm(smsAccount, "SMbad", driverNum, smsNumber, "STOP")
	if res, _ := r.signer.PostSignature(ctx, "/twilio/sms", tampered, sig); res.Status != 403 {
		t.Fatalf("tampered body: status %d", res.Status)
	}
	if m := r.agent.messages(); len(m) != 0 {
		t.Fatalf("agent got %q", m)
	}
	if _, err := r.store.SMSThread(ctx, driverNum); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Fatalf("a thread was written: %v", err)
	}
	// Nothing was claimed: the genuine message is still handled.
	if got := r.textSID("SMbad", "stop my session"); len(got) != 1 {
		t.Fatalf("genuine message after refusals: %q", got)
	}
	if m := r.metrics(); !strings.Contains(m, `chargedesk_twilio_signature_failures_total{route="POST /twilio/sms"} 4`) {
		t.Fatalf("metrics lack 4 refusals:\n%s", grepLines(m, "twilio"))
	}
	if !strings.Contains(r.api.logs.String(), "signature does not verify") {
		t.Fatal("refusal not logged")
	}
}

func grepLines(s, part string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestSMSReplayIgnored(t *testing.T) {
	r := newSMSRig(t, 5*time.Second)
	if got := r.textSID("SM1", "my card is refused"); len(got) != 1 {
		t.Fatalf("first delivery: %q", got)
	}
	if got := r.textSID("SM1", "my card is refused"); len(got) != 0 {
		t.Fatalf("replay answered %q", got)
	}
	if m := r.agent.messages(); len(m) != 1 {
		t.Fatalf("agent handled %d messages, want 1: %q", len(m), m)
	}
}

func TestSMSStop(t *testing.T) {
	r := newSMSRig(t, 200*time.Millisecond)
	// A charger being verified: the reply comes after the webhook's wait.
	hold := make(chan struct{})
	r.agent.mu.Lock()
	r.agent.hold = hold
	r.agent.mu.Unlock()
	if got := r.text("la borne B-7 est hors ligne"); len(got) != 0 {
		t.Fatalf("slow reply answered in the webhook: %q", got)
	}
	got := r.text("ARRÊT")
	if len(got) != 1 || !strings.Contains(got[0], "Vous ne recevrez plus") {
		t.Fatalf("STOP answered %q", got)
	}
	close(hold)
	// The late result comes, and is not sent.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.api.logs.String(), "late reply not sent: the number said STOP") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if m := r.twilio.Messages(); len(m) != 0 {
		t.Fatalf("sent after STOP: %+v", m)
	}
	if !strings.Contains(r.api.logs.String(), "late reply not sent: the number said STOP") {
		t.Fatal("the late reply was not dropped")
	}
	// Later messages are not handled; the state survives (it is stored).
	if got := r.text("hello?"); len(got) != 0 {
		t.Fatalf("answered after STOP: %q", got)
	}
	th, err := r.store.SMSThread(context.Background(), driverNum)
	if err != nil || !th.Stopped || th.Language != "fr" {
		t.Fatalf("thread = %+v, %v", th, err)
	}
	// YES is START only for a stopped number.
	if got := r.text("yes"); len(got) != 1 || !strings.Contains(got[0], "START") && !strings.Contains(got[0], "nouveau") {
		t.Fatalf("YES answered %q", got)
	}
	if got := r.text("yes"); len(got) != 1 || got[0] != "you said: yes" {
		t.Fatalf("YES of a subscribed number: %q", got)
	}
}

func TestSMSLateReplySent(t *testing.T) {
	r := newSMSRig(t, 200*time.Millisecond)
	hold := make(chan struct{})
	r.agent.mu.Lock()
	r.agent.hold = hold
	r.agent.reply = func(string) string { return "Charger A-42 is back online and charging. Anything else?" }
	r.agent.mu.Unlock()
	if got := r.text("A-42 is offline"); len(got) != 0 {
		t.Fatalf("slow reply answered in the webhook: %q", got)
	}
	close(hold)
	m := r.twilio.WaitMessages(1, 5*time.Second)
	if len(m) != 1 || m[0].To != driverNum || m[0].From != smsNumber || !strings.Contains(m[0].Body, "back online") {
		t.Fatalf("late messages = %+v", m)
	}
}

// TestSMSAgentFailureTold: a message the agent fails on is not left
// unanswered, whether the failure comes within the webhook or later.
func TestSMSAgentFailureTold(t *testing.T) {
	r := newSMSRig(t, 300*time.Millisecond)
	r.agent.mu.Lock()
	r.agent.fail = chargedesk.Errorf(chargedesk.EINTERNAL, "store down")
	r.agent.mu.Unlock()
	if got := r.text("my charge won't start at A-42"); len(got) != 1 || !strings.Contains(got[0], "something went wrong") {
		t.Fatalf("failure answered %q", got)
	}
	hold := make(chan struct{})
	r.agent.mu.Lock()
	r.agent.hold = hold
	r.agent.mu.Unlock()
	if got := r.text("hello?"); len(got) != 0 {
		t.Fatalf("slow failure answered in the webhook: %q", got)
	}
	close(hold)
	m := r.twilio.WaitMessages(1, 5*time.Second)
	if len(m) != 1 || m[0].To != driverNum || !strings.Contains(m[0].Body, "send it again") {
		t.Fatalf("late messages = %+v", m)
	}
}

// TestSMSRecoverUnanswered: a message a node took and never answered
// (it stopped while the agent worked) gets an answer from RecoverSMS on
// another node: the driver is asked to send it again, in their language;
// answered messages, and numbers that said STOP, get nothing.
func TestSMSRecoverUnanswered(t *testing.T) {
	r := newSMSRig(t, 200*time.Millisecond)
	ctx := context.Background()
	if got := r.text("hello"); len(got) != 1 {
		t.Fatalf("answered message: %q", got)
	}
	// A node took these two and stopped before answering.
	long := time.Now().Add(-time.Hour)
	for _, m := range []struct{ sid, phone string }{{"SMlost1", driverNum}, {"SMlost2", "+15145550177"}} {
		if ok, err := r.store.ClaimMessage(ctx, m.sid, m.phone, long); err != nil || !ok {
			t.Fatalf("claim %s: %v %v", m.sid, ok, err)
		}
	}
	if err := r.store.PutSMSThread(ctx, &chargedesk.SMSThread{Phone: driverNum, Language: "fr"}); err != nil {
		t.Fatal(err)
	}
	if err := r.store.PutSMSThread(ctx, &chargedesk.SMSThread{Phone: "+15145550177", Stopped: true}); err != nil {
		t.Fatal(err)
	}
	client := twilio.NewClient(twilio.Config{AccountSID: smsAccount, AuthToken: smsToken, From: smsNumber, APIURL: r.twilio.URL, Timeout: 5 * time.Second}, nil)
	cfg := &httpapi.TwilioConfig{Client: client, SMS: r.store, SMSReplyWait: 200 * time.Millisecond, SMSLateTimeout: 10 * time.Second}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { httpapi.RecoverSMS(rctx, cfg, time.Hour, time.Now, nil); close(done) }()
	// Both get answered (the stopped number silently).
	deadline := time.Now().Add(5 * time.Second)
	for {
		left, err := r.store.UnansweredMessages(ctx, time.Now(), 10)
		if err == nil && len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still unanswered: %+v %v", left, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := r.twilio.WaitMessages(1, 5*time.Second)
	cancel()
	<-done
	if len(m) != 1 || m[0].To != driverNum || !strings.Contains(m[0].Body, "Renvoyez-le") {
		t.Fatalf("recovered messages = %+v", m)
	}
}

func TestSMSHelp(t *testing.T) {
	r := newSMSRig(t, 5*time.Second)
	for body, want := range map[string]string{"HELP": "text us", "aide": "écrivez-nous", "Ayuda": "escríbanos"} {
		got := r.text(body)
		if len(got) != 1 || !strings.Contains(got[0], want) || utf8.RuneCountInString(got[0]) > 320 {
			t.Errorf("%s answered %q, want %q", body, got, want)
		}
	}
	if m := r.agent.messages(); len(m) != 0 {
		t.Fatalf("HELP went to the agent: %q", m)
	}
}

func TestSMSLongReplySplit(t *testing.T) {
	r := newSMSRig(t, 5*time.Second)
	link := "https://pay.example.com/l/8f3a9c2e7b1d4f60a5e8c3b2d1f0e9a7"
	long := strings.Repeat("The charger restarted and it checks the connector now, which takes a moment. ", 4) +
		"Pay here: " + link + " and your session ID-4f60a5e8 starts. " +
		strings.Repeat("Tell me if the screen shows anything else. ", 20)
	r.agent.mu.Lock()
	r.agent.reply = func(string) string { return long }
	r.agent.mu.Unlock()
	got := r.text("my payment failed")
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("%d messages", len(got))
	}
	joined := strings.Join(got, " ")
	for i, m := range got {
		if n := utf8.RuneCountInString(m); n > 320 {
			t.Errorf("message %d has %d characters", i, n)
		}
	}
	if !strings.Contains(joined, link) || !strings.Contains(joined, "ID-4f60a5e8") {
		t.Errorf("a link or an id was cut: %q", got)
	}
	if !strings.HasSuffix(got[len(got)-1], "…") {
		t.Errorf("the cut reply does not say it is cut: %q", got[len(got)-1])
	}
}

func TestSMSRoutesNeedToken(t *testing.T) {
	ag := newFakeAgent()
	api := start(t, httpapi.Config{Store: ag.store(), Agent: ag,
		Twilio: &httpapi.TwilioConfig{Client: twilio.NewClient(twilio.Config{AccountSID: smsAccount}, nil)}})
	res := api.raw("POST", "/twilio/sms", strings.NewReader(url.Values{"Body": {"hi"}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if res.status != 404 {
		t.Fatalf("status %d without an auth token, want 404", res.status)
	}
	_ = io.Discard
}
