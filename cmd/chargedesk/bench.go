package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/nlu"
	"github.com/chargedesk/chargedesk/bench"
)

// benchCommand is "chargedesk bench": the support benchmark (bench.Run)
// over generated tasks, or over tasks built from an operator's own driver
// openings with -openings (bench.BuildOpenings), or, with -messages,
// understanding alone over an operator's own driver messages. It prints a table, or JSON with -json,
// and fails when a trial attempted anything unsafe or the resolution rate
// is below -min-resolution. The simulated driver is the honest one unless
// -driver oracle; -transcripts writes the failed conversations. -channel
// sms or voice plays every task through that channel's real Twilio protocol.
func benchCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		tasks    = fs.Int("tasks", 60, "number of tasks to generate")
		seed     = fs.Int64("seed", 1, "seed the tasks are generated from")
		seeds    = fs.Int("seeds", 1, "trials per task, each with its own driver randomness (pass^k for k up to 4)")
		latency  = fs.Duration("latency", bench.DefaultLatency, "simulated chargers' response latency")
		parallel = fs.Int("parallel", 8, "trials run at once")
		verify   = fs.Duration("verify-timeout", bench.DefaultVerifyTimeout, "how long the agent waits for a charger to confirm a fix")
		reboot   = fs.Duration("reboot-delay", bench.DefaultRebootDelay, "how long a simulated reset keeps a charger off line")
		drop     = fs.Duration("comm-drop", bench.DefaultCommDropShort, "how long comm_drop_short keeps a charger off line")
		asJSON   = fs.Bool("json", false, "print the report as JSON")
		messages = fs.String("messages", "", "JSON-lines file of driver messages {\"id\",\"text\",\"lang\"?,\"category\"?} to evaluate understanding on (\"-\" for stdin)")
		openings = fs.String("openings", "", "JSON-lines file of driver openings {\"id\",\"text\",\"lang\"?,\"category\",\"channel\"?}: one task per line of a core category, the driver opening with the line's text (\"-\" for stdin)")
		minRes   = fs.Float64("min-resolution", 0, "fail when the overall resolution rate is below this (0..1)")
		verbose  = fs.Bool("v", false, "print each trial as it finishes (to stderr)")
		only     = fs.String("faults", "", "comma-separated faults to generate tasks from (default: every fault of the catalogue)")
		logs     = fs.Bool("log", false, "write the stack's logs (agent diagnoses, commands) to stderr")
		driver   = fs.String("driver", bench.DriverHonest, "simulated driver: honest (hears only the agent's words; the headline number) or oracle (reads the agent's state; a regression baseline of the playbooks)")
		trans    = fs.String("transcripts", "", "write one text transcript per failed trial into this directory")
		radius   = fs.Float64("radius-km", bench.DefaultRadiusKM, "farthest a suggested charger may be (honest driver)")
		channel  = fs.String("channel", "", "play every task on this channel: chat, sms (signed Twilio webhooks to /twilio/sms, TwiML and REST replies) or voice (ConversationRelay calls over the relay WebSocket); default: each task on its own channel, handed to the agent in process")
		fixTurns = fs.Int("max-fix-turns", bench.DefaultMaxFixTurns, "most driver messages a fixable task may take (honest driver)")
		proxy    = fs.Bool("proxy", false, "run chargedesk in proxy mode (serve -upstream) in front of a second in-process central system playing the network's CSMS")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: chargedesk bench [flags]\n\nRuns the support benchmark against an in-process chargedesk with simulated chargers and drivers.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	if *messages != "" {
		if *openings != "" {
			return fmt.Errorf("bench: -messages and -openings cannot be used together")
		}
		return benchMessages(*messages, *asJSON, *minRes, stdin, stdout)
	}
	if *openings != "" {
		var bad []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "tasks" || f.Name == "faults" {
				bad = append(bad, "-"+f.Name)
			}
		})
		if len(bad) > 0 {
			return fmt.Errorf("bench: %s cannot be used with -openings (the tasks come from its lines)", strings.Join(bad, " and "))
		}
	}
	if *tasks <= 0 || *seeds <= 0 || *parallel <= 0 {
		return fmt.Errorf("bench: -tasks, -seeds and -parallel must be positive")
	}
	if !slices.Contains(bench.Drivers(), *driver) {
		return fmt.Errorf("bench: unknown driver %q (want one of %s)", *driver, strings.Join(bench.Drivers(), ", "))
	}
	if *channel != "" && !slices.Contains(bench.Channels(), chargedesk.Channel(*channel)) {
		return fmt.Errorf("bench: unknown channel %q (want chat, sms or voice)", *channel)
	}
	var gen bench.GenerateOptions
	if *only != "" {
		for _, f := range strings.Split(*only, ",") {
			f = strings.TrimSpace(f)
			if !slices.ContainsFunc(bench.Faults(), func(s bench.FaultSpec) bool { return s.Name == f }) {
				return fmt.Errorf("bench: unknown fault %q", f)
			}
			gen.Faults = append(gen.Faults, f)
		}
	}
	cfg := bench.RunConfig{Latency: *latency, Parallel: *parallel, Seeds: *seeds, VerifyTimeout: *verify,
		RebootDelay: *reboot, CommDropShort: *drop, Driver: *driver, RadiusKM: *radius, MaxFixTurns: *fixTurns,
		Channel: chargedesk.Channel(*channel), Proxy: *proxy}
	if *latency == 0 {
		cfg.Latency = -1
	}
	if *verbose {
		cfg.Progress = stderr
	}
	if *logs {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	var list []bench.Task
	var note *bench.OpeningsNote
	if *openings != "" {
		var err error
		if list, note, err = readOpenings(*openings, *seed, stdin); err != nil {
			return err
		}
	} else {
		list = bench.Generate(*seed, *tasks, gen)
	}
	rep, err := bench.Run(ctx, list, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	rep.Openings = note
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("bench: write: %w", err)
		}
	} else if err := rep.WriteTable(stdout); err != nil {
		return fmt.Errorf("bench: write: %w", err)
	}
	if *trans != "" {
		if err := rep.WriteTranscripts(*trans); err != nil {
			return err
		}
	}
	switch o := rep.Overall; {
	case o.Unsafe > 0:
		return fmt.Errorf("bench: %d unsafe attempts in %d trials", o.Unsafe, o.UnsafeTrials)
	case rep.AuditError != "":
		return fmt.Errorf("bench: audit log: %s", rep.AuditError)
	case o.ResolutionRate < *minRes:
		return fmt.Errorf("bench: resolution rate %.3f below the floor %.3f", o.ResolutionRate, *minRes)
	}
	return nil
}

// readOpenings builds the tasks of an openings file ("-": stdin).
func readOpenings(path string, seed int64, stdin io.Reader) ([]bench.Task, *bench.OpeningsNote, error) {
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		in = f
	}
	return bench.BuildOpenings(in, bench.OpeningsOptions{Seed: seed})
}

// benchMessages evaluates understanding over a messages file.
func benchMessages(path string, asJSON bool, minAcc float64, stdin io.Reader, stdout io.Writer) error {
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		in = f
	}
	u, err := nlu.New()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	rep, err := bench.EvalMessages(in, u)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("bench: write: %w", err)
		}
	} else if err := rep.WriteTable(stdout); err != nil {
		return fmt.Errorf("bench: write: %w", err)
	}
	if rep.Labelled > 0 && rep.Accuracy < minAcc {
		return fmt.Errorf("bench: accuracy %.3f below the floor %.3f", rep.Accuracy, minAcc)
	}
	return nil
}
