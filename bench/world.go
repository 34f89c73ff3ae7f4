package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/agent/nlu"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sim"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// chargerPassword is every simulated charger's Basic auth key.
const chargerPassword = "bench-charger-secret-1"

// stack is the real chargedesk in one process: the central system on
// SQLite behind a loopback WebSocket server, publishing its chargers'
// events on an embedded bus, the policy gateway, the payments processor
// and the understander. Every trial shares it; each
// builds its own world (site, driver, chargers) and agent over it.
type stack struct {
	store *sqlstore.Store
	srv   *csms.Server
	bus   *natsbus.Bus
	// upstore is the store of the upstream central system in proxy mode
	// (nil otherwise).
	upstore   *sqlstore.Store
	url       string
	rules     *policy.Rules
	gw        *policy.Gateway
	pay       *payments.Builtin
	nlu       *nlu.Understander
	validator *ocpp.Validator
	seq       atomic.Int64
	// reserved are the charger ids the openings name (NET-CITY-NNNN): no
	// generated label takes one.
	reserved map[string]bool
	close    func()
}

// newStack starts the stack in dir (a temporary directory when empty);
// with proxy, chargedesk in proxy mode in front of a second central system.
func newStack(ctx context.Context, dir string, logger *slog.Logger, proxy bool) (*stack, error) {
	var cleanup []func()
	undo := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "chargedesk-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: temp dir: %w", err)
		}
		cleanup = append(cleanup, func() { _ = os.RemoveAll(d) })
		dir = d
	}
	validator, err := ocpp.NewValidator()
	if err != nil {
		undo()
		return nil, fmt.Errorf("bench: schemas: %w", err)
	}
	u, err := nlu.New()
	if err != nil {
		undo()
		return nil, fmt.Errorf("bench: understander: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cleanup = append(cleanup, cancel)
	store, err := sqlstore.Open(runCtx, filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())))
	if err != nil {
		undo()
		return nil, fmt.Errorf("bench: store: %w", err)
	}
	cleanup = append(cleanup, func() { _ = store.Close() })
	serve := func(srv *csms.Server) (string, error) {
		runDone := make(chan struct{})
		go func() { defer close(runDone); _ = srv.Run(runCtx) }()
		cleanup = append(cleanup, func() { cancel(); <-runDone })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("bench: listen: %w", err)
		}
		hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		cleanup = append(cleanup, func() { srv.Close(); _ = hs.Close() })
		return "ws://" + ln.Addr().String() + "/ocpp", nil
	}
	var upstore *sqlstore.Store
	upstream := ""
	if proxy {
		upstore, err = sqlstore.Open(runCtx, filepath.Join(dir, fmt.Sprintf("bench-upstream-%d.db", time.Now().UnixNano())))
		if err != nil {
			undo()
			return nil, fmt.Errorf("bench: upstream store: %w", err)
		}
		cleanup = append(cleanup, func() { _ = upstore.Close() })
		upSrv, err := csms.New(runCtx, csms.Config{Node: "bench-upstream", Store: upstore, Validator: validator,
			FlushInterval: 20 * time.Millisecond, Logger: logger})
		if err != nil {
			undo()
			return nil, fmt.Errorf("bench: upstream central system: %w", err)
		}
		if upstream, err = serve(upSrv); err != nil {
			undo()
			return nil, err
		}
	}
	// The bus carries the chargers' events, on which the agent verifies
	// its fixes, as in serve.
	bus, err := natsbus.Open(runCtx, natsbus.Config{Name: "bench", Logger: logger})
	if err != nil {
		undo()
		return nil, fmt.Errorf("bench: bus: %w", err)
	}
	cleanup = append(cleanup, func() { _ = bus.Close() })
	srv, err := csms.New(runCtx, csms.Config{Node: "bench", Store: store, Validator: validator, Bus: bus,
		FlushInterval: 20 * time.Millisecond, Logger: logger, Upstream: upstream})
	if err != nil {
		undo()
		return nil, fmt.Errorf("bench: central system: %w", err)
	}
	url, err := serve(srv)
	if err != nil {
		undo()
		return nil, err
	}
	rules := &policy.Rules{Store: store, Now: time.Now, AgentLimits: policy.AgentLimits{Network: 1 << 20}}
	gw := &policy.Gateway{Policy: rules, Audit: store, Next: srv, Logger: logger, Now: time.Now}
	return &stack{store: store, srv: srv, bus: bus, upstore: upstore, url: url, rules: rules, gw: gw,
		pay: payments.NewBuiltin(time.Now), nlu: u, validator: validator, close: undo}, nil
}

