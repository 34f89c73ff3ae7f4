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
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/loadserver"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/sim"
	"github.com/prometheus/client_golang/prometheus"
)

const loadUsage = `chargedesk sim -load measures a central system under many lightweight chargers.

Usage:
  chargedesk sim -load -url ws://HOST:PORT/ocpp [-nats nats://HOST:4222] [flags]
  chargedesk sim -load -self [-split] [-upstream-self [-upstream-split]] [flags]

-self starts chargedesk in this process (temporary SQLite directory, embedded
NATS, chargers registered in bulk) and also measures its memory; with -split
the chargers run in a child process so that the server's memory is measured
alone. -upstream-self also starts a second chargedesk (its own SQLite
directory, the same chargers registered) and puts the measured one in proxy
mode (serve -upstream) in front of it: every charger CALL is relayed to it and
its answer relayed back, so the round trips minus those of a -self run are the
relay's added latency. The upstream runs in this process, and the server's
memory then counts both servers, unless -upstream-split runs it in a child
process of its own: the measured process then holds the proxy alone, and with
-split two descriptors per charger (its charger's and its upstream link's)
instead of three, so that the open-file limit allows more chargers.
Operator commands go through the policy gateway (-self) or the NATS bus given
with -nats (-url). Every run stops by itself after the connect phase and
-duration.
`

