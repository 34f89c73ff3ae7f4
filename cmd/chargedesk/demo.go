package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/sim"
	"golang.org/x/crypto/bcrypt"
)

// demoFault is a fault the demo injects into one charger of its fleet.
type demoFault struct {
	fault     sim.Fault
	connector int
	// card says whose card the fault concerns, if any.
	card demoCard
	// needsLock: a connector that locks the cable (not J1772); plugged: a
	// car is plugged in, as the driver who met the fault left it.
	needsLock, plugged bool
	// what is the one-line story printed for the operator.
	what string
}

// demoCard is whose charging card a demo fault concerns.
type demoCard int

const (
	noCard       demoCard = iota
	otherCard             // another driver of the network (not the demo driver)
	ownCard               // the demo driver's first card, whose story the guide tells
	ownSpareCard          // the demo driver's second card: a session on it leaves the first free to start another
)

// demoFaults is the mix the demo starts with: one charger each, the rest of
// the fleet healthy. The guide suggests four of them to the demo driver:
// the stuck lock (after the demo driver's own session there), the
// connector left inoperative, the hung controller (the car plugged in) and
// the demo driver's session still running.
var demoFaults = []demoFault{
	{sim.FaultLockAfterSession, 1, ownCard, true, false, "session ended but the connector lock stayed engaged"},
	{sim.FaultControllerHung, 1, noCard, false, true, "controller hung: car plugged in, connector stuck in Preparing"},
	{sim.FaultStaleStatus, 1, noCard, false, false, "last status said Unavailable after a glitch; nothing since"},
	{sim.FaultLeftInoperative, 1, noCard, false, false, "left Inoperative after maintenance"},
	{sim.FaultHardwareFaultPower, 1, noCard, false, false, "power module fault (Faulted)"},
	{sim.FaultLocalListStale, 1, otherCard, false, false, "local list holds a valid card as Invalid"},
	{sim.FaultStaleTransaction, 1, otherCard, false, false, "a previous session was never closed"},
	{sim.FaultRemoteStartIgnored, 1, noCard, false, false, "firmware accepts remote starts but never starts"},
	{sim.FaultLockMechanical, 1, noCard, true, false, "lock actuator broken: unlock always fails"},
	{sim.FaultCommDropLong, 0, noCard, false, false, "modem outage: offline for good"},
	{sim.FaultReaderFault, 0, noCard, false, false, "RFID reader dead"},
	{sim.FaultOwnSessionRunning, 1, ownSpareCard, true, false, "a driver's own session is still running"},
}

// demo runs the whole product with no configuration: chargedesk on
// :8080/:9000 with SQLite in a temporary directory and an embedded bus, a
// simulated fleet of chargers across North American cities with a mix of
// faults, and a printed guide. Ctrl-C stops everything.
func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http", ":8080", "address of the operator API")
	ocppAddr := fs.String("ocpp", ":9000", "address of the OCPP endpoint")
	n := fs.Int("chargers", 50, "simulated chargers (1 to 2000)")
	seed := fs.Int64("seed", 2026, "seed of the simulated network")
	dataDir := fs.String("data", "", "data directory (default: a temporary one, removed at exit)")
	logLevel := fs.String("log-level", "warn", "log level of the server (debug, info, warn, error)")
	llmVals, err := registerSettings(fs, llmSettings, getenv)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	llmCfg, err := llmFromFlags(fs, llmVals)
	if err != nil {
		return err
	}
	if *n < 1 || *n > 2000 {
		return fmt.Errorf("-chargers must be from 1 to 2000")
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "chargedesk-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	key := make([]byte, 12)
	_, _ = rand.Read(key)
	apiKey := "demo-" + hex.EncodeToString(key)
	cfg := &config{
		HTTPAddr: *httpAddr, OCPPAddr: *ocppAddr, DataDir: dir, APIKeys: map[string]string{apiKey: "demo"},
		HeartbeatInterval: 60 * time.Second, Node: "demo", LogFormat: "text", LLM: llmCfg,
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := newLogger(cfg, stderr)

	network := sim.GenerateNetwork(*seed, *n)
	pay := payments.NewBuiltin(time.Now)
	var fleet *sim.Fleet
	var setup demoSetup
	hook := func(ctx context.Context, s *server) (httpapi.SimControl, error) {
		if err := registerNetwork(ctx, s.store, pay, network, time.Now()); err != nil {
			return nil, err
		}
		var err error
		fleet, err = sim.NewFleet(sim.FleetConfig{URL: s.ocppURL, Chargers: network.Chargers, ConnectRate: 200,
			Logger: log.With("component", "sim")})
		if err != nil {
			return nil, err
		}
		control := newFleetControl(fleet, s.store, time.Now)
		control.payments = pay
		if setup, err = injectDemoFaults(ctx, control, network); err != nil {
			return nil, err
		}
		if setup.adminPassword, err = addDemoAdmin(ctx, s.store); err != nil {
			return nil, err
		}
		return control, nil
	}
	srv, err := startServer(ctx, cfg, log, serverOptions{hook: hook, payments: pay, voiceToken: demoVoiceToken})
	if err != nil {
		return err
	}
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- fleet.Run(ctx) }()

	printDemoGuide(stdout, srv, apiKey, network, setup)
	waitFleetConnected(ctx, stdout, fleet, *n)

	err = srv.wait(ctx)
	if ferr := <-fleetDone; ferr != nil && !errors.Is(ferr, context.Canceled) {
		err = errors.Join(err, ferr)
	}
	fmt.Fprintln(stdout, "chargedesk demo stopped")
	return err
}

