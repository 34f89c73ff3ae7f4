package main

// SMS end to end: chargedesk as serve wires it (the real agent, SQLite,
// the policy gateway, the operator API and the real /twilio/sms webhook)
// in this process, a simulated fleet connected over loopback OCPP, and a
// fake Twilio that signs the webhooks and records what the Messages API is
// asked to send. A driver texts from the phone number on file (which
// verifies them) and reads only what their phone receives: the TwiML
// <Message>s of each webhook answer, or the messages sent later through
// the REST API. They answer as a person at the charger would, with the
// demo driver's reading of replies (hear, personas, languageDrift in
// demo_e2e_test.go).
//
// The matrix is the full one: each of the five core failures in English,
// Québec French and US Spanish (15 conversations, run in parallel, each by
// another driver of the network at another charger). Then the webhook's
// own guarantees: a replayed MessageSid gets no second agent turn, nothing
// is sent after STOP, a wrongly signed request is refused with 403 and
// opens no conversation.

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/sim"
	"github.com/chargedesk/chargedesk/twilio/twiliotest"
)

const (
	smsE2EAccount = "AC5e2e0000000000000000000000000042"
	smsE2EToken   = "sms-e2e-auth-token-0123456789"
	smsE2ENumber  = "+18005550142"
	smsE2EPublic  = "https://support.example.com"
	smsE2EKey     = "sms-e2e-operator-key-0123456789"
	// The network: seed 2030 with 30 chargers has drivers of each
	// language (Québec French ones among them) and enough chargers whose
	// connector 1 locks the cable.
	smsE2ESeed     = 2030
	smsE2EChargers = 30
	// smsVerify bounds the agent's wait for a charger to confirm a fix
	// (45 s by default). It is longer than the webhook's wait for the
	// agent (httpapi.DefaultSMSReplyWait): a start the charger ignores is
	// only known once it runs out, so that reply always comes later,
	// through the REST API.
	smsVerify = 15 * time.Second
	// smsLateWait bounds the wait for a reply sent through the REST API
	// after an empty webhook answer: the agent's own bound on a late
	// reply (httpapi.DefaultSMSLateTimeout) is longer, but no fix here
	// takes this long.
	smsLateWait = 60 * time.Second
)

// smsStack is chargedesk serving in this process with a Twilio number,
// its simulated fleet, and the fake Twilio.
type smsStack struct {
	c       *e2eClient
	signer  *twiliotest.Signer
	twilio  *twiliotest.API
	pay     *payments.Builtin
	network sim.Network
	logs    *syncBuf
	sids    atomic.Int64
	// srv is chargedesk serving (the console's tests add operators to its
	// store).
	srv *server

	mu      sync.Mutex
	used    map[string]bool // chargers and drivers taken by a conversation
	drivers map[string][]sim.Driver
}

