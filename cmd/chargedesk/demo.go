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
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/sim"
)

// demoFault is a fault the demo injects into one charger of its fleet.
type demoFault struct {
	fault     sim.Fault
	connector int
	// needsTag: the fault concerns a driver's token (filled from the fleet's
	// drivers); needsLock: a connector that locks the cable (not J1772).
	needsTag, needsLock bool
	// what is the one-line story printed for the operator.
	what string
}

// demoFaults is the mix the demo starts with: one charger each, the rest of
// the fleet healthy.
var demoFaults = []demoFault{
	{sim.FaultLockAfterSession, 1, false, true, "session ended but the connector lock stayed engaged"},
	{sim.FaultControllerHung, 1, false, false, "controller hung: connector stuck in Preparing"},
	{sim.FaultStaleStatus, 1, false, false, "last status said Unavailable after a glitch; nothing since"},
	{sim.FaultLeftInoperative, 1, false, false, "left Inoperative after maintenance"},
	{sim.FaultHardwareFaultPower, 1, false, false, "power module fault (Faulted)"},
	{sim.FaultLocalListStale, 1, true, false, "local list holds a valid card as Invalid"},
	{sim.FaultStaleTransaction, 1, true, false, "a previous session was never closed"},
	{sim.FaultRemoteStartIgnored, 1, false, false, "firmware accepts remote starts but never starts"},
	{sim.FaultLockMechanical, 1, false, true, "lock actuator broken: unlock always fails"},
	{sim.FaultCommDropLong, 0, false, false, "modem outage: offline for good"},
	{sim.FaultReaderFault, 0, false, false, "RFID reader dead"},
	{sim.FaultOwnSessionRunning, 1, true, true, "a driver's own session is still running"},
}

// demo runs the whole product with no configuration: chargedesk on
// :8080/:9000 with SQLite in a temporary directory and an embedded bus, a
// simulated fleet of chargers across North American cities with a mix of
// faults, and a printed guide. Ctrl-C stops everything.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http", ":8080", "address of the operator API")
	ocppAddr := fs.String("ocpp", ":9000", "address of the OCPP endpoint")
	n := fs.Int("chargers", 50, "simulated chargers (1 to 2000)")
	seed := fs.Int64("seed", 2026, "seed of the simulated network")
	dataDir := fs.String("data", "", "data directory (default: a temporary one, removed at exit)")
	logLevel := fs.String("log-level", "warn", "log level of the server (debug, info, warn, error)")
	if err := fs.Parse(args); err != nil {
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
		HeartbeatInterval: 60 * time.Second, Node: "demo", LogFormat: "text",
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := newLogger(cfg, stderr)

	network := sim.GenerateNetwork(*seed, *n)
	pay := payments.NewBuiltin(time.Now)
	var fleet *sim.Fleet
	var injected []string
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
		if injected, err = injectDemoFaults(ctx, control, network); err != nil {
			return nil, err
		}
		return control, nil
	}
	srv, err := startServer(ctx, cfg, log, serverOptions{hook: hook, payments: pay})
	if err != nil {
		return err
	}
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- fleet.Run(ctx) }()

	printDemoGuide(stdout, srv, apiKey, network, injected)
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

// injectDemoFaults spreads demoFaults over the fleet, one charger each, and
// a blocked card on one driver's account. It returns a line per fault.
func injectDemoFaults(ctx context.Context, control *fleetControl, network sim.Network) ([]string, error) {
	var lines []string
	n := len(network.Chargers)
	tagOf := func(i int) string {
		d := network.Drivers[i%len(network.Drivers)]
		return d.IDTags[0]
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
		c, ok := pick(i, f.needsLock)
		if !ok {
			continue
		}
		tag := ""
		if f.needsTag {
			tag = tagOf(i + 1)
		}
		if err := control.InjectFault(ctx, c.ID, f.connector, string(f.fault), tag); err != nil {
			return nil, fmt.Errorf("inject %s into %s: %w", f.fault, c.ID, err)
		}
		where := c.ID
		if f.connector > 0 {
			where += fmt.Sprintf(" connector %d", f.connector)
		}
		line := fmt.Sprintf("  %-34s %-22s %s", where, f.fault, f.what)
		if tag != "" {
			line += " (card " + tag + ")"
		}
		lines = append(lines, line)
	}
	blocked := tagOf(0)
	if err := control.InjectFault(ctx, network.Chargers[0].ID, 0, string(sim.FaultTokenBlocked), blocked); err != nil {
		return nil, err
	}
	lines = append(lines, fmt.Sprintf("  %-34s %-22s %s", "card "+blocked, sim.FaultTokenBlocked, "the card is Blocked in the backend"))
	return lines, nil
}

func printDemoGuide(w io.Writer, s *server, apiKey string, network sim.Network, injected []string) {
	api := s.apiURL
	if strings.HasPrefix(api, "http://[::]:") {
		api = "http://localhost:" + strings.TrimPrefix(api, "http://[::]:")
	}
	fmt.Fprintf(w, `
chargedesk demo — %s, %d simulated chargers in %d sites across the US and Canada

  web chat        %s/chat   (tell the agent what's wrong, in English, French or Spanish)
  OCPP endpoint   %s/{chargerId}   (OCPP 1.6J and 2.0.1)
  operator API    %s/api/v1/chargers
  API key         %s
  metrics         %s/metrics

Faults injected now:
%s

Try in the web chat (or: go run ./cmd/chargedesk chat -url %s) as driver %s
(phone %s, card ending %s, charging card %s):
  my cable is stuck at %s connector 1
  la borne %s est indisponible, je ne peux pas charger
  el cargador %s no arranca, se queda en preparando
The agent checks who you are before it touches a session; asked when you started
charging at a stuck connector, "a few minutes ago" is right for the demo's sessions.

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
		api, s.ocppURL, api, apiKey, api,
		strings.Join(injected, "\n"),
		api, demoDriver(network).Name, demoDriver(network).Phone, demoDriver(network).Payments[0].Last4, demoDriver(network).IDTags[0],
		faultyCharger(injected, network), chargerOfLine(injected, string(sim.FaultLeftInoperative), network),
		chargerOfLine(injected, string(sim.FaultControllerHung), network),
		apiKey, api,
		api, faultyCharger(injected, network), api, faultyCharger(injected, network), api, faultyCharger(injected, network),
		api, stalestatusCharger(injected, network), api, stalestatusCharger(injected, network), api)
}

// faultyCharger is the charger of the first injected fault (the stuck lock).
func faultyCharger(injected []string, network sim.Network) string {
	return chargerOfLine(injected, string(sim.FaultLockAfterSession), network)
}

func stalestatusCharger(injected []string, network sim.Network) string {
	return chargerOfLine(injected, string(sim.FaultStaleStatus), network)
}

func chargerOfLine(injected []string, fault string, network sim.Network) string {
	for _, l := range injected {
		if f := strings.Fields(l); len(f) >= 2 && strings.Contains(l, " "+fault+" ") {
			return f[0]
		}
	}
	return network.Chargers[0].ID
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

// demoDriver is a driver of the network whose cards carry no injected fault:
// the one the guide suggests to play.
func demoDriver(network sim.Network) sim.Driver {
	return network.Drivers[len(network.Drivers)-1]
}