// loadOptions are runLoad's flags.
type loadOptions struct {
	url, natsURL, protocol, commander, password, prefix string
	heapProfile, cpuProfile                             string
	self, split, json, memStdio, upstreamSelf           bool
	upstreamSplit, upstreamStdio                        bool
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
	// UpstreamSplit is set when the upstream ran in a child process of its
	// own (-upstream-split): the server's memory is then the proxy's alone.
	UpstreamSplit bool `json:"upstreamSplit,omitempty"`
	// ServerGoroutines is the server process's goroutines once the
	// chargers are connected (-split only).
	ServerGoroutines int `json:"serverGoroutines,omitempty"`
	// ServerOpenFiles, ChargersOpenFiles and UpstreamOpenFiles are the
	// open descriptors of the server process, the chargers child and the
	// upstream child (-upstream-split) once the chargers are connected
	// (-split only, where /proc is readable).
	ServerOpenFiles   int `json:"serverOpenFiles,omitempty"`
	ChargersOpenFiles int `json:"chargersOpenFiles,omitempty"`
	UpstreamOpenFiles int `json:"upstreamOpenFiles,omitempty"`
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
	fs.BoolVar(&o.upstreamSplit, "upstream-split", false, "with -upstream-self: run the upstream in a child process of its own, to measure the proxy alone")
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
	fs.BoolVar(&o.upstreamStdio, "upstream-stdio", false, "internal: run only the upstream central system, driven on standard input/output (-upstream-split child)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.upstreamStdio {
		return upstreamChild(ctx, o, os.Stdin, stdout, stderr)
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
	if o.upstreamSplit && !o.upstreamSelf {
		return errors.New("-upstream-split needs -upstream-self")
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
// proxy relayed and got answered (the Heartbeats among them apart: boots
// queue up in the connect phase), the upstream's answers it waited for in
// vain (it answered itself), and CALLs from chargers the upstream received.
type relayCounts struct {
	Relayed           uint64  `json:"relayed"`
	RelayMeanSecs     float64 `json:"relayMeanSeconds"`
	Heartbeats        uint64  `json:"heartbeats"`
	HeartbeatMeanSecs float64 `json:"heartbeatMeanSeconds"`
	Timeouts          uint64  `json:"timeouts"`
	UpstreamCalls     uint64  `json:"upstreamCalls"`
}

// readRelay reads relayCounts but UpstreamCalls from the proxy's metrics.
func readRelay(proxy *prometheus.Registry) *relayCounts {
	rc := &relayCounts{}
	var sum, hbSum float64
	if mfs, err := proxy.Gather(); err == nil {
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				switch mf.GetName() {
				case "chargedesk_upstream_relay_duration_seconds":
					h := m.GetHistogram()
					rc.Relayed += h.GetSampleCount()
					sum += h.GetSampleSum()
					for _, l := range m.GetLabel() {
						if l.GetName() == "action" && l.GetValue() == "Heartbeat" {
							rc.Heartbeats += h.GetSampleCount()
							hbSum += h.GetSampleSum()
						}
					}
				case "chargedesk_upstream_timeouts_total":
					rc.Timeouts += uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	if rc.Relayed > 0 {
		rc.RelayMeanSecs = sum / float64(rc.Relayed)
	}
	if rc.Heartbeats > 0 {
		rc.HeartbeatMeanSecs = hbSum / float64(rc.Heartbeats)
	}
	return rc
}

// callsReceived counts, from a central system's metrics, the CALLs its
// chargers sent it.
func callsReceived(reg *prometheus.Registry) uint64 {
	var n uint64
	if mfs, err := reg.Gather(); err == nil {
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
					n += uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return n
}

// loadBaseFiles is what the load's server process may hold open besides
// its chargers' sockets, with room to spare. Seen on Linux with 2 CPUs:
// standard input, output and error and a /dev/null (4); the runtime's
// poller, an epoll and an eventfd (2), and the cgroup CPU-quota files it
// reads (2); the OCPP listener (1); SQLite's writer and up to
// max(4, GOMAXPROCS) readers, each with the database and its WAL open, and
// the shared-memory index (up to 11); pipes to and pidfds of the children,
// chargers and upstream (7). A proxy run with 9,900 chargers held 27
// besides its 19,800 sockets (ServerOpenFiles). The rest of the margin is
// for upstream links being redialled and connections being accepted or
// closed at a given moment. The embedded NATS needs none (an in-process
// connection, no listener).
const loadBaseFiles = 128

// loadFilesPerCharger is the descriptors each charger costs the measured
// process: its socket at each end, but the charger's end when the chargers
// run in a child (-split); in proxy mode its upstream link's at each end
// too, but the upstream's end when the upstream runs in a child
// (-upstream-split).
func loadFilesPerCharger(o loadOptions) int {
	n := 2
	if o.upstreamSelf {
		n += 2
		if o.upstreamSplit {
			n--
		}
	}
	if o.split {
		n--
	}
	return n
}

// loadSelf runs the load against chargedesk started here.
func loadSelf(ctx context.Context, o loadOptions, cfg sim.LoadConfig, stderr io.Writer, res *loadResult) error {
	// A child holds one descriptor per charger, the measured process at
	// least as many: when this process has enough, so does each child (the
	// hard limit is the same; each raises its own soft limit).
	fdsPerCharger := loadFilesPerCharger(o)
	want := uint64(fdsPerCharger*o.chargers + loadBaseFiles)
	if got := sim.RaiseFileLimit(want); got != 0 && got < want && o.upstreamSelf {
		// Without enough descriptors the proxy and the upstream fail their
		// store and dials, and the run measures that instead of the relay.
		return fmt.Errorf("open-file limit %d (could not raise it to %d): -upstream-self allows at most %d chargers here (%d descriptors per charger and %d for the rest)",
			got, want, (int(got)-loadBaseFiles)/fdsPerCharger, fdsPerCharger, loadBaseFiles)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	upstream := ""
	var up *loadserver.Server
	var upChild *upstreamProc
	if o.upstreamSelf {
		// The upstream plays the network's existing central system: a
		// second chargedesk on its own store, the same chargers registered.
		var err error
		if o.upstreamSplit {
			upChild, err = startUpstreamChild(ctx, o)
			if err != nil {
				return fmt.Errorf("upstream: %w", err)
			}
			defer func() {
				if err := upChild.close(); err != nil {
					fmt.Fprintln(stderr, "upstream child:", err)
				}
			}()
			upstream = upChild.url
		} else {
			up, err = loadserver.Start(ctx, loadserver.Config{Chargers: o.chargers, IDPrefix: o.prefix, Node: "load-upstream", Logger: log})
			if err != nil {
				return fmt.Errorf("upstream: %w", err)
			}
			defer up.Close()
			upstream = up.URL
		}
		res.Upstream = upstream
		res.UpstreamSplit = o.upstreamSplit
	}
	srv, err := loadserver.Start(ctx, loadserver.Config{Chargers: o.chargers, IDPrefix: o.prefix, Node: "load", Upstream: upstream, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	res.RegisterTime = srv.RegisterTime.Round(time.Millisecond).String()
	cfg.URL = srv.URL
	if cfg.Commander, err = srv.Commander(o.commander); err != nil {
		return fmt.Errorf("-commander must be gateway or bus, not %q", o.commander)
	}
	if o.upstreamSelf {
		res.Mode = "self-proxy"
		// Read once the run is over, before the upstream stops.
		defer func() {
			res.Relay = readRelay(srv.Registry)
			if up != nil {
				res.Relay.UpstreamCalls = callsReceived(up.Registry)
				return
			}
			st, err := upChild.stats()
			if err != nil {
				fmt.Fprintln(stderr, "upstream child:", err)
			}
			res.Relay.UpstreamCalls = st.Calls
		}()
	}
	if o.split {
		res.Mode += "-split"
	}
	if o.upstreamSplit {
		res.Mode += "-upstream-child"
	}
	if o.split {
		upPID := 0
		if upChild != nil {
			upPID = upChild.cmd.Process.Pid
		}
		return loadChild(ctx, o, cfg, res, upPID)
	}
	cfg.ServerMemory = sim.MemInUse // same process: this is server and chargers together
	rep, err := sim.RunLoad(ctx, cfg)
	res.Report = rep
	res.ProcessBytesPerCharger, res.Report.ServerBytesPerCharger = rep.ServerBytesPerCharger, 0
	return err
}

// upstreamStats is what an upstream child tells its parent when asked
// ("STATS?").
type upstreamStats struct {
	Calls uint64 `json:"calls"` // CALLs received from chargers (the proxy's relays)
}

// upstreamChild runs the upstream of a -upstream-split parent, alone in
// this process ("sim -load -upstream-stdio"): chargedesk on its own store
// with the load's chargers registered, as loadserver.Start starts it. It writes
// "URL ws://..." once it serves, answers each "STATS?" line with
// upstreamStats as one JSON line, and stops when its input ends.
func upstreamChild(ctx context.Context, o loadOptions, in io.Reader, out, stderr io.Writer) (err error) {
	if o.chargers < 1 || o.chargers > sim.MaxLoadChargers {
		return fmt.Errorf("-chargers must be between 1 and %d", sim.MaxLoadChargers)
	}
	// One descriptor per charger: the proxy's upstream link, accepted.
	want := uint64(o.chargers + loadBaseFiles)
	if got := sim.RaiseFileLimit(want); got != 0 && got < want {
		return fmt.Errorf("open-file limit %d (could not raise it to %d) is too low for %d chargers", got, want, o.chargers)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	up, err := loadserver.Start(ctx, loadserver.Config{Chargers: o.chargers, IDPrefix: o.prefix, Node: "load-upstream", Logger: log})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, up.Close()) }()
	if _, err := fmt.Fprintln(out, "URL", up.URL); err != nil {
		return err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	enc := json.NewEncoder(out)
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if line != "STATS?" {
				return fmt.Errorf("upstream child: unexpected input %q", line)
			}
			if err := enc.Encode(upstreamStats{Calls: callsReceived(up.Registry)}); err != nil {
				return err
			}
		}
	}
}

// upstreamProc is the upstream of a -upstream-split run, in its child
// process.
type upstreamProc struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	in     io.WriteCloser
	out    *bufio.Scanner
	url    string
}

// startUpstreamChild starts the upstream in a child process (this
// executable, "sim -load -upstream-stdio") and waits for its URL.
func startUpstreamChild(ctx context.Context, o loadOptions) (_ *upstreamProc, err error) {
	args := []string{"sim", "-load", "-upstream-stdio", "-chargers", strconv.Itoa(o.chargers), "-id-prefix", o.prefix}
	// Bounded like the run: registrations (this one's and the proxy's),
	// then the chargers child's bound.
	cctx, cancel := context.WithTimeout(ctx, 4*time.Minute+loadChildBound(o))
	u := &upstreamProc{cancel: cancel}
	defer func() {
		if err != nil {
			if u.in != nil {
				u.in.Close()
			}
			if u.cmd != nil && u.cmd.Process != nil {
				err = errors.Join(err, u.cmd.Wait())
			}
			cancel()
		}
	}()
	if u.cmd, err = childCommand(cctx, args); err != nil {
		return nil, err
	}
	if u.in, err = u.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := u.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := u.cmd.Start(); err != nil {
		return nil, err
	}
	u.out = bufio.NewScanner(out)
	if !u.out.Scan() {
		return nil, errors.New("upstream child stopped before serving")
	}
	url, ok := strings.CutPrefix(u.out.Text(), "URL ")
	if !ok || !strings.HasPrefix(url, "ws://") {
		return nil, fmt.Errorf("upstream child said %q, not its URL", u.out.Text())
	}
	u.url = url
	return u, nil
}

// stats asks the upstream child for its counts.
func (u *upstreamProc) stats() (upstreamStats, error) {
	var st upstreamStats
	if _, err := fmt.Fprintln(u.in, "STATS?"); err != nil {
		return st, err
	}
	if !u.out.Scan() {
		return st, errors.Join(errors.New("upstream child stopped"), u.out.Err())
	}
	err := json.Unmarshal(u.out.Bytes(), &st)
	return st, err
}

// close ends the upstream child's input, which stops it, and waits for it.
func (u *upstreamProc) close() error {
	defer u.cancel()
	u.in.Close()
	return u.cmd.Wait()
}

// childCommand makes the command that runs this executable with args, its
// standard error this process's.
func childCommand(ctx context.Context, args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	// A test binary runs chargedesk when this variable holds its arguments
	// (see main_test.go); chargedesk itself ignores it.
	cmd.Env = append(os.Environ(), "CHARGEDESK_TEST_CHILD_ARGS="+strings.Join(args, "\x1f"))
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 10 * time.Second
	return cmd, nil
}

// loadChildBound bounds the chargers child: its connect phase at -rate,
// -duration and two minutes for the rest.
func loadChildBound(o loadOptions) time.Duration {
	return 2*time.Minute + time.Duration(float64(o.chargers)/o.rate*float64(time.Second)) + o.duration
}

// openFiles counts the open descriptors of a process ("self" or a pid), or
// returns 0 where /proc cannot tell.
func openFiles(pid string) int {
	ents, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		return 0
	}
	if pid == "self" {
		return len(ents) - 1 // the directory being read
	}
	return len(ents)
}

// loadChild runs the chargers in a child process (this executable, "sim
// -load -url ... -mem-stdio -json") and answers its memory questions with
// this process's memory, which then is the server's alone. Operator
// commands are sent from the child on the bus, which this process opens to
// it on a loopback port.
func loadChild(ctx context.Context, o loadOptions, cfg sim.LoadConfig, res *loadResult, upstreamPID int) error {
	args := []string{"sim", "-load", "-url", cfg.URL, "-mem-stdio", "-json",
		"-chargers", strconv.Itoa(o.chargers), "-rate", fmt.Sprint(o.rate), "-heartbeat-rate", fmt.Sprint(o.heartbeat),
		"-status-rate", fmt.Sprint(o.status), "-meter-rate", fmt.Sprint(o.meter), "-commands-rate", "0",
		"-duration", o.duration.String(), "-call-timeout", o.callTimeout.String(), "-protocol", o.protocol, "-id-prefix", o.prefix}
	// Commands are sent from here, where the Commander is, while the child
	// runs: same rates and measure as in one process.
	cctx, cancel := context.WithTimeout(ctx, loadChildBound(o))
	defer cancel()
	cmd, err := childCommand(cctx, args)
	if err != nil {
		return err
	}
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
		fmt.Fprintln(in, sim.MemInUse())
		asked++
		if asked == 2 {
			res.ServerGoroutines = runtime.NumGoroutine()
			res.ServerOpenFiles = openFiles("self")
			res.ChargersOpenFiles = openFiles(strconv.Itoa(cmd.Process.Pid))
			if upstreamPID != 0 {
				res.UpstreamOpenFiles = openFiles(strconv.Itoa(upstreamPID))
			}
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
	rep  sim.CommandLoadReport
}

// startCommands sends GetLocalListVersion commands through cfg.Commander at
// cfg.CommandRate for d, to chargers picked in turn.
func startCommands(ctx context.Context, cfg sim.LoadConfig, d time.Duration) *commandLoad {
	c := &commandLoad{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		var err error
		c.rep, err = sim.RunCommands(ctx, sim.CommandLoadConfig{Rate: cfg.CommandRate, Duration: d, Chargers: cfg.Chargers,
			IDPrefix: cfg.IDPrefix, Timeout: cfg.CallTimeout, Send: sim.CommanderSend(cfg.Commander, cfg.CallTimeout)})
		if err != nil {
			c.rep.Errors, c.rep.ErrorSamples = 1, []string{err.Error()}
		}
	}()
	return c
}

func (c *commandLoad) wait() (sim.Latency, int64, []string) {
	<-c.done
	return c.rep.Latency, c.rep.Errors, c.rep.ErrorSamples
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
		where := "in-process chargedesk"
		if res.UpstreamSplit {
			where = "chargedesk in a child process"
		}
		fmt.Fprintf(tw, "proxy mode, upstream\t%s (%s)\n", res.Upstream, where)
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
		fmt.Fprintf(tw, "relayed by the proxy\t%d CALLs answered by the upstream (mean %s at the proxy; %d Heartbeats, mean %s), %d answered locally after a timeout; upstream received %d CALLs\n",
			rc.Relayed, fmtDur(time.Duration(rc.RelayMeanSecs*float64(time.Second))), rc.Heartbeats, fmtDur(time.Duration(rc.HeartbeatMeanSecs*float64(time.Second))),
			rc.Timeouts, rc.UpstreamCalls)
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
		switch {
		case res.UpstreamSplit:
			who = "server (proxy alone; upstream in its own process)"
		case res.Upstream != "":
			who = "server (proxy + in-process upstream)"
		}
		fmt.Fprintf(tw, "memory/charger, %s\t%.1f KiB\n", who, r.ServerBytesPerCharger/1024)
	}
	fmt.Fprintf(tw, "goroutines (load process)\t%d\n", r.Goroutines)
	if res.ServerGoroutines != 0 {
		fmt.Fprintf(tw, "goroutines (server process)\t%d\n", res.ServerGoroutines)
	}
	if res.ServerOpenFiles != 0 {
		fmt.Fprintf(tw, "open files: server, chargers, upstream process\t%d, %d, %s\n", res.ServerOpenFiles, res.ChargersOpenFiles,
			map[bool]string{true: strconv.Itoa(res.UpstreamOpenFiles), false: "-"}[res.UpstreamOpenFiles != 0])
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
