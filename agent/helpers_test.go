package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/nlu"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sim"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// testVerify is the agent's verify deadline in the tests: long enough for
// a simulated charger on loopback, short enough to keep the suite fast.
const testVerify = 4 * time.Second

// shared holds what every test of the package may share: compiling the
// schemas and training the understander take a while.
var shared = sync.OnceValues(func() (*ocpp.Validator, *nlu.Understander) {
	v, err := ocpp.NewValidator()
	if err != nil {
		panic(err)
	}
	u, err := nlu.New()
	if err != nil {
		panic(err)
	}
	return v, u
})

// stack is chargedesk's central system on SQLite behind a loopback server,
// publishing its chargers' events on an embedded bus, the policy gateway,
// a payments processor and an agent over them that hears those events.
type stack struct {
	srv   *csms.Server
	store *sqlstore.Store
	bus   *natsbus.Bus
	url   string
	rules *policy.Rules
	gw    *policy.Gateway
	pay   *payments.Builtin
	agent *Agent
	cfg   Config
	seq   atomic.Int64
}

func newStack(t testing.TB) *stack {
	t.Helper()
	validator, u := shared()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	bus, err := natsbus.Open(ctx, natsbus.Config{Name: "agent-test"})
	if err != nil {
		cancel()
		store.Close()
		t.Fatal(err)
	}
	srv, err := csms.New(ctx, csms.Config{Node: "agent-test", Store: store, Validator: validator, Bus: bus,
		FlushInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		bus.Close()
		store.Close()
		t.Fatal(err)
	}
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = srv.Run(ctx) }()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		cancel()
		<-runDone
		bus.Close()
		store.Close()
	})
	rules := &policy.Rules{Store: store, Now: time.Now, AgentLimits: policy.AgentLimits{Network: 10000}}
	gw := &policy.Gateway{Policy: rules, Audit: store, Next: srv, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	st := &stack{srv: srv, store: store, bus: bus, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp", rules: rules, gw: gw,
		pay: payments.NewBuiltin(time.Now)}
	st.cfg = Config{Store: store, Commands: gw, NLU: u, Payments: st.pay, Events: bus, VerifyTimeout: testVerify, Poll: 20 * time.Millisecond,
		CommandTimeout: 5 * time.Second}
	if st.agent, err = New(st.cfg); err != nil {
		t.Fatal(err)
	}
	return st
}

// envOpts shape one test's world.
type envOpts struct {
	// alt adds an available compatible charger 1-2 km away.
	alt bool
	// edit adjusts the charger's configuration.
	edit func(*sim.ChargerConfig)
}

// env is one test's world on the shared stack: a site with one simulated
// charger (connector 1, CCS1 150 kW), a driver with a phone, an RFID token
// and a card, and another driver's token.
type env struct {
	t      testing.TB
	ctx    context.Context
	st     *stack
	n      int64
	p      chargedesk.Protocol
	id     string
	c      *sim.Charger
	site   *chargedesk.Site
	driver *chargedesk.Driver
	tag    string
	other  string
	acct   string
	altID  string
	agent  *Agent
	street string
}

// streets name each test's site uniquely, as drivers would say them.
var streets = []string{"Birchwood", "Maplecrest", "Oakdale", "Pinehurst", "Cedarbrook", "Willowmere", "Aspenridge", "Elmhurst",
	"Hawthorne", "Juniper", "Larkspur", "Magnolia", "Redwood", "Sycamore", "Tamarack", "Chestnut", "Dogwood", "Foxglove",
	"Hemlock", "Ironwood", "Kingsley", "Lindenwood", "Mulberry", "Northgate", "Orchard", "Primrose", "Quailridge", "Rosewood",
	"Sagebrush", "Thornbury", "Upland", "Valleyview", "Westbrook", "Yarrow", "Zinnia", "Alderwood", "Bayberry", "Clearwater"}