func startSMSStack(t *testing.T, ctx context.Context) *smsStack {
	t.Helper()
	fake := twiliotest.NewAPI(smsE2EAccount, smsE2EToken)
	t.Cleanup(fake.Close)
	cfg := &config{HTTPAddr: "127.0.0.1:0", OCPPAddr: "127.0.0.1:0", DataDir: t.TempDir(),
		APIKeys: map[string]string{smsE2EKey: "sms-e2e"}, HeartbeatInterval: 60 * time.Second, Node: "sms-e2e",
		LogFormat: "text", LogLevel: slog.LevelInfo,
		Twilio: twilioConfig{AccountSID: smsE2EAccount, AuthToken: smsE2EToken, PublicURL: smsE2EPublic,
			From: smsE2ENumber, APIURL: fake.URL},
		Voice: voiceConfig{Mode: "relay", HumanNumber: smsE2EHuman}}
	logs := newSyncBuf()
	log := newLogger(cfg, logs)
	network := sim.GenerateNetwork(smsE2ESeed, smsE2EChargers)
	pay := payments.NewBuiltin(time.Now)
	var fleet *sim.Fleet
	hook := func(ctx context.Context, s *server) (httpapi.SimControl, error) {
		if err := registerNetwork(ctx, s.store, pay, network, time.Now()); err != nil {
			return nil, err
		}
		var err error
		fleet, err = sim.NewFleet(sim.FleetConfig{URL: s.ocppURL, Chargers: network.Chargers, ConnectRate: 500,
			Logger: log.With("component", "sim"),
			// A quick fleet: resets and short outages of a second or two,
			// reconnects within half a second.
			Tune: func(c *sim.ChargerConfig) {
				c.RebootDelay, c.CommDropShort = 300*time.Millisecond, 2*time.Second
				c.BackoffMin, c.BackoffMax = 50*time.Millisecond, 500*time.Millisecond
			}})
		if err != nil {
			return nil, err
		}
		control := newFleetControl(fleet, s.store, time.Now)
		control.payments = pay
		return control, nil
	}
	srvCtx, stop := context.WithCancel(context.Background())
	srv, err := startServer(srvCtx, cfg, log, serverOptions{hook: hook, payments: pay, verifyTimeout: smsVerify})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	fleetDone, srvDone := make(chan error, 1), make(chan error, 1)
	go func() { fleetDone <- fleet.Run(srvCtx) }()
	go func() { srvDone <- srv.wait(srvCtx) }()
	t.Cleanup(func() {
		stop()
		<-fleetDone
		if err := <-srvDone; err != nil {
			t.Errorf("server: %v", err)
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs)
		}
	})
	s := &smsStack{
		c:      &e2eClient{t: t, ctx: ctx, api: srv.apiURL, key: smsE2EKey, hc: &http.Client{Timeout: e2eReplyTimeout}},
		signer: &twiliotest.Signer{AuthToken: smsE2EToken, Target: srv.apiURL, Public: smsE2EPublic, Client: &http.Client{Timeout: e2eReplyTimeout}},
		twilio: fake, pay: pay, network: network, logs: logs, used: map[string]bool{}, drivers: map[string][]sim.Driver{},
		srv: srv,
	}
	for _, d := range network.Drivers {
		s.drivers[d.Language] = append(s.drivers[d.Language], d)
	}
	if !s.c.waitFor(30*time.Second, func() bool { return fleet.Stats().Connected == len(network.Chargers) }) {
		t.Fatalf("fleet not connected: %s", fleet.Summary())
	}
	return s
}

// driver takes a driver of the network who speaks lang (a Québec driver
// texts in French) and has not texted yet.
func (s *smsStack) driver(t *testing.T, lang string) sim.Driver {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.drivers[lang] {
		if !s.used[d.ID] {
			s.used[d.ID] = true
			return d
		}
	}
	t.Fatalf("no %s-speaking driver left in the network", lang)
	return sim.Driver{}
}

// charger takes a charger of the fleet, on line and free, whose connector
// 1 locks the cable (not J1772), not taken yet.
func (s *smsStack) charger(c *e2eClient) string {
	c.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.network.Chargers {
		if s.used[ch.ID] || ch.Connectors[0].Type == sim.J1772 {
			continue
		}
		if k := c.simConnector(ch.ID, 1); k.Status == "Available" && !k.Plugged && k.Operative {
			s.used[ch.ID] = true
			return ch.ID
		}
	}
	c.t.Fatal("no free charger left in the fleet")
	return ""
}

// nextSID is a fresh MessageSid, as Twilio gives each incoming message.
func (s *smsStack) nextSID() string {
	return fmt.Sprintf("SM%032x", 0x5e2e0000+s.sids.Add(1))
}

// post sends an incoming SMS webhook, signed.
func (s *smsStack) post(ctx context.Context, sid, from, body string) (twiliotest.Response, error) {
	return s.signer.Post(ctx, "/twilio/sms", twiliotest.SMSForm(smsE2EAccount, sid, from, smsE2ENumber, body))
}

// sentTo returns the messages the REST API was asked to send to phone.
func (s *smsStack) sentTo(phone string) []twiliotest.Message {
	var out []twiliotest.Message
	for _, m := range s.twilio.Messages() {
		if m.To == phone {
			out = append(out, m)
		}
	}
	return out
}

// conversations lists the SMS conversations of a driver.
type smsConvView struct {
	ID, Channel, From, Language, Status, TicketID string
}

func (s *smsStack) conversations(c *e2eClient, driverID string) []smsConvView {
	c.t.Helper()
	var list struct{ Conversations []smsConvView }
	if code := c.do("GET", "/api/v1/conversations?limit=200&driverId="+url.QueryEscape(driverID), nil, true, &list); code != http.StatusOK {
		c.t.Fatalf("conversations: %d", code)
	}
	return list.Conversations
}