// registerNetwork loads the generated network into chargedesk as an
// operator's CPMS would: chargers (credentials, site in the description),
// sites and where each charger is with its plugs and ratings, drivers with
// their cards (tokens) and payment accounts. What a reused data directory
// holds already is kept (or updated).
func registerNetwork(ctx context.Context, store chargedesk.Store, pay *payments.Builtin, network sim.Network, now time.Time) error {
	for _, site := range network.Sites {
		if err := store.PutSite(ctx, &chargedesk.Site{ID: site.ID, Name: site.Name, Address: site.Address, City: site.City,
			Region: site.Region, Country: site.Country, Lat: site.Lat, Lon: site.Lon}); err != nil {
			return fmt.Errorf("site %s: %w", site.ID, err)
		}
	}
	for _, c := range network.Chargers {
		desc := c.ID
		if site := network.Site(c.SiteID); site != nil {
			desc = fmt.Sprintf("%s, %s, %s, %s", site.Name, site.Address, site.City, site.Region)
		}
		hash := chargedesk.HashPassword(c.Password)
		_, err := store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: c.ID, Description: desc, PasswordHash: hash, BootStatus: chargedesk.RegistrationAccepted})
		if chargedesk.ErrorCode(err) == chargedesk.ECONFLICT {
			// A reused data directory: the generated password may differ.
			err = store.UpdateRegistration(ctx, c.ID, func(r *chargedesk.ChargerRegistration) error { r.PasswordHash = hash; return nil })
		}
		if err != nil {
			return fmt.Errorf("register %s: %w", c.ID, err)
		}
		loc := chargedesk.ChargerLocation{ChargerID: c.ID, SiteID: c.SiteID}
		for i, k := range c.Connectors {
			loc.Connectors = append(loc.Connectors, chargedesk.ConnectorSpec{ID: i + 1, Type: chargedesk.ConnectorType(k.Type), MaxPowerKW: k.MaxPowerKW})
		}
		if err := store.PutChargerLocation(ctx, loc); err != nil {
			return fmt.Errorf("location of %s: %w", c.ID, err)
		}
	}
	for _, d := range network.Drivers {
		account := "acct-" + d.ID
		currency := payments.USD
		if strings.HasPrefix(d.Phone, "+1") && isCanadian(network, d.HomeCity) {
			currency = payments.CAD
		}
		if err := store.PutDriver(ctx, &chargedesk.Driver{ID: d.ID, Name: d.Name, Phone: d.Phone, Language: d.Language, PaymentAccountID: account}); err != nil {
			return fmt.Errorf("driver %s: %w", d.ID, err)
		}
		for _, tag := range d.IDTags {
			if err := store.PutToken(ctx, &chargedesk.Token{IDTag: tag, Status: chargedesk.AuthAccepted, DriverID: d.ID}); err != nil {
				return fmt.Errorf("token %s: %w", tag, err)
			}
		}
		if err := pay.AddAccount(account, currency); err != nil && chargedesk.ErrorCode(err) != chargedesk.ECONFLICT {
			return fmt.Errorf("payment account of %s: %w", d.ID, err)
		}
		for _, card := range d.Payments {
			// Only the card_expired fault makes a card expired in the demo.
			year := card.ExpYear
			if year < now.Year()+1 {
				year = now.Year() + 2
			}
			if _, err := pay.AddMethod(account, payments.Card{Brand: card.Brand, Last4: card.Last4, ExpMonth: card.ExpMonth, ExpYear: year}); err != nil {
				return fmt.Errorf("card of %s: %w", d.ID, err)
			}
		}
	}
	return nil
}

