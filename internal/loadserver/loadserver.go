// Package loadserver starts chargedesk in-process for a load run: the real
// central system ("chargedesk serve") on a temporary SQLite directory and an
// embedded NATS, the load's chargers registered in bulk. Both "chargedesk
// sim -load -self" and tools/loadcompare measure it.
package loadserver

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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// Config says what to start.
type Config struct {
	// Chargers are registered Accepted, without a password (the load runs
	// on loopback only): IDPrefix plus a six-digit number from 000000.
	Chargers int
	IDPrefix string
	// Node names the central system.
	Node string
	// Upstream, when set, puts the central system in proxy mode in front
	// of this OCPP endpoint (serve -upstream).
	Upstream string
	Logger   *slog.Logger
}

// Server is chargedesk started in-process for a load run.
type Server struct {
	Registry *prometheus.Registry // its metrics
	Store    *sqlstore.Store
	Bus      *natsbus.Bus
	Central  *csms.Server
	// URL is the OCPP endpoint without the charger id, on loopback.
	URL string
	// RegisterTime is how long registering the chargers took.
	RegisterTime time.Duration

	log     *slog.Logger
	dir     string
	http    *http.Server
	stopRun context.CancelFunc
	runDone chan error
}

// Start starts a central system as "chargedesk serve" would, with a
// temporary SQLite directory, an embedded NATS and cfg.Chargers chargers
// registered, serving on a loopback port.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{runDone: make(chan error, 1), Registry: prometheus.NewRegistry(), log: log}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
		}
	}()
	if s.dir, err = os.MkdirTemp("", "chargedesk-load-"); err != nil {
		return nil, err
	}
	if s.Store, err = sqlstore.Open(ctx, "sqlite://"+filepath.Join(s.dir, "chargedesk.db"), sqlstore.WithLogger(log)); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	start := time.Now()
	if err := RegisterChargers(ctx, s.Store, cfg.Chargers, cfg.IDPrefix); err != nil {
		return nil, err
	}
	s.RegisterTime = time.Since(start)
	validator, err := ocpp.NewValidator()
	if err != nil {
		return nil, err
	}
	if s.Bus, err = natsbus.Open(ctx, natsbus.Config{Name: cfg.Node, Logger: log,
		OnReplaced: func(id string) { s.Central.DropCharger(id) }}); err != nil {
		return nil, err
	}
	if s.Central, err = csms.New(ctx, csms.Config{Node: cfg.Node, Store: s.Store, Validator: validator, Bus: s.Bus,
		Logger: log, AllowUnauthenticated: true, Upstream: cfg.Upstream, Registerer: s.Registry}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.URL = "ws://" + ln.Addr().String() + "/ocpp"
	s.http = &http.Server{Handler: s.Central.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopRun = stop
	go func() { s.runDone <- s.Central.Run(runCtx) }()
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Commander returns what sends the operator commands: "gateway" (the
// policy gateway: policy check and audit, then the bus: the operator's
// path) or "bus" (the bus alone).
func (s *Server) Commander(kind string) (chargedesk.Commander, error) {
	switch kind {
	case "gateway":
		now := time.Now
		return &policy.Gateway{Policy: &policy.Rules{Store: s.Store, Now: now}, Audit: s.Store, Next: s.Bus, Logger: s.log, Now: now}, nil
	case "bus":
		return s.Bus, nil
	}
	return nil, fmt.Errorf("the commander must be gateway or bus, not %q", kind)
}

// RegisterChargers registers n chargers Accepted (IDPrefix plus a six-digit
// number from 000000), a few writers at once; ones already there are kept.
func RegisterChargers(ctx context.Context, store chargedesk.Store, n int, prefix string) error {
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

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	var errs []error
	if s.http != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.http.Shutdown(sctx)
		cancel()
	}
	if s.Central != nil {
		s.Central.Close()
		if s.stopRun != nil {
			s.stopRun()
			errs = append(errs, <-s.runDone)
		}
	}
	if s.Bus != nil {
		errs = append(errs, s.Bus.Close())
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}