// turns returns a conversation's turns.
func (s *smsStack) turns(c *e2eClient, id string) []string {
	c.t.Helper()
	var v struct{ Turns []struct{ Role, Text string } }
	if code := c.do("GET", "/api/v1/conversations/"+id, nil, true, &v); code != http.StatusOK {
		c.t.Fatalf("conversation %s: %d", id, code)
	}
	var out []string
	for _, tn := range v.Turns {
		out = append(out, tn.Role+": "+tn.Text)
	}
	return out
}

// smsTwiML is a messaging webhook's answer as Twilio reads it.
type smsTwiML struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

// smsPhone is a driver's phone: what they text, and what it receives.
type smsPhone struct {
	s     *smsStack
	c     *e2eClient
	phone string
	// seen counts the REST API's messages to the phone already read.
	seen       int
	transcript []string
	// received has every text the phone received, one per message.
	received []string
	// late counts the replies that came through the REST API.
	late int
	// broken: a message got no answer at all.
	broken bool
}

// text sends body from the phone and returns what the phone receives in
// answer: the TwiML messages, or, when the webhook answered with none,
// the messages sent through the REST API once the agent is done.
func (p *smsPhone) text(body string) string {
	t := p.c.t
	t.Helper()
	p.transcript = append(p.transcript, "driver: "+body)
	res, err := p.s.post(p.c.ctx, p.s.nextSID(), p.phone, body)
	if err == nil && res.Status != http.StatusOK {
		err = fmt.Errorf("status %d: %s", res.Status, res.Body)
	}
	var tw smsTwiML
	if err == nil {
		err = xml.Unmarshal([]byte(res.Body), &tw)
	}
	if err != nil {
		p.broken = true
		p.transcript = append(p.transcript, fmt.Sprintf("(no answer: %v)", err))
		t.Errorf("text %q: %v", body, err)
		return ""
	}
	msgs := tw.Messages
	if len(msgs) == 0 {
		msgs = p.lateReply()
		if len(msgs) == 0 {
			p.broken = true
			p.transcript = append(p.transcript, "(nothing received)")
			t.Errorf("text %q: no reply, neither in the webhook's answer nor through the REST API within %v", body, smsLateWait)
			return ""
		}
		p.late++
	}
	if len(msgs) > 3 {
		t.Errorf("one reply in %d messages (at most 3)", len(msgs))
	}
	for _, m := range msgs {
		if n := utf8.RuneCountInString(m); n > 320 {
			t.Errorf("a message of %d characters (at most 320): %q", n, m)
		}
		p.received = append(p.received, m)
	}
	reply := strings.Join(msgs, " ")
	p.transcript = append(p.transcript, "agent: "+reply)
	return reply
}

// lateReply waits for the REST API's messages to the phone beyond those
// read, and returns them once no more parts follow.
func (p *smsPhone) lateReply() []string {
	var got []twiliotest.Message
	p.c.waitFor(smsLateWait, func() bool {
		got = p.s.sentTo(p.phone)
		return len(got) > p.seen
	})
	// The parts of one reply are sent one after the other.
	for n := len(got); ; n = len(got) {
		time.Sleep(300 * time.Millisecond)
		if got = p.s.sentTo(p.phone); len(got) == n {
			break
		}
	}
	var out []string
	for _, m := range got[p.seen:] {
		if m.From != smsE2ENumber {
			p.c.t.Errorf("a late reply sent from %q, want the Twilio number %s", m.From, smsE2ENumber)
		}
		out = append(out, m.Body)
	}
	p.seen = len(got)
	return out
}

// smsCase is one conversation of the matrix: a core failure, told in a
// language, with the fault of the catalogue that causes it.
type smsCase struct {
	failure string // start, payment, offline, cable, rfid
	fault   sim.Fault
	lang    string
	opening string // names the charger with %s
}

