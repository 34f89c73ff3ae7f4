package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sim"
)

// measurement is one server measured once.
type measurement struct {
	Target string `json:"target"`
	Run    int    `json:"run"`
	// Report is the load generator's side: connections, round trips of
	// the chargers' CALLs, errors; ServerBytesPerCharger is the server
	// child's heap+stack growth over the connect phase per connected
	// charger. (ClientBytesPerCharger is not shown: the load runs in this
	// process for every server in turn, so after the first it starts with
	// the stack spans and heap the previous run left, and reads low.)
	Report sim.LoadReport `json:"report"`
	// Commands are the server's CALLs to the chargers, measured in its
	// process.
	Commands sim.CommandLoadReport `json:"commands"`
	// ServerGoroutines and ServerOpenFiles are the server process's once
	// the chargers are connected; ServerGoroutinesPerCharger is the growth
	// over the connect phase per connected charger.
	ServerGoroutines           int     `json:"serverGoroutines"`
	ServerGoroutinesPerCharger float64 `json:"serverGoroutinesPerCharger"`
	ServerOpenFiles            int     `json:"serverOpenFiles"`
	// ServerConnectCPU is the server's CPU seconds over the connect phase,
	// ServerSteadyCPU its CPU time over the steady window as a share of
	// one core.
	ServerConnectCPU float64 `json:"serverConnectCPUSeconds"`
	ServerSteadyCPU  float64 `json:"serverSteadyCPUShare"`
	// LoadBefore and LoadAfter are the machine's load average (1, 5, 15
	// minutes) around the measurement.
	LoadBefore [3]float64 `json:"loadBefore"`
	LoadAfter  [3]float64 `json:"loadAfter"`
	// Note is what the server reported after the run, e.g. connections
	// it did not release.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// comparison is every measurement of one run of the tool.
type comparison struct {
	Machine   string        `json:"machine"`
	Params    string        `json:"params"`
	Targets   []string      `json:"targets"`
	Runs      int           `json:"runs"`
	LoadStart [3]float64    `json:"loadStart"`
	LoadEnd   [3]float64    `json:"loadEnd"`
	All       []measurement `json:"measurements"`
}

// compare measures each target o.runs times, interleaved, and returns
// every measurement; the error joins the failed ones'.
func compare(ctx context.Context, o options, progress io.Writer) (comparison, error) {
	cmp := comparison{Machine: machine(), Params: params(o), Targets: o.targets, Runs: o.runs, LoadStart: loadavg()}
	defer func() { cmp.LoadEnd = loadavg() }()
	var errs []error
	for run := 1; run <= o.runs; run++ {
		for _, t := range o.targets {
			if len(cmp.All) > 0 && o.pause > 0 {
				select {
				case <-time.After(o.pause):
				case <-ctx.Done():
				}
			}
			if ctx.Err() != nil {
				return cmp, errors.Join(append(errs, ctx.Err())...)
			}
			fmt.Fprintf(progress, "loadcompare: %s, run %d of %d (load average %s)\n", t, run, o.runs, fmtLoad(loadavg()))
			m, err := measure(ctx, t, o)
			m.Run = run
			if err != nil {
				m.Error = err.Error()
				errs = append(errs, fmt.Errorf("%s, run %d: %w", t, run, err))
				fmt.Fprintf(progress, "loadcompare: %s, run %d: %v\n", t, run, err)
			}
			cmp.All = append(cmp.All, m)
		}
	}
	cmp.LoadEnd = loadavg()
	return cmp, errors.Join(errs...)
}

// measure runs the load once against target, started in a child process.
func measure(ctx context.Context, target string, o options) (m measurement, err error) {
	m = measurement{Target: target, LoadBefore: loadavg()}
	defer func() { m.LoadAfter = loadavg() }()
	c, err := startChild(ctx, target, o)
	if err != nil {
		return m, err
	}
	defer func() {
		if cerr := c.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("%s server: %w", target, cerr))
		}
	}()
	var before, connected childStatus
	var askErrs []error
	asked := 0
	// As "sim -load -split" does: the commands start with the steady phase
	// and stop a little before it ends, so that none finds it closing.
	window := o.duration - min(o.duration/10, time.Second)
	cfg := sim.LoadConfig{
		URL: c.url, IDPrefix: o.prefix, Chargers: o.chargers, ConnectRate: o.connectRate,
		HeartbeatRate: o.hbRate, Duration: o.duration, CallTimeout: o.callTimeout,
		Protocols: []chargedesk.Protocol{chargedesk.OCPP16},
		// Called before the first connection and once the connect phase
		// is over, just before the steady phase.
		ServerMemory: func() uint64 {
			asked++
			st, err := c.ask(childRequest{Op: "mem"})
			if err != nil {
				askErrs = append(askErrs, err)
				return 0
			}
			switch asked {
			case 1:
				before = st
			case 2:
				connected = st
				if _, err := c.ask(childRequest{Op: "steady", Duration: window}); err != nil {
					askErrs = append(askErrs, err)
				}
			}
			return st.Bytes
		},
	}
	rep, err := sim.RunLoad(ctx, cfg)
	m.Report = rep
	if err != nil {
		return m, err
	}
	if len(askErrs) > 0 {
		return m, errors.Join(askErrs...)
	}
	res, err := c.ask(childRequest{Op: "result"})
	if err != nil {
		return m, err
	}
	if res.Commands != nil {
		m.Commands = *res.Commands
	}
	m.Note = res.Note
	m.ServerGoroutines, m.ServerOpenFiles = connected.Goroutines, connected.OpenFiles
	if rep.Connected > 0 {
		m.ServerGoroutinesPerCharger = float64(connected.Goroutines-before.Goroutines) / float64(rep.Connected)
	}
	m.ServerConnectCPU = connected.CPU - before.CPU
	if res.SteadyWall > 0 {
		m.ServerSteadyCPU = res.SteadyCPU / res.SteadyWall.Seconds()
	}
	return m, nil
}

