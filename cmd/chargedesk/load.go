package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sim"
	"github.com/chargedesk/chargedesk/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
)

const loadUsage = `chargedesk sim -load measures a central system under many lightweight chargers.

Usage:
  chargedesk sim -load -url ws://HOST:PORT/ocpp [-nats nats://HOST:4222] [flags]
  chargedesk sim -load -self [-split] [-upstream-self] [flags]

-self starts chargedesk in this process (temporary SQLite directory, embedded
NATS, chargers registered in bulk) and also measures its memory; with -split
the chargers run in a child process so that the server's memory is measured
alone. -upstream-self also starts a second chargedesk in-process (its own
SQLite directory, the same chargers registered) and puts the measured one in
proxy mode (serve -upstream) in front of it: every charger CALL is relayed to
it and its answer relayed back, so the round trips minus those of a -self run
are the relay's added latency; memory then counts both servers. Operator commands go through the policy gateway (-self) or the NATS bus
given with -nats (-url). Every run stops by itself after the connect phase and
-duration.
`

// loadOptions are runLoad's flags.
type loadOptions struct {
	url, natsURL, protocol, commander, password, prefix string
	heapProfile, cpuProfile                             string
	self, split, json, memStdio, upstreamSelf           bool
	chargers                                            int
	rate, heartbeat, status, meter, commands            float64
	duration, callTimeout                               time.Duration
}

// loadResult is what runLoad prints, also as JSON.
type loadResult struct {
	Mode    string         `json:"mode"`
	Machine string         `json:"machine"`
	Report  sim.LoadReport `json:"report"`
	// ProcessBytesPerCharger is, for -self without -split, the process's
	// heap and stack growth per charger: server and chargers together.
	ProcessBytesPerCharger float64 `json:"processBytesPerCharger,omitempty"`
	RegisterTime           string  `json:"registerTime,omitempty"`
	// Upstream is, with -upstream-self, the URL of the in-process upstream
	// the measured chargedesk relays to (proxy mode).
	Upstream string `json:"upstream,omitempty"`
	// Relay counts, from the servers' metrics, what went through the
	// proxy (-upstream-self).
	Relay *relayCounts `json:"relay,omitempty"`
	// ServerGoroutines is the server process's goroutines once the
	// chargers are connected (-split only).
	ServerGoroutines int `json:"serverGoroutines,omitempty"`
}

// writeHeapProfile writes the heap profile to path, if one is given.
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}

