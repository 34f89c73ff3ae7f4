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
	"net/url"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/agent/llm"
	"github.com/chargedesk/chargedesk/agent/nlu"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/payments"
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
	srv, err := startServer(ctx, cfg, log, serverOptions{})
	if err != nil {
		return err
	}
	srv.printAddresses(stdout)
	return srv.wait(ctx)
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// server is a running chargedesk node: store, bus, central system, policy
// gateway and operator API, with its listeners.
type server struct {
	cfg   *config
	log   *slog.Logger
	store *sqlstore.Store
	// convs is the store as every writer of conversations uses it (the
	// agent, the channels, the console): each change is published on the
	// bus for the live views of every node.
	convs   *natsbus.NotifyingStore
	bus     *natsbus.Bus
	central *csms.Server
	rules   *policy.Rules
	// switches are the agent's kill switch and playbook switches, stored
	// for every node.
	switches *policy.Switches
	gateway  *policy.Gateway
	agent    *agent.Agent

	ocppURL string // ws(s)://host:port/ocpp
	apiURL  string // http://host:port

	apiSrv, ocppSrv *http.Server
	errc            chan error
	stopRun         context.CancelFunc
	runDone         chan error
	closers         []func() error
}

// beforeServe lets a caller (the demo) prepare things that need the store
// and the OCPP address before requests are served; it returns the sim
// control for the API, or nil.
type beforeServe func(ctx context.Context, s *server) (httpapi.SimControl, error)

// serverOptions are what the demo adds to a server.
type serverOptions struct {
	hook beforeServe
	// payments is the payments processor the agent works with; nil leaves
	// payment problems to billing.
	payments payments.Processor
	// voiceToken mounts the phone line with this auth token when no
	// Twilio account is configured (the demo's).
	voiceToken string
	// verifyTimeout bounds the agent's wait for a charger to confirm a
	// fix; 0 is agent.DefaultVerifyTimeout (tests shorten it).
	verifyTimeout time.Duration
}