// newEnv builds a test's world. Each gets its own region of the map so
// that nearest-charger answers never cross tests.
func newEnv(t testing.TB, st *stack, p chargedesk.Protocol, o envOpts) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	n := st.seq.Add(1)
	e := &env{t: t, ctx: ctx, st: st, n: n, p: p, id: fmt.Sprintf("CDA-FRE-%04d", n),
		tag: fmt.Sprintf("TAG%05d", n), other: fmt.Sprintf("OTH%05d", n), acct: fmt.Sprintf("acct-%d", n)}
	e.agent = st.agent
	lat, lon := 30+float64(n)*0.5, -120.0
	e.street = streets[int(n)%len(streets)]
	e.site = &chargedesk.Site{ID: fmt.Sprintf("site-%d", n), Name: "Costco " + e.street, Address: fmt.Sprintf("%d %s Drive", 100+n, e.street),
		City: "Fremont", Region: "CA", Country: "US", Lat: lat, Lon: lon, Landmarks: []string{fmt.Sprintf("warehouse%d", n)}}
	must(t, st.store.PutSite(ctx, e.site))
	e.driver = &chargedesk.Driver{ID: fmt.Sprintf("drv-%d", n), Name: "Test Driver", Phone: fmt.Sprintf("+1510555%04d", n),
		Language: "en", PaymentAccountID: e.acct}
	must(t, st.store.PutDriver(ctx, e.driver))
	must(t, st.store.PutDriver(ctx, &chargedesk.Driver{ID: fmt.Sprintf("oth-%d", n), Name: "Other", Language: "en"}))
	must(t, st.store.PutToken(ctx, &chargedesk.Token{IDTag: e.tag, Status: chargedesk.AuthAccepted, DriverID: e.driver.ID}))
	must(t, st.store.PutToken(ctx, &chargedesk.Token{IDTag: e.other, Status: chargedesk.AuthAccepted, DriverID: fmt.Sprintf("oth-%d", n)}))
	must(t, st.pay.AddAccount(e.acct, payments.USD))
	if _, err := st.pay.AddMethod(e.acct, payments.Card{Brand: "Visa", Last4: "4242", ExpMonth: 12, ExpYear: time.Now().Year() + 3}); err != nil {
		t.Fatal(err)
	}
	cfg := e.chargerConfig(e.id)
	if o.edit != nil {
		o.edit(&cfg)
	}
	e.c = e.run(cfg, e.site.ID)
	if o.alt {
		altSite := &chargedesk.Site{ID: fmt.Sprintf("site-%d-alt", n), Name: fmt.Sprintf("Library Lot %d", n), Address: "39770 Paseo Padre Pkwy",
			City: "Fremont", Region: "CA", Country: "US", Lat: lat + 0.01, Lon: lon}
		must(t, st.store.PutSite(ctx, altSite))
		e.altID = fmt.Sprintf("CDA-ALT-%04d", n)
		e.run(e.chargerConfig(e.altID), altSite.ID)
	}
	return e
}

func (e *env) chargerConfig(id string) sim.ChargerConfig {
	validator, _ := shared()
	cfg := sim.ChargerConfig{ID: id, Password: "agent-test-secret-1", Protocol: e.p, URL: e.st.url, Validator: validator,
		Connectors:  []sim.ConnectorSpec{{Type: sim.CCS1, MaxPowerKW: 150}},
		CallTimeout: 5 * time.Second, RebootDelay: 100 * time.Millisecond, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		CommDropShort: 1500 * time.Millisecond, Settings: map[string]string{"MeterValueSampleInterval": "1"}}
	return cfg
}

// run registers, places and runs a charger and waits until the central
// system stored it connected with its connectors.
func (e *env) run(cfg sim.ChargerConfig, siteID string) *sim.Charger {
	t := e.t
	if _, err := e.st.store.RegisterCharger(e.ctx, chargedesk.ChargerRegistration{ID: cfg.ID,
		PasswordHash: chargedesk.HashPassword(cfg.Password), BootStatus: chargedesk.RegistrationAccepted}); err != nil {
		t.Fatal(err)
	}
	var specs []chargedesk.ConnectorSpec
	for i, k := range cfg.Connectors {
		specs = append(specs, chargedesk.ConnectorSpec{ID: i + 1, Type: chargedesk.ConnectorType(k.Type), MaxPowerKW: k.MaxPowerKW})
	}
	must(t, e.st.store.PutChargerLocation(e.ctx, chargedesk.ChargerLocation{ChargerID: cfg.ID, SiteID: siteID, Connectors: specs}))
	c := sim.NewCharger(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	e.waitCharger(cfg.ID, "online with connectors", func(ch *chargedesk.Charger) bool {
		return ch.Connected && ch.Connector(1) != nil && ch.Connector(1).Status != ""
	})
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// poll calls get every 10ms until it reports done or the env's deadline.
func poll[T any](e *env, what string, get func() (T, bool)) T {
	e.t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		v, ok := get()
		if ok {
			return v
		}
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			e.t.Fatalf("timed out waiting for %s; last %+v", what, v)
			return v
		}
	}
}

func (e *env) waitCharger(id, what string, cond func(*chargedesk.Charger) bool) *chargedesk.Charger {
	e.t.Helper()
	return poll(e, id+": "+what, func() (*chargedesk.Charger, bool) {
		ch, err := e.st.store.Charger(e.ctx, id)
		if err != nil {
			return nil, false
		}
		return ch, cond(ch)
	})
}

// waitStatus waits until connector 1 of the env's charger shows st.
func (e *env) waitStatus(st ...chargedesk.ConnectorStatus) chargedesk.Connector {
	e.t.Helper()
	ch := e.waitCharger(e.id, fmt.Sprintf("status %v", st), func(ch *chargedesk.Charger) bool {
		k := ch.Connector(1)
		for _, s := range st {
			if k != nil && k.Status == s {
				return true
			}
		}
		return false
	})
	return *ch.Connector(1)
}

// occupied is the status a 1.6 charger shows as s16 and a 2.0.1 one as
// Occupied.
func (e *env) occupied(s16 chargedesk.ConnectorStatus) chargedesk.ConnectorStatus {
	if e.p == chargedesk.OCPP16 {
		return s16
	}
	return chargedesk.StatusOccupied
}