// smsCases: each failure in each language; the variant of the failure
// (which fault causes it) changes with the language.
var smsCases = []smsCase{
	{"start", sim.FaultRemoteStartIgnored, "en", "hi, I'm plugged in at %s and the charge won't start"},
	{"start", sim.FaultControllerHung, "fr", "bonjour, je suis branché à la borne %s, j'ai passé ma carte mais la recharge ne démarre pas"},
	{"start", sim.FaultRemoteStartIgnored, "es", "hola, conecté mi auto en el cargador %s y la carga no empieza"},

	{"payment", sim.FaultCardExpired, "en", "my payment was declined at %s, it won't start"},
	{"payment", sim.FaultCardExpired, "fr", "mon paiement a été refusé à la borne %s, la recharge ne démarre pas"},
	{"payment", sim.FaultAppSyncDelay, "es", "agregué una tarjeta nueva en la app pero el pago falla en el cargador %s"},

	{"offline", sim.FaultCommDropShort, "en", "charger %s is offline, the screen says no connection"},
	{"offline", sim.FaultStaleStatus, "fr", "la borne %s est hors ligne, elle affiche indisponible"},
	{"offline", sim.FaultCommDropShort, "es", "el cargador %s está fuera de línea, dice sin conexión"},

	{"cable", sim.FaultLockAfterSession, "en", "my session ended but the cable is stuck in %s, it won't come out"},
	{"cable", sim.FaultLockAfterSession, "fr", "ma recharge est finie mais le câble est coincé dans la borne %s, il ne sort pas"},
	{"cable", sim.FaultLockAfterSession, "es", "mi sesión terminó pero el cable está atascado en el cargador %s, no sale"},

	{"rfid", sim.FaultLocalListStale, "en", "my charging card isn't accepted at %s, it says invalid card"},
	{"rfid", sim.FaultLocalListStale, "fr", "ma carte de recharge est refusée à la borne %s, elle affiche carte invalide"},
	{"rfid", sim.FaultLocalListStale, "es", "mi tarjeta de carga no es aceptada en el cargador %s, dice tarjeta inválida"},
}

// smsPersonas add what a texting driver says to the demo driver's words.
var smsPersonas = map[string]struct{ paid string }{
	"en": {paid: "ok, I paid"},
	"fr": {paid: "c'est payé"},
	"es": {paid: "ya pagué"},
}

// payLinkURL is a payment link in a text, as the driver taps it.
var payLinkURL = regexp.MustCompile(`https://\S+/p/([A-Za-z0-9_-]+)`)

func TestSMSEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chargedesk with a simulated fleet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startSMSStack(t, ctx)

	t.Run("failures", func(t *testing.T) {
		// Drivers are given out in the matrix's order, before the
		// conversations run in parallel: each run plays the same drivers.
		for _, tc := range smsCases {
			who := s.driver(t, tc.lang)
			t.Run(tc.lang+"/"+tc.failure+"/"+string(tc.fault), func(t *testing.T) {
				t.Parallel()
				s.fix(t, ctx, tc, who)
			})
		}
	})
	t.Run("replayed MessageSid", func(t *testing.T) { s.replay(t, ctx) })
	t.Run("STOP", func(t *testing.T) { s.stop(t, ctx) })
	t.Run("bad signature", func(t *testing.T) { s.badSignature(t, ctx) })
}