// runLoad runs the load mode of "chargedesk sim" (args exclude -load).
func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o loadOptions
	fs := flag.NewFlagSet("sim -load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadUsage); fs.PrintDefaults() }
	fs.StringVar(&o.url, "url", "", "OCPP endpoint of the central system, without the charger id")
	fs.BoolVar(&o.self, "self", false, "start chargedesk in-process and measure it")
	fs.BoolVar(&o.split, "split", false, "with -self: run the chargers in a child process, to measure the server's memory alone")
	fs.BoolVar(&o.upstreamSelf, "upstream-self", false, "with -self: also start an upstream central system in-process and run the measured chargedesk in proxy mode in front of it")
	fs.StringVar(&o.natsURL, "nats", "", "with -url: NATS server of the central system, to send operator commands on its bus")
	fs.StringVar(&o.commander, "commander", "gateway", "with -self: gateway (policy and audit, the operator path) or bus")
	fs.IntVar(&o.chargers, "chargers", 1000, "number of chargers (1 to 200000)")
	fs.Float64Var(&o.rate, "rate", 1000, "new connections per second")
	fs.Float64Var(&o.heartbeat, "heartbeat-rate", 1000, "Heartbeats per second across the fleet")
	fs.Float64Var(&o.status, "status-rate", 0, "StatusNotifications per second across the fleet")
	fs.Float64Var(&o.meter, "meter-rate", 0, "MeterValues per second across the fleet")
	fs.Float64Var(&o.commands, "commands-rate", 10, "operator commands per second")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of the steady phase, after the connect phase")
	fs.DurationVar(&o.callTimeout, "call-timeout", sim.DefaultLoadCallTimeout, "bound of a dial, a boot and each round trip")
	fs.StringVar(&o.protocol, "protocol", "1.6", "1.6, 2.0.1 or mix")
	fs.StringVar(&o.password, "password", "", "Basic auth key of every charger (-url)")
	fs.StringVar(&o.prefix, "id-prefix", sim.DefaultLoadIDPrefix, "charger id prefix")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	fs.StringVar(&o.heapProfile, "heap-profile", "", "with -self: write this process's heap profile (pprof) to this file once the chargers are connected")
	fs.StringVar(&o.cpuProfile, "cpu-profile", "", "with -self -split: write the server process's CPU profile (pprof) of the whole run to this file")
	fs.BoolVar(&o.memStdio, "mem-stdio", false, "internal: ask for the server's memory on standard input/output (-split child)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.self == (o.url != "") {
		return errors.New("give exactly one of -url and -self")
	}
	if o.split && !o.self {
		return errors.New("-split needs -self")
	}
	if o.upstreamSelf && !o.self {
		return errors.New("-upstream-self needs -self")
	}
	protos, err := loadProtocols(o.protocol)
	if err != nil {
		return err
	}
	cfg := sim.LoadConfig{
		URL: o.url, IDPrefix: o.prefix, Password: o.password, Chargers: o.chargers, ConnectRate: o.rate,
		HeartbeatRate: o.heartbeat, StatusRate: o.status, MeterRate: o.meter, CommandRate: o.commands,
		Duration: o.duration, Protocols: protos, CallTimeout: o.callTimeout,
	}
	res := loadResult{Mode: "url", Machine: machine()}
	switch {
	case o.self:
		res.Mode = "self"
		err = loadSelf(ctx, o, cfg, stderr, &res)
	default:
		err = loadURL(ctx, o, cfg, &res)
	}
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printLoad(stdout, res)
	return nil
}

// loadProtocols reads -protocol.
func loadProtocols(s string) ([]chargedesk.Protocol, error) {
	switch s {
	case "1.6":
		return []chargedesk.Protocol{chargedesk.OCPP16}, nil
	case "2.0.1":
		return []chargedesk.Protocol{chargedesk.OCPP201}, nil
	case "mix":
		return []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201}, nil
	}
	return nil, fmt.Errorf("-protocol must be 1.6, 2.0.1 or mix, not %q", s)
}

// loadURL runs the load against a central system elsewhere.
func loadURL(ctx context.Context, o loadOptions, cfg sim.LoadConfig, res *loadResult) error {
	if o.memStdio {
		cfg.ServerMemory = askMemory(os.Stdin, os.Stdout)
	}
	if cfg.CommandRate > 0 {
		if o.natsURL == "" {
			cfg.CommandRate = 0 // no way to send them
		} else {
			bus, err := natsbus.Open(ctx, natsbus.Config{URL: o.natsURL, Name: "chargedesk-load"})
			if err != nil {
				return err
			}
			defer bus.Close()
			cfg.Commander = bus
		}
	}
	rep, err := sim.RunLoad(ctx, cfg)
	res.Report = rep
	return err
}

// askMemory returns a ServerMemory that asks the parent process, which runs
// the server, for its memory: it writes "MEM?" and reads a number.
func askMemory(in io.Reader, out io.Writer) func() uint64 {
	sc := bufio.NewScanner(in)
	return func() uint64 {
		fmt.Fprintln(out, "MEM?")
		if !sc.Scan() {
			return 0
		}
		n, _ := strconv.ParseUint(strings.TrimSpace(sc.Text()), 10, 64)
		return n
	}
}

