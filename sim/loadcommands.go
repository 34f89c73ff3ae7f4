package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// CommandLoadConfig configures RunCommands: operator commands sent at a
// steady rate to the load's chargers in turn, from wherever the central
// system takes them (its bus, its policy gateway, another central system's
// API), each round trip measured around Send.
type CommandLoadConfig struct {
	// Rate is the commands started per second.
	Rate float64
	// Duration is how long commands are started; RunCommands then waits
	// for the ones in progress.
	Duration time.Duration
	// Chargers and IDPrefix name the chargers commands go to, in turn:
	// IDPrefix (default DefaultLoadIDPrefix) plus a six-digit number from
	// 000000 to Chargers-1, as RunLoad names them.
	Chargers int
	IDPrefix string
	// Timeout bounds each command (default DefaultLoadCallTimeout); Send
	// is given a second more.
	Timeout time.Duration
	// Send sends one command to the charger and returns once it is
	// answered: nil when the charger accepted it.
	Send func(ctx context.Context, chargerID string) error
}

// CommandLoadReport is what RunCommands measured.
type CommandLoadReport struct {
	Sent int64
	// Latency is the round trips of the commands answered without error.
	Latency Latency
	// Errors counts the commands that failed and the ones not sent
	// because maxCommandsInFlight were in progress; ErrorSamples holds the
	// first few.
	Errors       int64
	ErrorSamples []string
}

// RunCommands sends commands through cfg.Send at cfg.Rate for
// cfg.Duration, at most maxCommandsInFlight at once, and reports their
// round trips once the last one is over. Commands in progress when ctx
// ends still get their timeout.
func RunCommands(ctx context.Context, cfg CommandLoadConfig) (CommandLoadReport, error) {
	if cfg.Rate <= 0 || cfg.Rate > 1e6 || cfg.Chargers < 1 || cfg.Send == nil || cfg.Duration < 0 {
		return CommandLoadReport{}, chargedesk.Errorf(chargedesk.EINVALID, "load: commands need a rate (0 to 1e6), chargers, a duration and a sender")
	}
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = DefaultLoadIDPrefix
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultLoadCallTimeout
	}
	var (
		rep     CommandLoadReport
		mu      sync.Mutex
		samples []time.Duration
		wg      sync.WaitGroup
	)
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		rep.Errors++
		if len(rep.ErrorSamples) < 5 {
			rep.ErrorSamples = append(rep.ErrorSamples, msg)
		}
	}
	sem := make(chan struct{}, maxCommandsInFlight)
	steady, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	next := 0
	pace(steady, cfg.Rate, func() {
		id := fmt.Sprintf("%s%06d", cfg.IDPrefix, next%cfg.Chargers)
		next++
		select {
		case sem <- struct{}{}:
		default:
			fail(fmt.Sprintf("commands: %d already in progress", maxCommandsInFlight))
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeout+time.Second)
			defer cancel()
			start := time.Now()
			err := cfg.Send(sctx, id)
			d := time.Since(start)
			if err != nil {
				fail(fmt.Sprintf("command to %s: %v", id, err))
				return
			}
			mu.Lock()
			samples = append(samples, d)
			mu.Unlock()
		}()
		mu.Lock()
		rep.Sent++
		mu.Unlock()
	})
	wg.Wait()
	rep.Latency = Summarize(samples)
	return rep, nil
}

// CommanderSend returns a CommandLoadConfig.Send that sends
// GetLocalListVersion through c, bounded by timeout, and wants it Accepted.
func CommanderSend(c chargedesk.Commander, timeout time.Duration) func(ctx context.Context, chargerID string) error {
	return func(ctx context.Context, chargerID string) error {
		cmd := chargedesk.Command{ID: chargedesk.NewCommandID(), Kind: chargedesk.CmdGetLocalListVersion, ChargerID: chargerID,
			Timeout: timeout, Actor: "load", Reason: "load test"}
		res, err := c.Send(ctx, cmd)
		if err != nil {
			return err
		}
		if res.Status != chargedesk.ResultAccepted {
			return fmt.Errorf("%s %s", res.Status, res.Detail)
		}
		return nil
	}
}