// fix plays one conversation of the matrix, by driver who, and checks the charger's end
// state and the replies' language.
func (s *smsStack) fix(t *testing.T, ctx context.Context, tc smsCase, who sim.Driver) {
	c := &e2eClient{t: t, ctx: ctx, api: s.c.api, key: s.c.key, hc: s.c.hc}
	tag := who.IDTags[0]
	id := s.charger(c)
	mine := func(v chargerView) bool {
		return slices.ContainsFunc(who.IDTags, func(tag string) bool { return v.chargingWith(1, tag) })
	}

	// The failure, as the driver met it.
	inject := func(f sim.Fault, connector int, idTag string) {
		t.Helper()
		body := map[string]any{"fault": f, "connectorId": connector, "idTag": idTag}
		if code := c.do("POST", "/api/v1/sim/chargers/"+id+"/faults", body, true, nil); code != http.StatusOK {
			t.Fatalf("inject %s into %s: %d", f, id, code)
		}
	}
	act := func(action, idTag string) string {
		t.Helper()
		var out struct{ Outcome string }
		code := c.do("POST", "/api/v1/sim/chargers/"+id+"/connectors/1/actions", map[string]string{"action": action, "idTag": idTag}, true, &out)
		if code != http.StatusOK {
			t.Fatalf("%s at %s: %d", action, id, code)
		}
		return out.Outcome
	}
	var startTime string
	switch tc.fault {
	case sim.FaultRemoteStartIgnored:
		inject(tc.fault, 1, "")
		act("plug", "")
	case sim.FaultControllerHung:
		// The car plugged in, the card tapped and accepted, and then
		// nothing: the controller hangs.
		inject(tc.fault, 1, "")
		if !c.waitFor(10*time.Second, func() bool { st := c.charger(id).status(1); return st == "Preparing" || st == "Occupied" }) {
			t.Fatalf("hung charger %s shows %q", id, c.charger(id).status(1))
		}
		act("plug", "")
		act("tap", tag)
	case sim.FaultCardExpired:
		// The app tried to authorize the session on the expired card.
		inject(tc.fault, 0, tag)
		act("plug", "")
		res, err := s.pay.Authorize(ctx, payments.AuthRequest{AccountID: "acct-" + who.ID, AmountCents: 3000, IdempotencyKey: "app-" + id})
		if err != nil || res.Approved {
			t.Fatalf("the app's authorization on an expired card: %+v %v", res, err)
		}
	case sim.FaultAppSyncDelay:
		inject(tc.fault, 0, tag)
		act("plug", "")
	case sim.FaultCommDropShort:
		inject(tc.fault, 0, "")
		if !c.waitFor(10*time.Second, func() bool { return !c.charger(id).Connected }) {
			t.Fatalf("%s still connected after %s", id, tc.fault)
		}
	case sim.FaultStaleStatus:
		inject(tc.fault, 1, "")
		if !c.waitFor(10*time.Second, func() bool { return c.charger(id).status(1) == "Unavailable" }) {
			t.Fatalf("%s shows %q after %s", id, c.charger(id).status(1), tc.fault)
		}
	case sim.FaultLockAfterSession:
		// The driver's own session there began five minutes ago
		// (lockSessionAge) and just ended; the lock stayed.
		began := time.Now().Add(-lockSessionAge)
		inject(tc.fault, 1, tag)
		var txs struct {
			Transactions []struct {
				IDTag     string    `json:"idTag"`
				StartedAt time.Time `json:"startedAt"`
				StoppedAt time.Time `json:"stoppedAt"`
			}
		}
		if !c.waitFor(10*time.Second, func() bool {
			c.do("GET", "/api/v1/transactions?chargerId="+id, nil, true, &txs)
			return len(txs.Transactions) > 0 && !txs.Transactions[0].StoppedAt.IsZero()
		}) {
			t.Fatalf("no ended session of %s stored at %s: %+v", tag, id, txs)
		}
		if k := c.simConnector(id, 1); !k.LockEngaged || !k.Plugged {
			t.Fatalf("connector 1 of %s: lock engaged %v, cable in %v", id, k.LockEngaged, k.Plugged)
		}
		startTime = began.Format("3:04 PM")
	case sim.FaultLocalListStale:
		inject(tc.fault, 1, tag)
		act("plug", "")
		if got := act("tap", tag); !strings.Contains(got, "Invalid") {
			t.Fatalf("tap of %s at %s: %q, want the card refused as Invalid", tag, id, got)
		}
	default:
		t.Fatalf("no setup for %s", tc.fault)
	}

	// fixed reports, from what the charger shows, that the problem is
	// gone: charging on the driver's card, back on line and available,
	// the cable out and the connector free.
	cable := tc.failure == "cable"
	fixed := func() bool {
		v := c.charger(id)
		switch tc.failure {
		case "start", "payment", "rfid":
			return mine(v)
		case "offline":
			return v.Connected && v.status(1) == "Available"
		}
		return v.status(1) == "Available" && !mine(v)
	}

	pers := personas[tc.lang]
	phone := &smsPhone{s: s, c: c, phone: who.Phone}
	reply := phone.text(fmt.Sprintf(tc.opening, id))
	done, paid := false, false
	for turn := 1; turn < e2eMaxTurns && !done && !phone.broken; turn++ {
		if m := payLinkURL.FindStringSubmatch(reply); m != nil && !paid {
			// The driver opens the link and pays.
			if _, err := s.pay.MarkPayLinkPaid(ctx, m[1]); err != nil {
				t.Fatalf("pay the link %s: %v", m[0], err)
			}
			paid = true
			reply = phone.text(smsPersonas[tc.lang].paid)
			continue
		}
		switch h := hear(tc.lang, reply); {
		case h == heardPhone || h == heardLast4:
			// The number on file verifies the driver: no proof to give.
			t.Errorf("the agent asks a driver texting from their number on file who they are: %q", reply)
			if h == heardPhone {
				reply = phone.text(spokenPhone(t, who.Phone))
			} else {
				reply = phone.text(who.Payments[0].Last4)
			}
		case h == heardStartTime && startTime != "":
			reply = phone.text(startTime)
		case h == heardConnector:
			reply = phone.text(pers.connector)
		case h == heardPlugged:
			act("plug", "")
			reply = phone.text(pers.yes)
		case h == heardYesNo:
			reply = phone.text(pers.yes)
		case cable:
			// The driver tries to pull the cable out.
			if c.act(id, 1, "unplug") {
				reply = phone.text(pers.cableOut)
				done = true
			} else {
				reply = phone.text(pers.stillStuck)
			}
		case c.waitFor(5*time.Second, fixed):
			reply = phone.text(pers.thanks)
			done = true
		default:
			reply = phone.text(pers.nudge)
		}
	}
	defer func() {
		t.Logf("%s at %s, from %s:\n%s", tc.fault, id, who.Phone, strings.Join(phone.transcript, "\n"))
	}()

	switch {
	case phone.broken:
	case !done:
		t.Errorf("not fixed after %d texts", e2eMaxTurns)
	case !c.waitFor(10*time.Second, fixed):
		t.Errorf("the charger does not show the fix: %+v", c.charger(id))
	}
	// The end state, as the simulator has it.
	switch k := c.simConnector(id, 1); {
	case cable && (k.LockEngaged || k.Plugged):
		t.Errorf("connector 1 of %s: lock engaged %v, cable in %v", id, k.LockEngaged, k.Plugged)
	case tc.failure == "rfid":
		// The card the charger refused is no longer held invalid in its
		// local list (the fault is gone once it is not). The session may
		// run on another card of the driver's: the agent starts it with
		// the account's first valid card, not necessarily the one tapped.
		var snap struct{ Faults []struct{ Name string } }
		if code := c.do("GET", "/api/v1/sim/chargers/"+id, nil, true, &snap); code != http.StatusOK {
			t.Fatalf("simulated charger %s: %d", id, code)
		}
		for _, f := range snap.Faults {
			if f.Name == string(sim.FaultLocalListStale) {
				t.Errorf("%s still holds the driver's card %s invalid in its local list", id, tag)
			}
		}
	}
	// Every text the phone received is in the driver's language.
	for i, r := range phone.received {
		if foreign, whole := languageDrift(tc.lang, r); len(foreign) > 0 || !whole {
			t.Errorf("text %d not in %s: %q (sentences in another language: %q)", i, tc.lang, r, foreign)
		}
	}
	convs := s.conversations(c, who.ID)
	if len(convs) != 1 || convs[0].Channel != "sms" || convs[0].From != who.Phone {
		t.Fatalf("conversations of %s: %+v, want one by SMS from %s", who.ID, convs, who.Phone)
	}
	if cv := convs[0]; cv.Language != tc.lang || cv.TicketID != "" || cv.Status != "resolved" && cv.Status != "closed" {
		t.Errorf("conversation %s: language %q, ticket %q, status %q; want %s, no ticket, resolved", cv.ID, cv.Language, cv.TicketID, cv.Status, tc.lang)
	}
	// A remote start the charger ignores takes the agent longer than the
	// webhook waits: the driver got that reply through the REST API.
	if tc.fault == sim.FaultRemoteStartIgnored && phone.late == 0 && !phone.broken {
		t.Errorf("no reply came through the REST API, though the agent waits %v on an ignored start and the webhook %v", smsVerify, httpapi.DefaultSMSReplyWait)
	}
}

