// Command loadcompare measures chargedesk, the ocpp-go central system and a
// floor responder side by side: the same load generator (sim.RunLoad, as
// "chargedesk sim -load" runs it) with the same parameters, OCPP 1.6, one
// central system after the other, each in a child process of its own so
// that its memory, goroutines and CPU are its own. It prints a markdown
// table with the three side by side and the machine's load average.
//
//	go run ./tools/loadcompare -chargers 10000 -duration 15s
//
// The servers:
//
//   - chargedesk: the real central system with its store and bus, as "sim
//     -load -self -split" starts it (internal/loadserver: temporary SQLite
//     directory, embedded NATS, chargers registered); operator commands go
//     through the policy gateway (policy check, audit, bus) or, with
//     -commander bus, the bus alone.
//   - ocppgo: the OCPP 1.6 central system of github.com/lorenzodonini/ocpp-go
//     as its users start it (ocpp16.NewCentralSystem with its default
//     WebSocket server), accepting every charger; commands are its
//     GetLocalListVersion requests.
//   - floor: a minimal coder/websocket server that answers Boot, Heartbeat,
//     StatusNotification and MeterValues with fixed bytes and sends
//     commands as one written frame: what the machine itself costs.
//
// Every command is a GetLocalListVersion CALL from the server to a charger,
// its round trip measured in the server's process from the request to the
// answer, RunCommands pacing them the same way for all three.
//
// The tool keeps ocpp-go out of the chargedesk binary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/chargedesk/chargedesk/sim"
)

// Targets, in the order they run.
var allTargets = []string{"chargedesk", "ocppgo", "floor"}

// options are the tool's flags.
type options struct {
	chargers                  int
	connectRate, hbRate       float64
	cmdRate                   float64
	duration, callTimeout     time.Duration
	pause                     time.Duration
	targets                   []string
	runs                      int
	commander, prefix, jsonTo string
	serve                     string // hidden: run one server, driven on standard input/output
}

const usage = `loadcompare measures chargedesk, the ocpp-go central system and a floor
responder under the same OCPP 1.6 load, one after the other, each server in a
child process of its own, and prints a markdown table side by side.

Usage:
  go run ./tools/loadcompare [flags]

`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "loadcompare:", err)
		os.Exit(1)
	}
}

// run parses args and runs the comparison, or one server when the hidden
// -serve flag is given (a child process of the comparison).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	if o.serve != "" {
		return serveChild(ctx, o, stdin, stdout, stderr)
	}
	cmp, err := compare(ctx, o, stderr)
	if o.jsonTo != "" && len(cmp.All) > 0 {
		data, jerr := json.MarshalIndent(cmp, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(o.jsonTo, append(data, '\n'), 0o644)
		}
		err = errors.Join(err, jerr)
	}
	if len(cmp.All) > 0 {
		writeTable(stdout, cmp)
	}
	return err
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.IntVar(&o.chargers, "chargers", 10000, "number of chargers (1 to 200000)")
	fs.Float64Var(&o.connectRate, "rate", sim.DefaultLoadConnectRate, "new connections per second")
	fs.Float64Var(&o.hbRate, "hb-rate", 1000, "Heartbeats per second across the fleet")
	fs.Float64Var(&o.cmdRate, "commands-rate", 20, "operator commands (GetLocalListVersion) per second")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "length of the steady phase, after the connect phase")
	fs.DurationVar(&o.callTimeout, "call-timeout", sim.DefaultLoadCallTimeout, "bound of a dial, a boot and each round trip")
	fs.DurationVar(&o.pause, "pause", 2*time.Second, "pause between two measurements, for the machine to settle")
	only := fs.String("only", strings.Join(allTargets, ","), "comma-separated servers to measure: chargedesk, ocppgo, floor")
	fs.IntVar(&o.runs, "runs", 1, "measure each server this many times (interleaved) and report the median per cell")
	fs.StringVar(&o.commander, "commander", "gateway", "chargedesk's operator commands: gateway (policy and audit, the operator path) or bus")
	fs.StringVar(&o.prefix, "id-prefix", sim.DefaultLoadIDPrefix, "charger id prefix")
	fs.StringVar(&o.jsonTo, "json", "", "also write every measurement as JSON to this file")
	fs.StringVar(&o.serve, "serve", "", "internal: run this server alone, driven on standard input/output")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for _, t := range strings.Split(*only, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(allTargets, t) {
			return o, fmt.Errorf("-only: unknown server %q (want %s)", t, strings.Join(allTargets, ", "))
		}
		if !slices.Contains(o.targets, t) {
			o.targets = append(o.targets, t)
		}
	}
	switch {
	case o.serve != "" && !slices.Contains(allTargets, o.serve):
		return o, fmt.Errorf("-serve: unknown server %q", o.serve)
	case o.chargers < 1 || o.chargers > sim.MaxLoadChargers:
		return o, fmt.Errorf("-chargers must be between 1 and %d", sim.MaxLoadChargers)
	case o.runs < 1 || o.runs > 100:
		return o, errors.New("-runs must be between 1 and 100")
	case o.connectRate <= 0 || o.hbRate < 0 || o.cmdRate < 0:
		return o, errors.New("-rate must be positive, -hb-rate and -commands-rate not negative")
	case o.duration <= 0 || o.callTimeout <= 0 || o.pause < 0:
		return o, errors.New("-duration and -call-timeout must be positive, -pause not negative")
	case o.commander != "gateway" && o.commander != "bus":
		return o, fmt.Errorf("-commander must be gateway or bus, not %q", o.commander)
	}
	return o, nil
}