// relayCounts shows that a proxy-mode run measured the relay: CALLs the
// proxy relayed and got answered, the upstream's answers it waited for in
// vain (it answered itself), and CALLs from chargers the upstream received.
type relayCounts struct {
	Relayed       uint64  `json:"relayed"`
	RelayMeanSecs float64 `json:"relayMeanSeconds"`
	Timeouts      uint64  `json:"timeouts"`
	UpstreamCalls uint64  `json:"upstreamCalls"`
}

// readRelay reads relayCounts from the proxy's and the upstream's metrics.
func readRelay(proxy, upstream *prometheus.Registry) *relayCounts {
	rc := &relayCounts{}
	var sum float64
	if mfs, err := proxy.Gather(); err == nil {
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				switch mf.GetName() {
				case "chargedesk_upstream_relay_duration_seconds":
					rc.Relayed += m.GetHistogram().GetSampleCount()
					sum += m.GetHistogram().GetSampleSum()
				case "chargedesk_upstream_timeouts_total":
					rc.Timeouts += uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	if rc.Relayed > 0 {
		rc.RelayMeanSecs = sum / float64(rc.Relayed)
	}
	if mfs, err := upstream.Gather(); err == nil {
		for _, mf := range mfs {
			if mf.GetName() != "chargedesk_ocpp_messages_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				var dir, typ string
				for _, l := range m.GetLabel() {
					switch l.GetName() {
					case "direction":
						dir = l.GetValue()
					case "type":
						typ = l.GetValue()
					}
				}
				if dir == "in" && typ == "CALL" {
					rc.UpstreamCalls += uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return rc
}

// selfServer is chargedesk started in-process for a load run.
type selfServer struct {
	reg     *prometheus.Registry // its metrics
	dir     string
	store   *sqlstore.Store
	bus     *natsbus.Bus
	central *csms.Server
	http    *http.Server
	url     string
	stopRun context.CancelFunc
	runDone chan error
}

// startSelf starts a central system as "chargedesk serve" would, with a
// temporary SQLite directory, an embedded NATS and n chargers registered
// (Accepted, no password: the load runs on loopback only). With upstream
// set it runs in proxy mode in front of that central system (serve
// -upstream); node names it.
func startSelf(ctx context.Context, n int, prefix, node, upstream string, log *slog.Logger) (_ *selfServer, regTime time.Duration, err error) {
	s := &selfServer{runDone: make(chan error, 1), reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "chargedesk-load-"); err != nil {
		return nil, 0, err
	}
	if s.store, err = sqlstore.Open(ctx, "sqlite://"+filepath.Join(s.dir, "chargedesk.db"), sqlstore.WithLogger(log)); err != nil {
		return nil, 0, fmt.Errorf("open store: %w", err)
	}
	start := time.Now()
	if err := registerLoadChargers(ctx, s.store, n, prefix); err != nil {
		return nil, 0, err
	}
	regTime = time.Since(start)
	validator, err := ocpp.NewValidator()
	if err != nil {
		return nil, 0, err
	}
	if s.bus, err = natsbus.Open(ctx, natsbus.Config{Name: node, Logger: log,
		OnReplaced: func(id string) { s.central.DropCharger(id) }}); err != nil {
		return nil, 0, err
	}
	if s.central, err = csms.New(ctx, csms.Config{Node: node, Store: s.store, Validator: validator, Bus: s.bus,
		Logger: log, AllowUnauthenticated: true, Upstream: upstream, Registerer: s.reg}); err != nil {
		return nil, 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	s.url = "ws://" + ln.Addr().String() + "/ocpp"
	s.http = &http.Server{Handler: s.central.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopRun = stop
	go func() { s.runDone <- s.central.Run(runCtx) }()
	go func() { _ = s.http.Serve(ln) }()
	return s, regTime, nil
}

// registerLoadChargers registers the load's chargers, a few writers at once.
func registerLoadChargers(ctx context.Context, store chargedesk.Store, n int, prefix string) error {
	ids := make(chan int)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				id := fmt.Sprintf("%s%06d", prefix, i)
				_, err := store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, Description: "load", BootStatus: chargedesk.RegistrationAccepted})
				if err != nil && chargedesk.ErrorCode(err) != chargedesk.ECONFLICT {
					select {
					case errc <- fmt.Errorf("register %s: %w", id, err):
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case ids <- i:
			continue
		case err := <-errc:
			close(ids)
			wg.Wait()
			return err
		}
	}
	close(ids)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// close stops the in-process server and removes its directory.
func (s *selfServer) close() error {
	var errs []error
	if s.http != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.http.Shutdown(sctx)
		cancel()
	}
	if s.central != nil {
		s.central.Close()
		s.stopRun()
		errs = append(errs, <-s.runDone)
	}
	if s.bus != nil {
		errs = append(errs, s.bus.Close())
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// loadSelf runs the load against chargedesk started here.
func loadSelf(ctx context.Context, o loadOptions, cfg sim.LoadConfig, stderr io.Writer, res *loadResult) error {
	// A charger's socket at each end, and in proxy mode its upstream link's
	// at each end too: all in this process, but for the charger's end with
	// -split.
	fdsPerCharger := 2
	if o.upstreamSelf {
		fdsPerCharger = 4
	}
	if o.split {
		fdsPerCharger--
	}
	want := uint64(fdsPerCharger*o.chargers + 1024)
	if got := sim.RaiseFileLimit(want); got != 0 && got < want && o.upstreamSelf {
		// Without enough descriptors the proxy and the upstream fail their
		// store and dials, and the run measures that instead of the relay.
		return fmt.Errorf("open-file limit %d (could not raise it to %d): -upstream-self allows at most %d chargers here",
			got, want, (int(got)-1024)/fdsPerCharger)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	upstream := ""
	var up *selfServer
	if o.upstreamSelf {
		// The upstream plays the network's existing central system: a
		// second chargedesk on its own store, the same chargers registered.
		var err error
		up, _, err = startSelf(ctx, o.chargers, o.prefix, "load-upstream", "", log)
		if err != nil {
			return fmt.Errorf("upstream: %w", err)
		}
		defer up.close()
		upstream = up.url
		res.Upstream = up.url
	}
	srv, regTime, err := startSelf(ctx, o.chargers, o.prefix, "load", upstream, log)
	if err != nil {
		return err
	}
	defer srv.close()
	res.RegisterTime = regTime.Round(time.Millisecond).String()
	cfg.URL = srv.url
	switch o.commander {
	case "gateway":
		now := time.Now
		cfg.Commander = &policy.Gateway{Policy: &policy.Rules{Store: srv.store, Now: now}, Audit: srv.store, Next: srv.bus, Logger: log, Now: now}
	case "bus":
		cfg.Commander = srv.bus
	default:
		return fmt.Errorf("-commander must be gateway or bus, not %q", o.commander)
	}
	if up != nil {
		res.Mode = "self-proxy"
		defer func() { res.Relay = readRelay(srv.reg, up.reg) }()
	}
	if o.split {
		res.Mode += "-split"
		return loadChild(ctx, o, cfg, res)
	}
	cfg.ServerMemory = memInUse // same process: this is server and chargers together
	rep, err := sim.RunLoad(ctx, cfg)
	res.Report = rep
	res.ProcessBytesPerCharger, res.Report.ServerBytesPerCharger = rep.ServerBytesPerCharger, 0
	return err
}

// loadChild runs the chargers in a child process (this executable, "sim
// -load -url ... -mem-stdio -json") and answers its memory questions with
// this process's memory, which then is the server's alone. Operator
// commands are sent from the child on the bus, which this process opens to
// it on a loopback port.
func loadChild(ctx context.Context, o loadOptions, cfg sim.LoadConfig, res *loadResult) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"sim", "-load", "-url", cfg.URL, "-mem-stdio", "-json",
		"-chargers", strconv.Itoa(o.chargers), "-rate", fmt.Sprint(o.rate), "-heartbeat-rate", fmt.Sprint(o.heartbeat),
		"-status-rate", fmt.Sprint(o.status), "-meter-rate", fmt.Sprint(o.meter), "-commands-rate", "0",
		"-duration", o.duration.String(), "-call-timeout", o.callTimeout.String(), "-protocol", o.protocol, "-id-prefix", o.prefix}
	// Commands are sent from here, where the Commander is, while the child
	// runs: same rates and measure as in one process.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute+time.Duration(float64(o.chargers)/o.rate*float64(time.Second))+o.duration)
	defer cancel()
	cmd := exec.CommandContext(cctx, exe, args...)
	// A test binary runs chargedesk when this variable holds its arguments
	// (see main_test.go); chargedesk itself ignores it.
	cmd.Env = append(os.Environ(), "CHARGEDESK_TEST_CHILD_ARGS="+strings.Join(args, "\x1f"))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var report strings.Builder
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	asked := 0
	var cmdRep *commandLoad
	for sc.Scan() {
		line := sc.Text()
		if line != "MEM?" {
			report.WriteString(line)
			report.WriteByte('\n')
			continue
		}
		fmt.Fprintln(in, memInUse())
		asked++
		if asked == 2 {
			res.ServerGoroutines = runtime.NumGoroutine()
			if err := writeHeapProfile(o.heapProfile); err != nil {
				fmt.Fprintln(os.Stderr, "heap profile:", err)
			}
		}
		if asked == 2 && cfg.CommandRate > 0 {
			// Connect phase over: send commands during the steady phase.
			// The child's steady phase began as it read the answer; end a
			// little early so that no command finds it closing.
			cmdRep = startCommands(cctx, cfg, o.duration-min(o.duration/10, time.Second))
		}
	}
	werr := cmd.Wait()
	var child loadResult
	if err := json.Unmarshal([]byte(report.String()), &child); err != nil {
		return errors.Join(fmt.Errorf("load child: %w", err), werr)
	}
	res.Report = child.Report
	if cmdRep != nil {
		var msgs []string
		res.Report.Command, res.Report.Errors, msgs = cmdRep.wait()
		res.Report.Errors += child.Report.Errors
		res.Report.ErrorSamples = append(res.Report.ErrorSamples, msgs...)
	}
	return werr
}

// commandLoad sends operator commands at a rate from this process.
type commandLoad struct {
	done chan struct{}
	lat  sim.Latency
	errs int64
	msgs []string // the first few failures
}

// startCommands sends GetLocalListVersion commands through cfg.Commander at
// cfg.CommandRate for d, to chargers picked in turn.
func startCommands(ctx context.Context, cfg sim.LoadConfig, d time.Duration) *commandLoad {
	c := &commandLoad{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var mu sync.Mutex
		var samples []time.Duration
		var wg sync.WaitGroup
		sem := make(chan struct{}, 256)
		t := time.NewTicker(time.Duration(float64(time.Second) / cfg.CommandRate))
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				wg.Wait()
				c.lat = sim.Summarize(samples)
				return
			case <-t.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				mu.Lock()
				c.errs++
				mu.Unlock()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				cmd := chargedesk.Command{ID: chargedesk.NewCommandID(), Kind: chargedesk.CmdGetLocalListVersion,
					ChargerID: fmt.Sprintf("%s%06d", cfg.IDPrefix, i%cfg.Chargers), Timeout: cfg.CallTimeout, Actor: "load", Reason: "load test"}
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.CallTimeout+time.Second)
				defer cancel()
				start := time.Now()
				r, err := cfg.Commander.Send(sctx, cmd)
				el := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				if err != nil || r.Status != chargedesk.ResultAccepted {
					c.errs++
					if len(c.msgs) < 5 {
						c.msgs = append(c.msgs, fmt.Sprintf("command to %s: %v %s %s", cmd.ChargerID, err, r.Status, r.Detail))
					}
					return
				}
				samples = append(samples, el)
			}()
		}
	}()
	return c
}

func (c *commandLoad) wait() (sim.Latency, int64, []string) {
	<-c.done
	return c.lat, c.errs, c.msgs
}

// memInUse returns this process's heap and stack in use after a GC.
func memInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// machine describes where the load ran.
func machine() string {
	model := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs, %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version())
}

// printLoad prints the result as a table.
func printLoad(w io.Writer, res loadResult) {
	r := res.Report
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "mode\t%s\n", res.Mode)
	fmt.Fprintf(tw, "machine\t%s\n", res.Machine)
	if res.Upstream != "" {
		fmt.Fprintf(tw, "proxy mode, upstream\t%s (in-process chargedesk)\n", res.Upstream)
	}
	if res.RegisterTime != "" {
		fmt.Fprintf(tw, "chargers registered in\t%s\n", res.RegisterTime)
	}
	fmt.Fprintf(tw, "chargers connected\t%d of %d (%d failed)\n", r.Connected, r.Chargers, r.ConnectFailures)
	fmt.Fprintf(tw, "connect phase\t%s, %.0f connections/s\n", r.ConnectTime.Round(time.Millisecond), r.ConnectRate)
	fmt.Fprintf(tw, "steady phase\t%s, %d CALLs answered, %.0f/s, %d skipped (charger busy)\n", r.Steady.Round(time.Millisecond), r.Messages, r.MessagesPerSec, r.Skipped)
	fmt.Fprintf(tw, "round trip\tcount\tp50\tp95\tp99\tmax\n")
	for _, row := range []struct {
		name string
		l    sim.Latency
	}{{"BootNotification", r.Boot}, {"Heartbeat", r.Heartbeat}, {"StatusNotification", r.Status}, {"MeterValues", r.Meter}, {"operator command", r.Command}} {
		if row.l.Count == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", row.name, row.l.Count, fmtDur(row.l.P50), fmtDur(row.l.P95), fmtDur(row.l.P99), fmtDur(row.l.Max))
	}
	if rc := res.Relay; rc != nil {
		fmt.Fprintf(tw, "relayed by the proxy\t%d CALLs answered by the upstream (mean %s at the proxy), %d answered locally after a timeout; upstream received %d CALLs\n",
			rc.Relayed, fmtDur(time.Duration(rc.RelayMeanSecs*float64(time.Second))), rc.Timeouts, rc.UpstreamCalls)
	}
	fmt.Fprintf(tw, "errors\t%d, disconnects %d\n", r.Errors, r.Disconnects)
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(tw, "  \t%s\n", e)
	}
	if res.ProcessBytesPerCharger != 0 {
		fmt.Fprintf(tw, "memory/charger, server+chargers (one process)\t%.1f KiB\n", res.ProcessBytesPerCharger/1024)
	} else {
		fmt.Fprintf(tw, "memory/charger, load client\t%.1f KiB\n", r.ClientBytesPerCharger/1024)
	}
	if r.ServerBytesPerCharger != 0 {
		who := "server"
		if res.Upstream != "" {
			who = "server (proxy + in-process upstream)"
		}
		fmt.Fprintf(tw, "memory/charger, %s\t%.1f KiB\n", who, r.ServerBytesPerCharger/1024)
	}
	fmt.Fprintf(tw, "goroutines (load process)\t%d\n", r.Goroutines)
	if res.ServerGoroutines != 0 {
		fmt.Fprintf(tw, "goroutines (server process)\t%d\n", res.ServerGoroutines)
	}
	fmt.Fprintf(tw, "open-file limit\t%d\n", r.FileLimit)
	tw.Flush()
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	default:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
}
