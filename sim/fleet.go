package sim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// FleetConfig configures a fleet of simulated chargers.
type FleetConfig struct {
	// URL is the CSMS endpoint without the charger id.
	URL string
	// Chargers are the chargers to run (for example Network.Chargers).
	Chargers []ChargerSpec
	// ConnectRate bounds how many chargers start per second (default 50).
	ConnectRate float64
	// Validator is shared by every charger; nil compiles one.
	Validator *ocpp.Validator
	Logger    *slog.Logger
	// Tune, when set, adjusts each charger's configuration before it is
	// created (timeouts, settings, OnFrame).
	Tune func(*ChargerConfig)
}

// Fleet runs many simulated chargers against one CSMS.
type Fleet struct {
	cfg      FleetConfig
	chargers []*Charger
	byID     map[string]*Charger
	started  time.Time

	mu        sync.Mutex
	lastAt    time.Time
	lastTotal int
}

// FleetStats aggregates the counters of a fleet.
type FleetStats struct {
	Chargers  int
	Started   int
	Connected int
	// Charging counts the connectors delivering energy now (status
	// Charging with power above 0).
	Charging int
	Counters Counters
}

// NewFleet creates the chargers of cfg; Run connects them.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.ConnectRate <= 0 {
		cfg.ConnectRate = 50
	}
	if cfg.Validator == nil {
		v, err := ocpp.NewValidator()
		if err != nil {
			return nil, fmt.Errorf("sim: fleet validator: %w", err)
		}
		cfg.Validator = v
	}
	f := &Fleet{cfg: cfg, byID: map[string]*Charger{}}
	for _, spec := range cfg.Chargers {
		cc := spec.Config(cfg.URL)
		cc.Validator, cc.Logger = cfg.Validator, cfg.Logger
		if cfg.Tune != nil {
			cfg.Tune(&cc)
		}
		if f.byID[cc.ID] != nil {
			return nil, fmt.Errorf("sim: fleet has charger %s twice", cc.ID)
		}
		c := NewCharger(cc)
		f.chargers = append(f.chargers, c)
		f.byID[cc.ID] = c
	}
	return f, nil
}

// Chargers returns the fleet's chargers.
func (f *Fleet) Chargers() []*Charger { return append([]*Charger(nil), f.chargers...) }

// Charger returns the charger with the given id, or nil.
func (f *Fleet) Charger(id string) *Charger { return f.byID[id] }

// Run starts the chargers at no more than ConnectRate per second and runs
// them until ctx ends; it returns when every charger has stopped.
func (f *Fleet) Run(ctx context.Context) error {
	f.mu.Lock()
	f.started = time.Now()
	f.mu.Unlock()
	interval := time.Duration(float64(time.Second) / f.cfg.ConnectRate)
	tick := time.NewTicker(max(interval, time.Microsecond))
	defer tick.Stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(f.chargers))
	for i, c := range f.chargers {
		if i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx); err != nil {
				errs <- fmt.Errorf("charger %s: %w", c.ID(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return nil
}

// Stats returns the fleet's aggregated state.
func (f *Fleet) Stats() FleetStats {
	st := FleetStats{Chargers: len(f.chargers)}
	for _, c := range f.chargers {
		s := c.State()
		if s.Counters.Connects > 0 || s.Counters.ConnectFailures > 0 {
			st.Started++
		}
		if s.Connected {
			st.Connected++
		}
		for _, cn := range s.Connectors {
			// Delivering energy now: not a stale, suspended or
			// faulted transaction showing 0 W.
			if cn.Status == chargedesk.StatusCharging && cn.PowerW > 0 {
				st.Charging++
			}
		}
		k := &st.Counters
		o := s.Counters
		k.Connects += o.Connects
		k.Disconnects += o.Disconnects
		k.ConnectFailures += o.ConnectFailures
		k.Boots += o.Boots
		k.CallsSent += o.CallsSent
		k.CallsReceived += o.CallsReceived
		k.CallErrorsReceived += o.CallErrorsReceived
		k.CallErrorsSent += o.CallErrorsSent
		k.Timeouts += o.Timeouts
		k.InvalidOutgoing += o.InvalidOutgoing
		k.InvalidIncoming += o.InvalidIncoming
		k.FramesIn += o.FramesIn
		k.FramesOut += o.FramesOut
		k.TransactionsStarted += o.TransactionsStarted
		k.TransactionsStopped += o.TransactionsStopped
		k.MeterValuesSent += o.MeterValuesSent
	}
	return st
}

// Summary returns a one-line live summary: chargers connected, messages
// per second since the previous Summary (or since Run began), transactions
// and errors.
func (f *Fleet) Summary() string {
	st := f.Stats()
	total := st.Counters.FramesIn + st.Counters.FramesOut
	now := time.Now()
	f.mu.Lock()
	since := f.lastAt
	if since.IsZero() {
		since = f.started
	}
	rate := 0.0
	if d := now.Sub(since).Seconds(); !since.IsZero() && d > 0 {
		rate = float64(total-f.lastTotal) / d
	}
	f.lastAt, f.lastTotal = now, total
	f.mu.Unlock()
	errors := st.Counters.CallErrorsReceived + st.Counters.Timeouts + st.Counters.InvalidOutgoing +
		st.Counters.InvalidIncoming + st.Counters.ConnectFailures
	return fmt.Sprintf("chargers %d/%d connected, %.1f msg/s, %d charging, %d tx started, %d errors (%d connect failures, %d timeouts, %d call errors, %d invalid)",
		st.Connected, st.Chargers, rate, st.Charging, st.Counters.TransactionsStarted, errors,
		st.Counters.ConnectFailures, st.Counters.Timeouts, st.Counters.CallErrorsReceived,
		st.Counters.InvalidOutgoing+st.Counters.InvalidIncoming)
}