// startServer wires everything and starts serving. On error, whatever was
// opened is closed.
func startServer(ctx context.Context, cfg *config, log *slog.Logger, opts serverOptions) (_ *server, err error) {
	s := &server{cfg: cfg, log: log, errc: make(chan error, 2), runDone: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	now := time.Now
	apiLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for the operator API: %w", err)
	}
	s.closers = append(s.closers, closeListener(apiLn))
	ocppLn, err := net.Listen("tcp", cfg.OCPPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for OCPP: %w", err)
	}
	s.closers = append(s.closers, closeListener(ocppLn))
	scheme := "ws"
	if cfg.TLSCert != "" {
		conf, err := cfg.ocppTLS()
		if err != nil {
			return nil, err
		}
		ocppLn = tls.NewListener(ocppLn, conf)
		scheme = "wss"
	}
	s.ocppURL = fmt.Sprintf("%s://%s/ocpp", scheme, ocppLn.Addr())
	s.apiURL = fmt.Sprintf("http://%s", apiLn.Addr())

	dsn, err := cfg.databaseDSN()
	if err != nil {
		return nil, err
	}
	if s.store, err = sqlstore.Open(ctx, dsn, sqlstore.WithLogger(log)); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.closers = append(s.closers, s.store.Close)
	validator, err := ocpp.NewValidator()
	if err != nil {
		return nil, fmt.Errorf("load OCPP schemas: %w", err)
	}
	// The bus tells this node when a charger it holds has reconnected to
	// another node; central is set below, before any charger can connect.
	if s.bus, err = natsbus.Open(ctx, natsbus.Config{URL: cfg.NATSURL, SubjectPrefix: cfg.NATSPrefix, Name: cfg.Node, Logger: log,
		OnReplaced: func(id string) { s.central.DropCharger(id) }}); err != nil {
		return nil, fmt.Errorf("open bus: %w", err)
	}
	s.closers = append(s.closers, s.bus.Close)
	s.convs = natsbus.NotifyConversations(s.store, s.bus, log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.central, err = csms.New(ctx, csms.Config{
		Node: cfg.Node, Store: s.store, Validator: validator, Bus: s.bus, Logger: log, Now: now,
		Registerer: reg, HeartbeatInterval: cfg.HeartbeatInterval,
		AutoRegister: cfg.AutoRegister, AllowUnauthenticated: cfg.AllowUnauthenticated,
		Upstream: cfg.Upstream, UpstreamTLS: cfg.UpstreamTLS, UpstreamBoot: cfg.UpstreamBoot, UpstreamConflict: cfg.UpstreamConflict,
	}); err != nil {
		return nil, err
	}
	s.switches = policy.NewSwitches(s.store, policy.SwitchOptions{Now: now, Logger: log.With("component", "switches")})
	s.rules = &policy.Rules{Store: s.store, Now: now, Switches: s.switches, AgentLimits: policy.AgentLimits{Allowed: cfg.AgentCommands}}
	s.gateway = &policy.Gateway{Policy: s.rules, Audit: s.store, Next: s.bus, Logger: log, Now: now}
	understander, err := newUnderstander(cfg.LLM, reg, log)
	if err != nil {
		return nil, err
	}
	// The agent verifies a fix on the charger's events from the bus,
	// whichever node holds the charger, reading the store when they come.
	if s.agent, err = agent.New(agent.Config{Store: s.convs, Commands: s.gateway, NLU: understander, Events: s.bus,
		Payments: opts.payments, Enabled: s.rules.AgentEnabled, Playbooks: s.switches.PlaybookEnabled, Now: now, VerifyTimeout: opts.verifyTimeout,
		Logger: log.With("component", "agent")}); err != nil {
		return nil, err
	}
	var simCtl httpapi.SimControl
	if opts.hook != nil {
		if simCtl, err = opts.hook(ctx, s); err != nil {
			return nil, err
		}
	}
	smsCfg := cfg.Twilio.api(s.store)
	api, err := httpapi.New(httpapi.Config{
		Store: s.convs, Commands: s.gateway, APIKeys: cfg.APIKeys, Logger: log, Now: now, Sim: simCtl, Feed: s.bus,
		Agent:    agentAPI{agent: s.agent, rules: s.rules},
		Twilio:   smsCfg,
		Upstream: cfg.Upstream, UpstreamStore: s.store,
		Registerer: reg, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Ready: func(ctx context.Context) error {
			if err := s.store.Ping(ctx); err != nil {
				return err
			}
			return s.bus.Ping(ctx)
		},
	})
	if err != nil {
		return nil, err
	}
	if api, err = s.withVoice(api, reg, opts.voiceToken); err != nil {
		return nil, err
	}
	if api, err = s.withConsole(api); err != nil {
		return nil, err
	}

	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	// WriteTimeout leaves room for a command's longest deadline.
	s.apiSrv = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: chargedesk.MaxCommandTimeout + 30*time.Second, ErrorLog: errLog}
	s.ocppSrv = &http.Server{Handler: s.central.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	s.stopRun = stopRun
	go func() { s.runDone <- s.central.Run(runCtx) }()
	// Messages a stopped node took and never answered are answered here.
	go httpapi.RecoverSMS(runCtx, smsCfg, time.Minute, now, log.With("component", "sms"))
	go watchDependencies(runCtx, reg, log, 2*time.Second,
		dependency{"store", s.store.Ping}, dependency{"bus", s.bus.Ping})
	go func() { s.errc <- s.apiSrv.Serve(apiLn) }()
	go func() { s.errc <- s.ocppSrv.Serve(ocppLn) }()
	log.Info("chargedesk serving", "ocpp", s.ocppURL, "http", s.apiURL, "node", cfg.Node, "client_certs", cfg.clientCertMode())
	return s, nil
}

// ocppTLS is the OCPP endpoint's TLS configuration: its certificate and,
// with client CAs, the client certificates it asks chargers for (security
// profile 3). Unless they are required, a charger may present none and
// authenticate with Basic auth (profile 2) on the same port; a certificate
// presented must chain to a client CA, or the handshake fails.
func (c *config) ocppTLS() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load OCPP TLS certificate: %w", err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAs != nil {
		conf.ClientCAs, conf.ClientAuth = c.ClientCAs, tls.VerifyClientCertIfGiven
		if c.RequireClientCert {
			conf.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return conf, nil
}

// newUnderstander returns the offline understander, with the language
// model's help on unsure messages when one is configured. reg may be nil.
func newUnderstander(c llmConfig, reg prometheus.Registerer, log *slog.Logger) (agent.Understander, error) {
	offline, err := nlu.New()
	if err != nil {
		return nil, fmt.Errorf("load the understanding model: %w", err)
	}
	if !c.on() {
		return offline, nil
	}
	u, err := llm.New(llm.Config{Offline: offline, URL: c.URL, Model: c.Model, APIKey: c.APIKey,
		Registerer: reg, Logger: log.With("component", "llm")})
	if err != nil {
		return nil, err
	}
	log.Info("language model helps with unsure messages", "url", redactedURL(c.URL), "model", c.Model, "timeout", llm.DefaultTimeout)
	return u, nil
}

// redactedURL is u without user information or query, for logs.
func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	return p.String()
}

// printAddresses tells the operator where chargedesk listens.
func (s *server) printAddresses(w io.Writer) {
	fmt.Fprintf(w, "chargedesk %s node %s\n", version, s.cfg.Node)
	fmt.Fprintf(w, "OCPP endpoint:  %s/{chargerId}\n", s.ocppURL)
	fmt.Fprintf(w, "operator API:   %s/api/v1/chargers\n", s.apiURL)
	fmt.Fprintf(w, "console:        %s/console/\n", s.apiURL)
}

// wait serves until ctx ends or a server fails, then shuts down: stop
// accepting, disconnect chargers (status 1001), finish API requests, flush
// batched state, close bus and store.
func (s *server) wait(ctx context.Context) error {
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.errc:
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = s.ocppSrv.Shutdown(shutCtx) // stops accepting; WebSockets are hijacked and closed below
	s.central.Close()
	_ = s.apiSrv.Shutdown(shutCtx)
	s.stopRun()
	if err := <-s.runDone; err != nil {
		serveErr = errors.Join(serveErr, err)
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, s.close())
}

// close closes what startServer opened, newest first.
func (s *server) close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// closeListener closes a listener that a server may have closed already.
func closeListener(ln net.Listener) func() error {
	return func() error {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
}
