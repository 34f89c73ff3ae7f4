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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sim"
)

const simUsage = `chargedesk sim runs simulated OCPP chargers against any central system.

Usage:
  chargedesk sim -url ws://HOST:PORT/ocpp [-chargers N] [-protocol 1.6|2.0.1|mix] [-faults LIST] [-seed N]
  chargedesk sim -load ...   (load mode: see chargedesk sim -load -h)

-faults is a comma-separated list of NAME[@CHARGER[:CONNECTOR]]: a charger fault of the
catalogue, given to a chosen charger (connector 1 by default) or, without @, to the next
healthy charger. The chargers use the ids and passwords that -print lists: register them
at the central system first (chargedesk: POST /api/v1/chargers with id and password; a
chargedesk serving with -auto-register keeps unknown chargers Pending until an operator
accepts them with PATCH /api/v1/chargers/{id} {"bootStatus":"Accepted"}).

While it runs, type commands on standard input:
  fault CHARGER CONNECTOR NAME [IDTAG]   inject a fault      clear CHARGER CONNECTOR NAME
  plug CHARGER CONNECTOR                 unplug CHARGER CONNECTOR
  tap CHARGER CONNECTOR IDTAG            stop CHARGER CONNECTOR
  release-vehicle-lock CHARGER CONNECTOR status [CHARGER]
  faults                                 help
`

// simCommand runs simulated chargers against any CSMS, with a live one-line
// summary and commands on standard input.
func simCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if slices.Contains(args, "-load") || slices.Contains(args, "--load") {
		rest := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-load" || a == "--load" })
		return runLoad(ctx, rest, getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, simUsage); fs.PrintDefaults() }
	url := fs.String("url", "", "OCPP endpoint of the central system, without the charger id (ws:// or wss://)")
	n := fs.Int("chargers", 10, "number of chargers (1 to 10000)")
	protocol := fs.String("protocol", "mix", "1.6, 2.0.1 or mix")
	faults := fs.String("faults", "", "faults to inject at start: NAME[@CHARGER[:CONNECTOR]],...")
	seed := fs.Int64("seed", 1, "seed of the generated chargers")
	rate := fs.Float64("rate", 50, "new connections per second")
	printOnly := fs.Bool("print", false, "print the chargers' ids, passwords and protocols, then exit")
	every := fs.Duration("summary", time.Second, "how often to print the summary line (when it changed)")
	logLevel := fs.String("log-level", "warn", "log level of the chargers' own log on stderr (debug, info, warn, error)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *every <= 0 {
		return errors.New("-summary must be a positive duration")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	if *n < 1 || *n > 10000 {
		return errors.New("-chargers must be from 1 to 10000")
	}
	opts := sim.NetworkOptions{}
	switch *protocol {
	case "1.6":
		opts.Share201 = -1
	case "2.0.1":
		opts.Share201 = 1
	case "mix":
	default:
		return fmt.Errorf("-protocol %q is not 1.6, 2.0.1 or mix", *protocol)
	}
	network := sim.GenerateNetworkWith(*seed, *n, opts)
	if *printOnly {
		for _, c := range network.Chargers {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", c.ID, c.Password, c.Protocol)
		}
		return nil
	}
	if !strings.HasPrefix(*url, "ws://") && !strings.HasPrefix(*url, "wss://") {
		return errors.New("-url must be the ws:// or wss:// OCPP endpoint, e.g. ws://localhost:9000/ocpp")
	}
	// Connection failures (401, 404, refused) are logged, so that a summary
	// counting them is not the only clue.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fleet, err := sim.NewFleet(sim.FleetConfig{URL: strings.TrimSuffix(*url, "/"), Chargers: network.Chargers, ConnectRate: *rate, Logger: logger})
	if err != nil {
		return err
	}
	control := newFleetControl(fleet, nil, time.Now)
	if err := injectFaultList(ctx, control, network, *faults, stdout); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fleet.Run(ctx) }()
	go readSimCommands(ctx, control, stdin, stdout)

	t := time.NewTicker(*every)
	defer t.Stop()
	last := ""
	for {
		select {
		case err := <-done:
			fmt.Fprintln(stdout, fleet.Summary())
			if errors.Is(err, context.Canceled) {
				err = nil
			}
			return err
		case <-t.C:
			// The rate changes every time; print when the rest did.
			line := fleet.Summary()
			if key := summaryKey(line); key != last {
				fmt.Fprintln(stdout, line)
				last = key
			}
		}
	}
}