func (e *env) txs(activeOnly bool) []*chargedesk.Transaction {
	e.t.Helper()
	txs, err := e.st.store.Transactions(e.ctx, chargedesk.TransactionFilter{ChargerID: e.id, ActiveOnly: activeOnly})
	if err != nil {
		e.t.Fatal(err)
	}
	return txs
}

// activeTx returns the active transaction of idTag on connector 1, or nil.
func (e *env) activeTx(idTag string) *chargedesk.Transaction {
	for _, tx := range e.txs(true) {
		if tx.IDTag == idTag && tx.ConnectorID == 1 {
			return tx
		}
	}
	return nil
}

// endSession runs a session of the driver's token on connector 1 and ends
// it at the charger, leaving the cable in: the connector's last session
// is the driver's.
func (e *env) endSession() *chargedesk.Transaction {
	e.t.Helper()
	if err := e.c.PlugIn(e.ctx, 1); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.c.TapCard(e.ctx, 1, e.tag); err != nil {
		e.t.Fatal(err)
	}
	tx := poll(e, "session", func() (*chargedesk.Transaction, bool) { tx := e.activeTx(e.tag); return tx, tx != nil })
	if err := e.c.StopLocal(e.ctx, 1); err != nil {
		e.t.Fatal(err)
	}
	poll(e, "session ended", func() (bool, bool) { return true, len(e.txs(true)) == 0 })
	return tx
}

// chat starts an anonymous chat conversation.
func (e *env) chat() *chargedesk.Conversation {
	e.t.Helper()
	c, err := e.agent.Start(e.ctx, chargedesk.ChannelChat, "web-"+e.id, "en")
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// sms starts an SMS conversation from the driver's phone.
func (e *env) sms() *chargedesk.Conversation {
	e.t.Helper()
	c, err := e.agent.Start(e.ctx, chargedesk.ChannelSMS, e.driver.Phone, "")
	if err != nil {
		e.t.Fatal(err)
	}
	if c.DriverID != e.driver.ID || c.Verified != chargedesk.VerifiedPhone {
		e.t.Fatalf("caller not verified by phone: %+v", c)
	}
	return c
}

// say sends a driver message and returns the reply.
func (e *env) say(c *chargedesk.Conversation, text string) Reply {
	e.t.Helper()
	r, err := e.agent.Handle(e.ctx, c.ID, text)
	if err != nil {
		e.t.Fatalf("Handle(%q): %v", text, err)
	}
	e.t.Logf("driver: %s\nagent:  %s  [%s/%s %v] %s", text, r.Text, r.Conversation.Status, r.Conversation.State, actionKinds(r.Actions), r.Conversation.Data)
	return r
}

func actionKinds(as []Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Kind+"="+a.Status)
	}
	return out
}

// commands returns the agent's audited commands to the env's charger by
// kind and outcome ("Kind" for decisions allowed, "Kind:Outcome" for
// outcomes), and fails on any command whose actor is not the agent.
func (e *env) commands(id string) map[string]int {
	e.t.Helper()
	entries, err := e.st.store.AuditEntries(e.ctx, chargedesk.AuditFilter{ChargerID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range entries {
		if !strings.HasPrefix(a.Actor, chargedesk.AgentActorPrefix+"C-") {
			e.t.Errorf("audited command by %q", a.Actor)
		}
		switch a.Stage {
		case chargedesk.AuditDecision:
			if a.Allowed {
				out[a.Kind]++
			} else {
				out[a.Kind+":Refused"]++
			}
		case chargedesk.AuditOutcome:
			out[a.Kind+":"+a.Outcome]++
		}
	}
	return out
}

// ticket returns the conversation's ticket and fails unless it has the
// category.
func (e *env) ticket(r Reply, category string) *chargedesk.Ticket {
	e.t.Helper()
	if r.Conversation.TicketID == "" {
		e.t.Fatalf("no ticket; want %s", category)
	}
	tk, err := e.st.store.Ticket(e.ctx, r.Conversation.TicketID)
	if err != nil {
		e.t.Fatal(err)
	}
	if tk.Category != category || tk.Transcript == "" || tk.Summary == "" || len(tk.Evidence) == 0 {
		e.t.Fatalf("ticket %+v, want category %s with transcript and evidence", tk, category)
	}
	return tk
}

// noTicket fails if the conversation opened any ticket.
func (e *env) noTicket(r Reply) {
	e.t.Helper()
	if r.Conversation.TicketID != "" {
		e.t.Errorf("ticket %s opened", r.Conversation.TicketID)
	}
}

// status fails unless the conversation ended in status want.
func (e *env) status(r Reply, want chargedesk.ConversationStatus) {
	e.t.Helper()
	if r.Conversation.Status != want {
		e.t.Fatalf("conversation %s (%s), want %s; reply %q", r.Conversation.Status, r.Conversation.State, want, r.Text)
	}
}

// sentToAlt fails unless the reply names the alternative charger.
func (e *env) sentToAlt(r Reply) {
	e.t.Helper()
	if e.altID == "" || !strings.Contains(r.Text, e.altID) {
		e.t.Errorf("reply %q does not send the driver to %s", r.Text, e.altID)
	}
}