// isCanadian reports whether a city of the network is in Canada.
func isCanadian(network sim.Network, city string) bool {
	for _, s := range network.Sites {
		if s.City == city {
			return s.Country == "CA"
		}
	}
	return false
}

// demoSetup is what injectDemoFaults did.
type demoSetup struct {
	// lines has a printed line per fault.
	lines []string
	// chargers has the charger of each fault injected into one.
	chargers map[sim.Fault]string
	// lockSession is when the demo driver's session before the stuck
	// lock began.
	lockSession time.Time
	// adminPassword is the demo console admin's password.
	adminPassword string
}

// injectDemoFaults spreads demoFaults over the fleet, one charger each, and
// a blocked card on one driver's account.
// Faults about another driver's card take cards of drivers other than the
// demo driver, so that nothing the guide has the demo driver try meets a
// fault meant for someone else.
func injectDemoFaults(ctx context.Context, control *fleetControl, network sim.Network) (demoSetup, error) {
	setup := demoSetup{chargers: map[sim.Fault]string{}}
	n := len(network.Chargers)
	own := demoDriver(network)
	others := make([]sim.Driver, 0, len(network.Drivers))
	for _, d := range network.Drivers {
		if d.ID != own.ID && len(d.IDTags) > 0 {
			others = append(others, d)
		}
	}
	tagOf := func(i int) string {
		if len(others) == 0 {
			return ""
		}
		return others[i%len(others)].IDTags[0]
	}
	// Spread the faults over the fleet (a stride prime to its size visits
	// every charger once), keeping at least half of it healthy.
	stride := 7
	for gcd(stride, n) != 1 {
		stride++
	}
	used := map[int]bool{}
	pick := func(i int, needsLock bool) (sim.ChargerSpec, bool) {
		for k := 0; k < n; k++ {
			j := ((i+k)*stride + 3) % n
			c := network.Chargers[j]
			if used[j] || needsLock && c.Connectors[0].Type == sim.ConnectorType(chargedesk.ConnectorJ1772) {
				continue // J1772 has no lock on the charger's side
			}
			used[j] = true
			return c, true
		}
		return sim.ChargerSpec{}, false
	}
	for i, f := range demoFaults {
		if i >= n/2 {
			break
		}
		tag := ""
		switch f.card {
		case ownCard:
			tag = own.IDTags[0]
		case ownSpareCard:
			if len(own.IDTags) < 2 {
				continue // a running session on the only card would refuse the guide's remote start
			}
			tag = own.IDTags[1]
		case otherCard:
			if tag = tagOf(i + 1); tag == "" {
				continue // a network of one driver: no one else's card
			}
		}
		c, ok := pick(i, f.needsLock)
		if !ok {
			continue
		}
		if f.fault == sim.FaultLockAfterSession && tag != "" {
			setup.lockSession = control.now().Add(-lockSessionAge)
		}
		if err := control.InjectFault(ctx, c.ID, f.connector, string(f.fault), tag); err != nil {
			return setup, fmt.Errorf("inject %s into %s: %w", f.fault, c.ID, err)
		}
		if f.fault == sim.FaultLockAfterSession && tag != "" && control.store != nil {
			// The guide says the session ended: wait until the store
			// has its stop, or an unlock tried at once is refused for an
			// active transaction.
			if err := waitNoActive(ctx, control.store, c.ID, f.connector); err != nil {
				return setup, err
			}
		}
		if f.plugged {
			if _, err := control.Act(ctx, c.ID, f.connector, "plug", ""); err != nil {
				return setup, fmt.Errorf("plug a car into %s: %w", c.ID, err)
			}
		}
		setup.chargers[f.fault] = c.ID
		where := c.ID
		if f.connector > 0 {
			where += fmt.Sprintf(" connector %d", f.connector)
		}
		line := fmt.Sprintf("  %-34s %-22s %s", where, f.fault, f.what)
		switch {
		case f.fault == sim.FaultLockAfterSession && f.card == ownCard:
			line += " (after " + own.Name + "'s session, card " + tag + ")"
		case f.card == ownCard || f.card == ownSpareCard:
			line += " (" + own.Name + "'s card " + tag + ")"
		case tag != "":
			line += " (card " + tag + ")"
		}
		setup.lines = append(setup.lines, line)
	}
	if blocked := tagOf(0); blocked != "" {
		if err := control.InjectFault(ctx, network.Chargers[0].ID, 0, string(sim.FaultTokenBlocked), blocked); err != nil {
			return setup, err
		}
		setup.lines = append(setup.lines, fmt.Sprintf("  %-34s %-22s %s", "card "+blocked, sim.FaultTokenBlocked, "the card is Blocked in the backend"))
	}
	return setup, nil
}