// summaryKey is the summary without its message rate.
func summaryKey(line string) string {
	if i := strings.Index(line, " msg/s"); i > 0 {
		if j := strings.LastIndex(line[:i], ", "); j > 0 {
			return line[:j] + line[i+len(" msg/s"):]
		}
	}
	return line
}

// injectFaultList parses and injects -faults.
func injectFaultList(ctx context.Context, control *fleetControl, network sim.Network, list string, w io.Writer) error {
	if list == "" {
		return nil
	}
	next := 0
	taken := map[string]bool{}
	for _, item := range strings.Split(list, ",") {
		name, where, _ := strings.Cut(strings.TrimSpace(item), "@")
		fault, err := parseFault(name)
		if err != nil {
			return err
		}
		if !sim.IsChargerFault(fault) {
			return fmt.Errorf("%s lives in the central system's data, not in a charger: inject it there (chargedesk demo or its operator API)", name)
		}
		id, connector := where, 1
		if c, conn, ok := strings.Cut(where, ":"); ok {
			id = c
			if connector, err = strconv.Atoi(conn); err != nil {
				return fmt.Errorf("-faults %q: connector must be a number", item)
			}
		}
		if id == "" {
			for next < len(network.Chargers) && taken[network.Chargers[next].ID] {
				next++
			}
			if next == len(network.Chargers) {
				return errors.New("-faults: more faults than healthy chargers")
			}
			id = network.Chargers[next].ID
		}
		if err := control.InjectFault(ctx, id, connector, name, ""); err != nil {
			return fmt.Errorf("-faults %q: %v", item, chargedesk.ErrorMessage(err))
		}
		taken[id] = true
		fmt.Fprintf(w, "fault %s injected into %s connector %d\n", name, id, connector)
	}
	return nil
}

// readSimCommands reads commands from stdin until it closes or ctx ends.
func readSimCommands(ctx context.Context, control *fleetControl, stdin io.Reader, w io.Writer) {
	if stdin == nil {
		return
	}
	if f, ok := stdin.(*os.File); ok && f == nil {
		return
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		if ctx.Err() != nil {
			return
		}
		out, err := simLine(ctx, control, strings.Fields(sc.Text()))
		if err != nil {
			fmt.Fprintln(w, "error:", chargedesk.ErrorMessage(err))
			continue
		}
		if out != "" {
			fmt.Fprintln(w, out)
		}
	}
}

// simLine runs one command of the sim prompt.
func simLine(ctx context.Context, control *fleetControl, f []string) (string, error) {
	if len(f) == 0 {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn := func(i int) (int, error) {
		if len(f) <= i {
			return 0, chargedesk.Errorf(chargedesk.EINVALID, "%s needs a connector", f[0])
		}
		n, err := strconv.Atoi(f[i])
		if err != nil {
			return 0, chargedesk.Errorf(chargedesk.EINVALID, "connector %q is not a number", f[i])
		}
		return n, nil
	}
	arg := func(i int) string {
		if len(f) > i {
			return f[i]
		}
		return ""
	}
	switch f[0] {
	case "help":
		return strings.TrimSpace(simUsage[strings.Index(simUsage, "While it runs"):]), nil
	case "faults":
		return strings.Join(control.Faults(), " "), nil
	case "status":
		st, err := control.Status(ctx, arg(1))
		if err != nil {
			return "", err
		}
		b, err := json.MarshalIndent(st, "", "  ")
		return string(b), err
	case "fault", "clear":
		c, err := conn(2)
		if err != nil {
			return "", err
		}
		if arg(3) == "" {
			return "", chargedesk.Errorf(chargedesk.EINVALID, "%s needs a fault name", f[0])
		}
		if f[0] == "fault" {
			err = control.InjectFault(ctx, arg(1), c, arg(3), arg(4))
		} else {
			err = control.ClearFault(ctx, arg(1), c, arg(3), arg(4))
		}
		return "ok", err
	case "plug", "unplug", "tap", "stop", "release-vehicle-lock":
		c, err := conn(2)
		if err != nil {
			return "", err
		}
		return control.Act(ctx, arg(1), c, f[0], arg(3))
	}
	return "", chargedesk.Errorf(chargedesk.EINVALID, "unknown command %q (type help)", f[0])
}