// replay: Twilio retries a webhook with the same MessageSid; the second
// delivery is answered with nothing and gets no agent turn.
func (s *smsStack) replay(t *testing.T, ctx context.Context) {
	c := &e2eClient{t: t, ctx: ctx, api: s.c.api, key: s.c.key, hc: s.c.hc}
	who := s.driver(t, "en")
	id := s.network.Chargers[0].ID
	phone := &smsPhone{s: s, c: c, phone: who.Phone}
	phone.text("hi, is charger " + id + " working? I'm about to plug in")
	sid := s.nextSID()
	body := "which connector should I use at " + id + "?"
	first, err := s.post(ctx, sid, who.Phone, body)
	if err != nil || first.Status != http.StatusOK {
		t.Fatalf("first delivery: %+v %v", first, err)
	}
	convs := s.conversations(c, who.ID)
	if len(convs) != 1 {
		t.Fatalf("conversations of %s: %+v", who.ID, convs)
	}
	before := s.turns(c, convs[0].ID)
	sent := len(s.sentTo(who.Phone))

	again, err := s.post(ctx, sid, who.Phone, body)
	if err != nil || again.Status != http.StatusOK {
		t.Fatalf("replay: %+v %v", again, err)
	}
	var tw smsTwiML
	if err := xml.Unmarshal([]byte(again.Body), &tw); err != nil || len(tw.Messages) != 0 {
		t.Errorf("the replay is answered %q, want an empty answer", again.Body)
	}
	// Give a wrongly started agent turn the time to be stored or sent.
	time.Sleep(time.Second)
	if after := s.turns(c, convs[0].ID); len(after) != len(before) {
		t.Errorf("the replay got an agent turn: %d turns before, %d after:\n%s", len(before), len(after), strings.Join(after, "\n"))
	}
	if n := len(s.sentTo(who.Phone)); n != sent {
		t.Errorf("%d messages sent after the replay", n-sent)
	}
	if n := len(s.conversations(c, who.ID)); n != 1 {
		t.Errorf("%d conversations after the replay", n)
	}
}