// Charger label parts: IDs as operators print them on labels, varied so
// that a misheard digit rarely names another charger of the run.
var (
	labelPrefixes = []string{"CDA", "MPL", "VLT", "AMP", "ION", "KWH", "ELX", "WAT"}
	labelCities   = []string{"FRE", "TOR", "MTL", "SEA", "DEN", "AUS", "BOS", "VAN"}
	streetNames   = []string{"Birchwood", "Maplecrest", "Oakdale", "Pinehurst", "Cedarbrook", "Willowmere", "Aspenridge",
		"Hawthorne", "Juniper", "Larkspur", "Magnolia", "Redwood", "Sycamore", "Tamarack", "Chestnut", "Foxglove"}
	areaCodes = []int{510, 415, 514, 416, 213, 206, 604, 303}
)

// chargerLabel returns the k-th charger label of a run; labels never
// repeat within a run.
func chargerLabel(k int64) string {
	digits := 1000 + (k*7919)%9000 // 7919 is prime to 9000: unique below 9000
	if k >= 9000 {
		digits = 10000 + k
	}
	return fmt.Sprintf("%s-%s-%04d", labelPrefixes[k%8], labelCities[(k/8)%8], digits)
}

// world is one trial's part of the network: a site with the task's
// charger, an alternative charger when the fault needs one, the driver
// (phone, RFID token, payment account with a Visa ending 4242), another
// driver's token, and an agent.
type world struct {
	st    *stack
	cfg   RunConfig
	task  Task
	spec  FaultSpec
	n     int64
	id    string
	altID string
	c     *sim.Charger
	alt   *sim.Charger
	tag   string
	other string
	acct  string
	phone string
	last4 string
	agent *agent.Agent
	// staleTx is the stale transaction stale_transaction planted.
	staleTx string
	// authBefore is the driver's last authorization when the fault was
	// injected (a hard decline must not be retried).
	authBefore string
	stop       []func()
	wg         sync.WaitGroup
}