// params describes the load in words.
func params(o options) string {
	via := map[string]string{"gateway": "the policy gateway", "bus": "the bus"}[o.commander]
	return fmt.Sprintf("OCPP 1.6, %d chargers connecting at %.0f/s, then %s steady: %.0f Heartbeats/s across the fleet (round robin, "+
		"one CALL outstanding per charger), %.0f GetLocalListVersion commands/s from the server (chargedesk: through %s); %d run(s) per server",
		o.chargers, o.connectRate, o.duration, o.hbRate, o.cmdRate, via, o.runs)
}

// columns names the targets in the table.
var columns = map[string]string{
	"chargedesk": "chargedesk",
	"ocppgo":     "ocpp-go v0.19.0 central system",
	"floor":      "floor (coder/websocket, fixed answers)",
}

// tableRow is one row: the numbers it takes from a measurement (their
// median over the runs is shown) and how to print them.
type tableRow struct {
	name   string
	vals   func(m measurement) []float64
	format func(v []float64) string
}

var tableRows = []tableRow{
	{"chargers connected", func(m measurement) []float64 {
		return []float64{float64(m.Report.Connected), float64(m.Report.Chargers)}
	},
		func(v []float64) string { return fmt.Sprintf("%.0f/%.0f", v[0], v[1]) }},
	{"connect rate achieved", func(m measurement) []float64 { return []float64{m.Report.ConnectRate} },
		func(v []float64) string { return fmt.Sprintf("%.0f/s", v[0]) }},
	{"BootNotification p50 / p99", latencies(func(m measurement) sim.Latency { return m.Report.Boot }, false), fmtDurs},
	{"**Heartbeat p50 / p95 / p99**", latencies(func(m measurement) sim.Latency { return m.Report.Heartbeat }, true), fmtDurs},
	{"Heartbeats answered", func(m measurement) []float64 {
		return []float64{float64(m.Report.Heartbeat.Count), m.Report.MessagesPerSec}
	}, func(v []float64) string { return fmt.Sprintf("%.0f (%.0f/s)", v[0], v[1]) }},
	{"**command round trip p50 / p99**", latencies(func(m measurement) sim.Latency { return m.Commands.Latency }, false), fmtDurs},
	{"commands answered / sent", func(m measurement) []float64 {
		return []float64{float64(m.Commands.Latency.Count), float64(m.Commands.Sent)}
	}, func(v []float64) string { return fmt.Sprintf("%.0f / %.0f", v[0], v[1]) }},
	{"**server heap+stack per charger**", func(m measurement) []float64 { return []float64{m.Report.ServerBytesPerCharger} },
		func(v []float64) string { return fmt.Sprintf("%.1f KiB", v[0]/1024) }},
	{"server goroutines per charger", func(m measurement) []float64 { return []float64{m.ServerGoroutinesPerCharger} },
		func(v []float64) string { return fmt.Sprintf("%.2f", v[0]) }},
	{"server CPU: connect phase / steady phase", func(m measurement) []float64 {
		return []float64{m.ServerConnectCPU, m.ServerSteadyCPU}
	}, func(v []float64) string { return fmt.Sprintf("%.2f s / %.0f %% of a core", v[0], 100*v[1]) }},
	{"errors (load + commands) / disconnects", func(m measurement) []float64 {
		return []float64{float64(m.Report.Errors + m.Commands.Errors), float64(m.Report.Disconnects)}
	}, func(v []float64) string { return fmt.Sprintf("%.0f / %.0f", v[0], v[1]) }},
	{"load average (1 min) before → after", func(m measurement) []float64 { return []float64{m.LoadBefore[0], m.LoadAfter[0]} },
		func(v []float64) string { return fmt.Sprintf("%.2f → %.2f", v[0], v[1]) }},
}