// stop: a driver texts STOP (here in French, ARRET); what they text
// afterwards reaches no one and nothing is sent to them, not even later.
func (s *smsStack) stop(t *testing.T, ctx context.Context) {
	c := &e2eClient{t: t, ctx: ctx, api: s.c.api, key: s.c.key, hc: s.c.hc}
	who := s.driver(t, "fr")
	id := s.network.Chargers[1].ID
	phone := &smsPhone{s: s, c: c, phone: who.Phone}
	phone.text("bonjour, la borne " + id + " fonctionne-t-elle?")
	confirm := phone.text("ARRET")
	if !strings.Contains(confirm, "START") || languageOf(confirm) != "fr" {
		t.Errorf("STOP is confirmed %q, want a French confirmation that says how to resume", confirm)
	}
	convs := s.conversations(c, who.ID)
	if len(convs) != 1 {
		t.Fatalf("conversations of %s: %+v", who.ID, convs)
	}
	before := s.turns(c, convs[0].ID)
	sent := len(s.sentTo(who.Phone))

	res, err := s.post(ctx, s.nextSID(), who.Phone, "ma session de recharge ne démarre pas à la borne "+id)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("text after STOP: %+v %v", res, err)
	}
	var tw smsTwiML
	if err := xml.Unmarshal([]byte(res.Body), &tw); err != nil || len(tw.Messages) != 0 {
		t.Errorf("a text after STOP is answered %q, want nothing", res.Body)
	}
	// Nothing comes later either.
	time.Sleep(2 * time.Second)
	if n := len(s.sentTo(who.Phone)); n != sent {
		t.Errorf("%d messages sent after STOP: %+v", n-sent, s.sentTo(who.Phone)[sent:])
	}
	if after := s.turns(c, convs[0].ID); len(after) != len(before) {
		t.Errorf("the text after STOP reached the agent:\n%s", strings.Join(after, "\n"))
	}
	if n := len(s.conversations(c, who.ID)); n != 1 {
		t.Errorf("%d conversations after STOP", n)
	}
}

// badSignature: a request not signed with the account's token is refused
// and starts nothing.
func (s *smsStack) badSignature(t *testing.T, ctx context.Context) {
	c := &e2eClient{t: t, ctx: ctx, api: s.c.api, key: s.c.key, hc: s.c.hc}
	who := s.driver(t, "es")
	form := twiliotest.SMSForm(smsE2EAccount, s.nextSID(), who.Phone, smsE2ENumber, "por favor inicie mi sesión en el cargador "+s.network.Chargers[0].ID)
	forger := &twiliotest.Signer{AuthToken: "not-the-account-token", Target: s.signer.Target, Public: smsE2EPublic}
	for name, sig := range map[string]string{
		"wrong token": forger.Sign("/twilio/sms", form),
		"none":        "",
	} {
		res, err := s.signer.PostSignature(ctx, "/twilio/sms", form, sig)
		if err != nil || res.Status != http.StatusForbidden {
			t.Errorf("%s: %d %v, want 403", name, res.Status, err)
		}
	}
	time.Sleep(time.Second)
	if convs := s.conversations(c, who.ID); len(convs) != 0 {
		t.Errorf("a wrongly signed request opened conversations: %+v", convs)
	}
	if n := len(s.sentTo(who.Phone)); n != 0 {
		t.Errorf("%d messages sent to the forged sender", n)
	}
}
