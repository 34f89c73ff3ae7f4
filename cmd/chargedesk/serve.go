package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serve runs the central system and the operator API until ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if len(cfg.APIKeys) == 0 {
		log.Warn("no operator API keys configured (CHARGEDESK_API_KEYS): the operator API will refuse every request")
	}
	return runServer(ctx, cfg, log, stdout)
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// runServer wires store, bus, central system, policy gateway and API, serves
// until ctx ends and shuts down in reverse order.
func runServer(ctx context.Context, cfg *config, log *slog.Logger, stdout io.Writer) error {
	now := time.Now
	dsn, err := cfg.databaseDSN()
	if err != nil {
		return err
	}
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer store.Close()

	validator, err := ocpp.NewValidator()
	if err != nil {
		return fmt.Errorf("load OCPP schemas: %w", err)
	}
	// The bus tells this node when a charger it holds has reconnected to
	// another node; central is set below, before any charger can connect.
	var central *csms.Server
	bus, err := natsbus.Open(ctx, natsbus.Config{URL: cfg.NATSURL, Name: cfg.Node, Logger: log,
		OnReplaced: func(id string) { central.DropCharger(id) }})
	if err != nil {
		return fmt.Errorf("open bus: %w", err)
	}
	defer bus.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	central, err = csms.New(ctx, csms.Config{
		Node: cfg.Node, Store: store, Validator: validator, Bus: bus, Logger: log, Now: now,
		Registerer: reg, HeartbeatInterval: cfg.HeartbeatInterval,
		AutoRegister: cfg.AutoRegister, AllowUnauthenticated: cfg.AllowUnauthenticated,
	})
	if err != nil {
		return err
	}
	gateway := &policy.Gateway{
		Policy: &policy.Rules{Store: store, Now: now},
		Audit:  store, Next: bus, Logger: log, Now: now,
	}
	api, err := httpapi.New(httpapi.Config{
		Store: store, Commands: gateway, APIKeys: cfg.APIKeys, Logger: log, Now: now,
		Registerer: reg, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Ready: func(ctx context.Context) error {
			if err := store.Ping(ctx); err != nil {
				return err
			}
			return bus.Ping(ctx)
		},
	})
	if err != nil {
		return err
	}

	apiLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen for the operator API: %w", err)
	}
	ocppLn, err := net.Listen("tcp", cfg.OCPPAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("listen for OCPP: %w", err)
	}
	scheme := "ws"
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			apiLn.Close()
			ocppLn.Close()
			return fmt.Errorf("load OCPP TLS certificate: %w", err)
		}
		ocppLn = tls.NewListener(ocppLn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "wss"
	}
	// WriteTimeout leaves room for a command's longest deadline.
	apiSrv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: chargedesk.MaxCommandTimeout + 30*time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ocppSrv := &http.Server{Handler: central.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	runDone := make(chan error, 1)
	go func() { runDone <- central.Run(runCtx) }()
	errc := make(chan error, 2)
	go func() { errc <- apiSrv.Serve(apiLn) }()
	go func() { errc <- ocppSrv.Serve(ocppLn) }()

	fmt.Fprintf(stdout, "chargedesk %s node %s\n", version, cfg.Node)
	fmt.Fprintf(stdout, "OCPP endpoint:  %s://%s/ocpp/{chargerId}\n", scheme, ocppLn.Addr())
	fmt.Fprintf(stdout, "operator API:   http://%s/api/v1/chargers\n", apiLn.Addr())
	log.Info("chargedesk serving", "ocpp", ocppLn.Addr().String(), "http", apiLn.Addr().String(), "node", cfg.Node)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = ocppSrv.Shutdown(shutCtx) // stops accepting; WebSockets are hijacked and closed below
	central.Close()
	_ = apiSrv.Shutdown(shutCtx)
	stopRun()
	if err := <-runDone; err != nil {
		serveErr = errors.Join(serveErr, err)
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}