// latencies returns a row's numbers: the latency's p50 and p99, with p95
// between them if asked, in nanoseconds.
func latencies(l func(measurement) sim.Latency, p95 bool) func(measurement) []float64 {
	return func(m measurement) []float64 {
		lat := l(m)
		if p95 {
			return []float64{float64(lat.P50), float64(lat.P95), float64(lat.P99)}
		}
		return []float64{float64(lat.P50), float64(lat.P99)}
	}
}

func fmtDurs(v []float64) string {
	parts := make([]string, len(v))
	for i, ns := range v {
		parts[i] = fmtDur(time.Duration(ns))
	}
	return strings.Join(parts, " / ")
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

// median returns the median of v (the mean of the two middle values when
// there is an even number).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// writeTable prints the comparison as markdown: the machine, the load, and
// one column per server, each cell the median over the runs that did not
// fail.
func writeTable(w io.Writer, cmp comparison) {
	fmt.Fprintf(w, "machine: %s\n\n", cmp.Machine)
	fmt.Fprintf(w, "load: %s\n\n", cmp.Params)
	fmt.Fprintf(w, "load average (1/5/15 min): %s at the start, %s at the end\n\n", fmtLoad(cmp.LoadStart), fmtLoad(cmp.LoadEnd))
	head := "|"
	if cmp.Runs > 1 {
		head = fmt.Sprintf("| median of %d runs", cmp.Runs)
	}
	sep := "|---"
	for _, t := range cmp.Targets {
		head += " | " + columns[t]
		sep += "|---"
	}
	fmt.Fprintln(w, head+" |")
	fmt.Fprintln(w, sep+"|")
	for _, row := range tableRows {
		line := "| " + row.name
		for _, t := range cmp.Targets {
			var per [][]float64
			for _, m := range cmp.All {
				if m.Target == t && m.Error == "" {
					per = append(per, row.vals(m))
				}
			}
			if len(per) == 0 {
				line += " | failed"
				continue
			}
			med := make([]float64, len(per[0]))
			for i := range med {
				col := make([]float64, len(per))
				for j := range per {
					col[j] = per[j][i]
				}
				med[i] = median(col)
			}
			line += " | " + row.format(med)
		}
		fmt.Fprintln(w, line+" |")
	}
	// The first failures and error samples, so that a reader sees what
	// went wrong without the JSON.
	shown := 0
	for _, m := range cmp.All {
		msgs := slices.Concat(m.Report.ErrorSamples, m.Commands.ErrorSamples)
		if m.Error != "" {
			msgs = append([]string{m.Error}, msgs...)
		}
		if m.Note != "" {
			msgs = append([]string{"note: " + m.Note}, msgs...)
		}
		for _, msg := range msgs {
			if shown == 0 {
				fmt.Fprintln(w)
			}
			if shown++; shown > 10 {
				return
			}
			fmt.Fprintf(w, "- %s, run %d: %s\n", m.Target, m.Run, msg)
		}
	}
}

// machine describes where the tool runs.
func machine() string {
	model := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = ", " + strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil {
					mem = fmt.Sprintf(", %.1f GiB RAM", kb/(1<<20))
				}
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs%s%s, %s; load generator and server share the machine", runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), model, mem, runtime.Version())
}

// loadavg returns the machine's load average, zero where /proc cannot tell.
func loadavg() [3]float64 {
	var la [3]float64
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return la
	}
	f := strings.Fields(string(data))
	for i := 0; i < 3 && i < len(f); i++ {
		la[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return la
}

func fmtLoad(la [3]float64) string {
	return fmt.Sprintf("%.2f %.2f %.2f", la[0], la[1], la[2])
}