// newWorld builds and injects one trial's world.
func (st *stack) newWorld(ctx context.Context, cfg RunConfig, t Task) (*world, error) {
	spec, ok := faultSpec(t.Fault)
	if !ok {
		return nil, fmt.Errorf("bench: unknown fault %q", t.Fault)
	}
	n := st.seq.Add(1)
	for st.reserved[chargerLabel(2*n)] || st.reserved[chargerLabel(2*n+1)] {
		n = st.seq.Add(1)
	}
	w := &world{st: st, cfg: cfg, task: t, spec: spec, n: n,
		id:  chargerLabel(2 * n),
		tag: fmt.Sprintf("TAG%06d", n), other: fmt.Sprintf("OTH%06d", n), acct: fmt.Sprintf("acct-%d", n),
		phone: fmt.Sprintf("+1%d555%04d", areaCodes[(n/10000)%8], n%10000), last4: "4242"}
	if t.ChargerID != "" {
		// The charger the opening names is the one at fault.
		w.id = t.ChargerID
	}
	lat, lon := 20+float64(n%300)*0.1, -130+float64(n/300)*0.5
	street := streetNames[n%int64(len(streetNames))]
	site := &chargedesk.Site{ID: fmt.Sprintf("site-%d", n), Name: "Plaza " + street, Address: fmt.Sprintf("%d %s Drive", 100+n, street),
		City: "Fremont", Region: "CA", Country: "US", Lat: lat, Lon: lon}
	s := st.store
	steps := []func() error{
		func() error { return s.PutSite(ctx, site) },
		func() error {
			return s.PutDriver(ctx, &chargedesk.Driver{ID: fmt.Sprintf("drv-%d", n), Name: "Bench Driver", Phone: w.phone,
				Language: t.Lang, PaymentAccountID: w.acct})
		},
		func() error {
			return s.PutDriver(ctx, &chargedesk.Driver{ID: fmt.Sprintf("oth-%d", n), Name: "Other", Language: "en"})
		},
		func() error {
			return st.tokens().PutToken(ctx, &chargedesk.Token{IDTag: w.tag, Status: chargedesk.AuthAccepted, DriverID: fmt.Sprintf("drv-%d", n)})
		},
		func() error {
			return st.tokens().PutToken(ctx, &chargedesk.Token{IDTag: w.other, Status: chargedesk.AuthAccepted, DriverID: fmt.Sprintf("oth-%d", n)})
		},
		func() error { return st.pay.AddAccount(w.acct, payments.USD) },
		func() error {
			_, err := st.pay.AddMethod(w.acct, payments.Card{Brand: "Visa", Last4: w.last4, ExpMonth: 12, ExpYear: time.Now().Year() + 3})
			return err
		},
	}
	for _, f := range steps {
		if err := f(); err != nil {
			return nil, fmt.Errorf("bench: world %d: %w", n, err)
		}
	}
	var err error
	if w.c, err = w.run(ctx, w.id, site.ID); err != nil {
		w.close()
		return nil, err
	}
	if spec.Alternative {
		altSite := &chargedesk.Site{ID: fmt.Sprintf("site-%d-alt", n), Name: fmt.Sprintf("Library Lot %d", n), Address: "39770 Paseo Padre Pkwy",
			City: "Fremont", Region: "CA", Country: "US", Lat: lat + 0.012, Lon: lon}
		w.altID = chargerLabel(2*n + 1)
		if err := s.PutSite(ctx, altSite); err != nil {
			w.close()
			return nil, fmt.Errorf("bench: world %d: %w", n, err)
		}
		if w.alt, err = w.run(ctx, w.altID, altSite.ID); err != nil {
			w.close()
			return nil, err
		}
	}
	acfg := agent.Config{Store: s, Commands: st.gw, NLU: st.nlu, Payments: st.pay, Events: st.bus, VerifyTimeout: cfg.VerifyTimeout,
		Poll: cfg.Poll, CommandTimeout: cfg.CommandTimeout, Logger: cfg.Logger}
	if cfg.WrapCommander != nil {
		acfg.Commands = cfg.WrapCommander(st.gw)
	}
	if cfg.ConfigureAgent != nil {
		cfg.ConfigureAgent(&acfg)
	}
	if w.agent, err = agent.New(acfg); err != nil {
		w.close()
		return nil, fmt.Errorf("bench: agent: %w", err)
	}
	if err := w.inject(ctx); err != nil {
		w.close()
		return nil, fmt.Errorf("bench: inject %s: %w", t.Fault, err)
	}
	return w, nil
}