// addDemoAdmin creates the demo console's admin account with a random
// password, which it returns.
func addDemoAdmin(ctx context.Context, st chargedesk.OperatorStore) (string, error) {
	pw := console.NewPassword()
	hash, err := console.HashPassword(pw, bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return pw, st.PutOperator(ctx, &chargedesk.Operator{Username: "admin", Name: "Demo admin", Role: chargedesk.RoleAdmin, PasswordHash: hash})
}

func printDemoGuide(w io.Writer, s *server, apiKey string, network sim.Network, setup demoSetup) {
	api := s.apiURL
	if strings.HasPrefix(api, "http://[::]:") {
		api = "http://localhost:" + strings.TrimPrefix(api, "http://[::]:")
	}
	// The curl examples fall back to the first charger in a fleet too
	// small for the fault.
	chargerOf := func(f sim.Fault) string {
		if id := setup.chargers[f]; id != "" {
			return id
		}
		return network.Chargers[0].ID
	}
	stuck, stale := chargerOf(sim.FaultLockAfterSession), chargerOf(sim.FaultStaleStatus)
	fmt.Fprintf(w, `
chargedesk demo — %s, %d simulated chargers in %d sites across the US and Canada

  web chat        %s/chat   (tell the agent what's wrong, in English, French or Spanish)
  console         %s/console/   (sign in as admin, password %s)
  OCPP endpoint   %s/{chargerId}   (OCPP 1.6J and 2.0.1)
  operator API    %s/api/v1/chargers
  API key         %s
  metrics         %s/metrics

Faults injected now:
%s
%s
Things to try (in another terminal):
  export KEY=%s
  curl -s -H "Authorization: Bearer $KEY" '%s/api/v1/chargers?limit=3'
  curl -s -H "Authorization: Bearer $KEY" %s/api/v1/chargers/%s
  curl -s -H "Authorization: Bearer $KEY" -d '{"kind":"UnlockConnector","connectorId":1,"reason":"driver says the cable is stuck"}' %s/api/v1/chargers/%s/commands
  curl -s -H "Authorization: Bearer $KEY" -d '{"action":"unplug"}' %s/api/v1/sim/chargers/%s/connectors/1/actions
  curl -s -H "Authorization: Bearer $KEY" -d '{"kind":"TriggerMessage","trigger":"StatusNotification","connectorId":1}' %s/api/v1/chargers/%s/commands
  curl -s -H "Authorization: Bearer $KEY" %s/api/v1/sim/chargers/%s
  curl -s -H "Authorization: Bearer $KEY" %s/api/v1/audit

Press Ctrl-C to stop.
`, network.Operator, len(network.Chargers), len(network.Sites),
		api, api, setup.adminPassword, s.ocppURL, api, apiKey, api,
		strings.Join(setup.lines, "\n"),
		demoSuggestions(network, api, setup),
		apiKey, api,
		api, stuck, api, stuck, api, stuck,
		api, stale, api, stale, api)
}

// demoSuggestions is the part of the guide that suggests conversations to
// the demo driver, one per fault of theirs the fleet got, and says only
// what is true of the setup: who the driver is, when their session at the
// stuck connector ran, that their car is plugged in at the hung charger,
// that their session still runs at another.
func demoSuggestions(network sim.Network, api string, setup demoSetup) string {
	stuck, inop, hung, own := setup.chargers[sim.FaultLockAfterSession], setup.chargers[sim.FaultLeftInoperative],
		setup.chargers[sim.FaultControllerHung], setup.chargers[sim.FaultOwnSessionRunning]
	if stuck == "" && inop == "" && hung == "" && own == "" {
		return ""
	}
	d := demoDriver(network)
	var b strings.Builder
	fmt.Fprintf(&b, "\nTry in the web chat (or: go run ./cmd/chargedesk chat -url %s) as driver %s:\n", api, d.Name)
	if stuck != "" {
		fmt.Fprintf(&b, "  my cable is stuck at %s connector 1\n", stuck)
	}
	if inop != "" {
		fmt.Fprintf(&b, "  la borne %s est indisponible, je ne peux pas charger\n", inop)
	}
	if hung != "" {
		fmt.Fprintf(&b, "  el cargador %s no arranca, se queda en preparando\n", hung)
	}
	if own != "" {
		fmt.Fprintf(&b, "  my session at %s won't stop, I need to leave and the cable is locked\n", own)
	}
	fmt.Fprintf(&b, "Or phone it from your terminal: go run ./cmd/chargedesk call -url %s -from %s\n", api, d.Phone)
	fmt.Fprintf(&b, "(a call from %s still asks your card's last 4 digits, %s, before anything is done).\n", d.Phone, d.Payments[0].Last4)
	fmt.Fprintf(&b, "Asked who you are: phone %s, then your card's last 4 digits, %s.\n", d.Phone, d.Payments[0].Last4)
	if stuck != "" && !setup.lockSession.IsZero() {
		began := setup.lockSession.Format("3:04 PM")
		fmt.Fprintf(&b, "Your session at %s (card %s) ran from %s to %s;\n"+
			"asked when you started charging there: %s. Once unlocked, pull the cable out\n"+
			"(the unplug line below).\n",
			stuck, d.IDTags[0], began, setup.lockSession.Add(lockSessionAge).Format("3:04 PM"), began)
	}
	if hung != "" {
		fmt.Fprintf(&b, "Your car is plugged in at %s.\n", hung)
	}
	if own != "" {
		fmt.Fprintf(&b, "Your session at %s (card %s) is still running.\n", own, d.IDTags[1])
	}
	return b.String()
}

// waitFleetConnected prints one line once every charger that can connect
// has (or after 30 seconds).
func waitFleetConnected(ctx context.Context, w io.Writer, fleet *sim.Fleet, n int) {
	deadline := time.After(30 * time.Second)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			fmt.Fprintln(w, "fleet:", fleet.Summary())
			return
		case <-t.C:
			// One charger of the demo is offline for good (comm_drop_long).
			if fleet.Stats().Connected >= n-1 {
				fmt.Fprintln(w, "fleet:", fleet.Summary())
				return
			}
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// demoDriver is the driver the guide suggests to play: the last of the
// network with two cards (else the last). The faults about their cards are
// their own sessions, the one before the stuck lock on the first card and
// the one still running on the second (see injectDemoFaults); no other
// fault touches them.
func demoDriver(network sim.Network) sim.Driver {
	for i := len(network.Drivers) - 1; i >= 0; i-- {
		if d := network.Drivers[i]; len(d.IDTags) >= 2 {
			return d
		}
	}
	return network.Drivers[len(network.Drivers)-1]
}

// waitNoActive waits, up to 10 s, until the store has no active
// transaction on the charger's connector.
func waitNoActive(ctx context.Context, st chargedesk.Store, chargerID string, connector int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		txs, err := st.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: chargerID, ActiveOnly: true})
		if err != nil {
			return err
		}
		active := false
		for _, tx := range txs {
			active = active || tx.ConnectorID == connector
		}
		if !active {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the demo session on %s connector %d did not end within 10 s", chargerID, connector)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