// run registers, places and runs a simulated charger (one CCS1 150 kW
// connector) and waits until the central system holds it connected.
func (w *world) run(ctx context.Context, id, siteID string) (*sim.Charger, error) {
	s := w.st.store
	if _, err := s.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, PasswordHash: chargedesk.HashPassword(chargerPassword),
		BootStatus: chargedesk.RegistrationAccepted}); err != nil {
		return nil, fmt.Errorf("bench: register %s: %w", id, err)
	}
	if up := w.st.upstore; up != nil {
		if _, err := up.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, PasswordHash: chargedesk.HashPassword(chargerPassword),
			BootStatus: chargedesk.RegistrationAccepted}); err != nil {
			return nil, fmt.Errorf("bench: register %s upstream: %w", id, err)
		}
	}
	if err := s.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: id, SiteID: siteID,
		Connectors: []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 150}}}); err != nil {
		return nil, fmt.Errorf("bench: place %s: %w", id, err)
	}
	cfg := sim.ChargerConfig{ID: id, Password: chargerPassword, Protocol: w.task.Protocol, URL: w.st.url, Validator: w.st.validator,
		Connectors: []sim.ConnectorSpec{{Type: sim.CCS1, MaxPowerKW: 150}}, ResponseLatency: w.cfg.Latency,
		CallTimeout: 10 * time.Second, RebootDelay: w.cfg.RebootDelay, BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
		CommDropShort: w.cfg.CommDropShort, Settings: map[string]string{"MeterValueSampleInterval": "1"}}
	c := sim.NewCharger(cfg)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.wg.Add(1)
	go func() { defer w.wg.Done(); _ = c.Run(runCtx) }()
	w.stop = append(w.stop, cancel)
	err := w.waitCharger(ctx, id, func(ch *chargedesk.Charger) bool {
		return ch.Connected && ch.Connector(1) != nil && ch.Connector(1).Status != ""
	})
	if err != nil {
		return nil, fmt.Errorf("bench: %s online: %w", id, err)
	}
	return c, nil
}

// close stops the world's chargers.
func (w *world) close() {
	for _, f := range w.stop {
		f()
	}
	w.wg.Wait()
}

// errTimeout is returned when a world never reaches a state.
var errTimeout = errors.New("timed out")

// waitFor polls cond every 10ms until it holds or ctx ends.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return errTimeout
		}
	}
}

func (w *world) waitCharger(ctx context.Context, id string, cond func(*chargedesk.Charger) bool) error {
	return waitFor(ctx, 30*time.Second, func() bool {
		ch, err := w.st.store.Charger(ctx, id)
		return err == nil && cond(ch)
	})
}

func (w *world) waitStatus(ctx context.Context, sts ...chargedesk.ConnectorStatus) error {
	return w.waitCharger(ctx, w.id, func(ch *chargedesk.Charger) bool {
		k := ch.Connector(1)
		for _, s := range sts {
			if k != nil && k.Status == s {
				return true
			}
		}
		return false
	})
}

// occupied is the status a 1.6 charger shows as s16 and a 2.0.1 one as
// Occupied.
func (w *world) occupied(s16 chargedesk.ConnectorStatus) chargedesk.ConnectorStatus {
	if w.task.Protocol == chargedesk.OCPP16 {
		return s16
	}
	return chargedesk.StatusOccupied
}

// activeTx returns the active transaction of idTag on the charger, or nil.
func (w *world) activeTx(ctx context.Context, chargerID, idTag string) *chargedesk.Transaction {
	txs, err := w.st.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: chargerID, ActiveOnly: true})
	if err != nil {
		return nil
	}
	for _, tx := range txs {
		if tx.IDTag == idTag {
			return tx
		}
	}
	return nil
}

// lastSession returns the driver's latest session on the task's charger,
// ended or not, or nil.
func (w *world) lastSession(ctx context.Context) *chargedesk.Transaction {
	txs, err := w.st.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: w.id, IDTag: w.tag})
	if err != nil {
		return nil
	}
	var last *chargedesk.Transaction
	for _, tx := range txs {
		if last == nil || tx.StartedAt.After(last.StartedAt) {
			last = tx
		}
	}
	return last
}

func (w *world) waitTx(ctx context.Context, idTag string) (*chargedesk.Transaction, error) {
	var tx *chargedesk.Transaction
	err := waitFor(ctx, 30*time.Second, func() bool { tx = w.activeTx(ctx, w.id, idTag); return tx != nil })
	return tx, err
}

// inject puts the task's fault into the world the way the fault arises:
// the charger's or account's state, and what the driver did before
// calling (plugged in, tapped the card, the app's failed payment).
func (w *world) inject(ctx context.Context) error {
	c := w.c
	inj := func(f sim.Fault, o sim.FaultOptions) error { return c.InjectFault(ctx, 1, f, o) }
	plug := func() error { return c.PlugIn(ctx, 1) }
	tap := func() { _, _ = c.TapCard(ctx, 1, w.tag) }
	payFault := func(f string, attempt bool) error {
		if _, err := w.st.pay.InjectFault(w.acct, f); err != nil {
			return err
		}
		if attempt {
			res, err := w.st.pay.Authorize(ctx, payments.AuthRequest{AccountID: w.acct, AmountCents: 3000, IdempotencyKey: "app-" + w.acct})
			if err != nil {
				return err
			}
			if res.Approved {
				return fmt.Errorf("the app's authorization was approved")
			}
		}
		if last, err := w.st.pay.LastAuthorization(ctx, w.acct); err == nil && last != nil {
			w.authBefore = last.ID
		}
		return nil
	}
	all := func(fs ...func() error) error {
		for _, f := range fs {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}
	status := func(sts ...chargedesk.ConnectorStatus) func() error {
		return func() error { return w.waitStatus(ctx, sts...) }
	}
	tapOK := func() error { tap(); return nil }
	txOf := func(tag string) func() error {
		return func() error { _, err := w.waitTx(ctx, tag); return err }
	}
	switch w.task.Fault {
	case "stale_transaction":
		// The driver calls ten minutes after the forgotten session began.
		return all(func() error {
			return inj(sim.FaultStaleTransaction, sim.FaultOptions{IDTag: w.other, Age: 10 * time.Minute})
		},
			func() error {
				tx, err := w.waitTx(ctx, w.other)
				if err == nil {
					w.staleTx = tx.ID
				}
				return err
			}, plug)
	case "controller_hung":
		return all(func() error { return inj(sim.FaultControllerHung, sim.FaultOptions{}) },
			status(w.occupied(chargedesk.StatusPreparing)), plug, tapOK)
	case "handshake_timeout":
		return all(func() error { return inj(sim.FaultHandshakeTimeout, sim.FaultOptions{}) }, plug, tapOK,
			status(w.occupied(chargedesk.StatusPreparing)))
	case "vehicle_schedule":
		return all(func() error { return inj(sim.FaultVehicleSchedule, sim.FaultOptions{}) }, plug, tapOK, txOf(w.tag))
	case "remote_start_ignored":
		return all(func() error { return inj(sim.FaultRemoteStartIgnored, sim.FaultOptions{}) }, plug)
	case "hardware_fault_power":
		return all(func() error { return inj(sim.FaultHardwareFaultPower, sim.FaultOptions{}) }, status(chargedesk.StatusFaulted), plug)
	case "stale_status":
		return all(func() error { return inj(sim.FaultStaleStatus, sim.FaultOptions{}) }, status(chargedesk.StatusUnavailable))
	case "comm_drop_short", "comm_drop_long":
		f := sim.FaultCommDropShort
		if w.task.Fault == "comm_drop_long" {
			f = sim.FaultCommDropLong
		}
		return all(func() error { return c.InjectFault(ctx, 0, f, sim.FaultOptions{}) },
			func() error {
				return w.waitCharger(ctx, w.id, func(ch *chargedesk.Charger) bool { return !ch.Connected })
			})
	case "left_inoperative":
		return all(func() error { return inj(sim.FaultLeftInoperative, sim.FaultOptions{}) }, status(chargedesk.StatusUnavailable))
	case "lock_after_session":
		return all(func() error { return inj(sim.FaultLockAfterSession, sim.FaultOptions{}) }, plug, tapOK, txOf(w.tag),
			func() error { return c.StopLocal(ctx, 1) },
			func() error {
				return waitFor(ctx, 30*time.Second, func() bool { return w.activeTx(ctx, w.id, w.tag) == nil })
			})
	case "own_session_running":
		return all(func() error { return inj(sim.FaultOwnSessionRunning, sim.FaultOptions{IDTag: w.tag}) }, txOf(w.tag))
	case "someone_elses_session":
		return all(func() error { return inj(sim.FaultSomeoneElsesSession, sim.FaultOptions{IDTag: w.other}) }, txOf(w.other))
	case "lock_mechanical":
		return all(func() error { return inj(sim.FaultLockMechanical, sim.FaultOptions{}) }, status(w.occupied(chargedesk.StatusFinishing)))
	case "vehicle_side_lock":
		return all(func() error { return inj(sim.FaultVehicleSideLock, sim.FaultOptions{}) }, status(w.occupied(chargedesk.StatusFinishing)))
	case "local_list_stale":
		return all(func() error {
			return inj(sim.FaultLocalListStale, sim.FaultOptions{IDTag: w.tag, InCache: w.task.Seed%2 == 1})
		}, plug, tapOK)
	case "token_blocked", "token_expired", "token_unknown":
		return all(func() error {
			_, err := sim.InjectBackendFault(ctx, w.st.tokens(), time.Now(), w.tag, sim.Fault(w.task.Fault))
			return err
		}, plug)
	case "reader_fault":
		return all(func() error { return c.InjectFault(ctx, 0, sim.FaultReaderFault, sim.FaultOptions{}) }, plug, tapOK)
	case "slow_charging":
		return all(func() error { return inj(sim.FaultSlowCharging, sim.FaultOptions{}) }, plug, tapOK, txOf(w.tag),
			func() error {
				return waitFor(ctx, 30*time.Second, func() bool {
					tx := w.activeTx(ctx, w.id, w.tag)
					if tx == nil {
						return false
					}
					ms, _ := w.st.store.MeterValues(ctx, w.id, tx.ID, 100)
					for _, m := range ms {
						if m.Measurand == "Power.Active.Import" {
							return true
						}
					}
					return false
				})
			})
	case "card_expired":
		return all(func() error { return payFault(payments.FaultCardExpired, true) }, plug)
	case "transient_decline":
		return all(func() error { return payFault(payments.FaultTransientDecline, true) }, plug)
	case "hard_decline":
		return all(func() error { return payFault(payments.FaultHardDecline, true) }, plug)
	case "app_sync_delay":
		// The driver's card is now the one added in the app.
		w.last4 = "5353"
		return all(func() error { return payFault(payments.FaultAppSyncDelay, false) }, plug)
	case "duplicate_holds":
		return payFault(payments.FaultDuplicateHolds, false)
	case "billing_dispute", "hardware_damage":
		return nil
	}
	return fmt.Errorf("no injection for %s", w.task.Fault)
}

// tokens is where the world's tokens are written: chargedesk's store, and
// in proxy mode the upstream's too, which judges them.
func (st *stack) tokens() chargedesk.TokenStore {
	if st.upstore == nil {
		return st.store
	}
	return bothTokens{st.store, st.upstore}
}

// bothTokens reads tokens from a and writes them to a and b.
type bothTokens struct{ a, b chargedesk.TokenStore }

func (t bothTokens) PutToken(ctx context.Context, tk *chargedesk.Token) error {
	if err := t.a.PutToken(ctx, tk); err != nil {
		return err
	}
	c := *tk
	return t.b.PutToken(ctx, &c)
}

func (t bothTokens) Token(ctx context.Context, idTag string) (*chargedesk.Token, error) {
	return t.a.Token(ctx, idTag)
}

func (t bothTokens) DeleteToken(ctx context.Context, idTag string) error {
	if err := t.a.DeleteToken(ctx, idTag); err != nil {
		return err
	}
	return t.b.DeleteToken(ctx, idTag)
}

func (t bothTokens) Tokens(ctx context.Context, f chargedesk.TokenFilter) ([]*chargedesk.Token, error) {
	return t.a.Tokens(ctx, f)
}
