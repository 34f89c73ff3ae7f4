package natsbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Defaults for the zero values of Config.
const (
	DefaultRequestMargin    = 2 * time.Second
	DefaultHandoverTimeout  = 2 * time.Second
	DefaultMaxPending       = 64
	DefaultStartTimeout     = 10 * time.Second
	defaultName             = "chargedesk"
	defaultDrainTimeout     = 5 * time.Second
	flushTimeout            = 5 * time.Second
	defaultReconnectWait    = 500 * time.Millisecond
	defaultPingInterval     = 20 * time.Second
	defaultReconnectBufSize = 8 << 20
	// serveQueue is the capacity of the channel into which every served
	// charger's subscriptions deliver. The dispatcher never blocks on it
	// (commands and hand-overs run on goroutines of their own), so it only
	// absorbs bursts; past it the client drops messages as a slow consumer
	// and their requesters time out.
	serveQueue = 16384
)

// Config says how a Bus reaches NATS and how it behaves. The zero value runs
// an embedded server with no listening port, which is all a single node needs.
type Config struct {
	// URL is the external NATS server or cluster to connect to, e.g.
	// "nats://127.0.0.1:4222" (comma-separated for several seeds; user and
	// password may be in the URL). Empty starts an embedded server
	// in-process.
	URL string

	// Name identifies this node: the NATS connection name, the embedded
	// server's name, and the node named in hand-over logs. Default
	// "chargedesk".
	Name string

	// Logger receives the bus's logs and the embedded server's. Default:
	// discard.
	Logger *slog.Logger

	// Listen, for the embedded server only, is a "host:port" on which it
	// also accepts NATS clients, so that other nodes (or tests) can join it
	// at ClientURL. Port 0 picks a free port. Empty: no port at all.
	Listen string

	// SubjectPrefix is the first token(s) of every subject, so that several
	// deployments (or test runs) can share one NATS server. Letters, digits,
	// '-', '_' and '.' between tokens. Default DefaultSubjectPrefix.
	SubjectPrefix string

	// RequestMargin is added to a command's Timeout to give the request's
	// deadline on the bus, leaving time for the serving node's answer to
	// travel back. Default DefaultRequestMargin.
	RequestMargin time.Duration

	// HandoverTimeout bounds how long ServeCharger waits for the node that
	// served the charger before to let go of it. Default
	// DefaultHandoverTimeout.
	HandoverTimeout time.Duration

	// MaxPending bounds the commands for one charger that this node handles
	// at once; more are answered with an EUNAVAILABLE error. Default
	// DefaultMaxPending.
	MaxPending int

	// OnReplaced, when set, is called when another node starts serving a
	// charger that this node serves (the charger has reconnected there). By
	// then this node has already stopped answering its commands; the caller
	// should close its stale connection to the charger. It runs on a bus
	// goroutine, and the new node's ServeCharger waits for it (up to
	// HandoverTimeout), so it must not block for long.
	OnReplaced func(chargerID string)

	// StartTimeout bounds Open when ctx has no deadline: the embedded
	// server's start or the first connection. Default DefaultStartTimeout.
	StartTimeout time.Duration

	// Options are extra nats.go client options (credentials, TLS, ...),
	// applied after the bus's own, which they may replace (a
	// DisconnectErrHandler, say), except the ClosedHandler, which the bus
	// needs.
	Options []nats.Option
}

// Bus is a connection to the NATS bus, and the embedded server when there is
// one. It is safe for concurrent use. Close releases it.
type Bus struct {
	nc  *nats.Conn
	srv *server.Server // nil with an external server
	// acc is the embedded server's account, whose subscriptions (every
	// client's, ours included) tell whether anyone listens to an event;
	// nil with an external server. private says the embedded server has
	// no port, so that this Bus is its only client: then eventSubs, the
	// SubscribeEvents subscriptions in place (or being made), being 0 says
	// that nobody listens, without asking the server.
	acc       *server.Account
	private   bool
	eventSubs atomic.Int64
	log       *slog.Logger
	name      string
	id        string // random, tells this Bus from others in hand-overs
	subj      subjects

	margin     time.Duration
	handover   time.Duration
	maxPending int
	onReplaced func(string)

	// ctx is cancelled by Close; commands in progress derive from it.
	ctx    context.Context
	cancel context.CancelFunc

	connClosed chan struct{} // closed when nc is closed for good

	// Every ServeCharger subscription delivers into serveCh, read by one
	// dispatcher goroutine (see dispatch): a served charger costs two
	// subscriptions but no goroutine. subs maps each subscription to its
	// serving and whether it is the command one.
	serveCh      chan *nats.Msg
	subMu        sync.RWMutex
	subs         map[*nats.Subscription]subTarget
	dispatchStop chan struct{}
	dispatchDone chan struct{}
	aside        sync.WaitGroup // hand-overs in progress

	serveSeq atomic.Uint64 // numbers ServeCharger calls

	mu       sync.RWMutex
	closed   bool
	serving  map[*serving]struct{}
	handlers sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Open connects to NATS as cfg says: to cfg.URL, or to an embedded server that
// it starts and waits for. ctx bounds the start; the Bus lives until Close.
// A configuration error is EINVALID; a server that cannot be reached or
// started is EUNAVAILABLE.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		cfg.Name = defaultName
	}
	if cfg.SubjectPrefix == "" {
		cfg.SubjectPrefix = DefaultSubjectPrefix
	}
	if !validPrefix(cfg.SubjectPrefix) {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "subject prefix %q must be dot-separated tokens of letters, digits, '-' and '_'", cfg.SubjectPrefix)
	}
	if cfg.RequestMargin == 0 {
		cfg.RequestMargin = DefaultRequestMargin
	}
	if cfg.HandoverTimeout == 0 {
		cfg.HandoverTimeout = DefaultHandoverTimeout
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.RequestMargin < 0 || cfg.HandoverTimeout < 0 || cfg.MaxPending < 0 || cfg.StartTimeout < 0 {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "bus durations and limits must not be negative")
	}
	if cfg.URL != "" && cfg.Listen != "" {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "listen applies only to the embedded server, not with a URL")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("natsbus: open: %w", err)
	}
	wait := cfg.StartTimeout
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}

	log := cfg.Logger.With("component", "natsbus", "node", cfg.Name)
	b := &Bus{
		log:        log,
		name:       cfg.Name,
		id:         randomID(),
		subj:       newSubjects(cfg.SubjectPrefix),
		margin:     cfg.RequestMargin,
		handover:   cfg.HandoverTimeout,
		maxPending: cfg.MaxPending,
		onReplaced: cfg.OnReplaced,
		connClosed: make(chan struct{}),
		serving:    make(map[*serving]struct{}),

		serveCh:      make(chan *nats.Msg, serveQueue),
		subs:         make(map[*nats.Subscription]subTarget),
		dispatchStop: make(chan struct{}),
		dispatchDone: make(chan struct{}),
	}

	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.Timeout(wait),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(defaultReconnectWait),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		nats.ReconnectBufSize(defaultReconnectBufSize),
		nats.PingInterval(defaultPingInterval),
		nats.DrainTimeout(defaultDrainTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				log.Warn("nats subscription error", "subject", sub.Subject, "err", err)
				return
			}
			log.Warn("nats error", "err", err)
		}),
	}

	url := cfg.URL
	if url == "" {
		srv, err := startServer(ctx, cfg, wait, log)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		// No accounts are configured: every client is in the global one.
		b.acc = srv.GlobalAccount()
		b.private = cfg.Listen == ""
		opts = append(opts, nats.InProcessServer(srv))
	}
	opts = append(opts, cfg.Options...)
	// Close waits for this; it comes last so that no option replaces it.
	opts = append(opts, nats.ClosedHandler(func(*nats.Conn) { close(b.connClosed) }))

	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if b.srv != nil {
			b.srv.Shutdown()
			b.srv.WaitForShutdown()
		}
		return nil, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "cannot connect to nats: %v", err)
	}
	b.nc = nc
	b.ctx, b.cancel = context.WithCancel(context.Background())
	go b.dispatch()
	if b.srv != nil {
		log.Info("embedded nats started", "listen", b.ClientURL())
	} else {
		log.Info("nats connected", "url", nc.ConnectedUrlRedacted())
	}
	return b, nil
}

// startServer runs an embedded nats-server and waits until it is ready.
func startServer(ctx context.Context, cfg Config, wait time.Duration, log *slog.Logger) (*server.Server, error) {
	opts := &server.Options{
		ServerName:      cfg.Name,
		DontListen:      cfg.Listen == "",
		NoSigs:          true,
		NoSystemAccount: true,
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, chargedesk.Errorf(chargedesk.EINVALID, "listen address %q: %v", cfg.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, chargedesk.Errorf(chargedesk.EINVALID, "listen address %q has a bad port", cfg.Listen)
		}
		if p == 0 {
			p = server.RANDOM_PORT // nats-server reads 0 as its default port
		}
		opts.Host, opts.Port = host, p
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "embedded nats: %v", err)
	}
	srv.SetLoggerV2(serverLogger{log.With("component", "nats-server")}, false, false, false)
	srv.Start()

	ready := make(chan bool, 1)
	go func() { ready <- srv.ReadyForConnections(wait) }()
	select {
	case ok := <-ready:
		if ok {
			return srv, nil
		}
		err = chargedesk.Errorf(chargedesk.EUNAVAILABLE, "embedded nats server not ready after %s", wait)
	case <-ctx.Done():
		err = fmt.Errorf("natsbus: start embedded server: %w", ctx.Err())
	}
	srv.Shutdown()
	srv.WaitForShutdown()
	return nil, err
}

// ClientURL returns the URL other nodes can connect to: the embedded server's
// listening address when Config.Listen was set, the external server's URL
// when the Bus connected to one, and "" for an embedded server with no port.
func (b *Bus) ClientURL() string {
	if b.srv != nil {
		if b.srv.Addr() == nil {
			return ""
		}
		return b.srv.ClientURL()
	}
	return b.nc.ConnectedUrlRedacted()
}

// Close stops serving every charger, cancels the commands in progress on this
// node (their callers get an answer), drains the subscriptions, flushes what
// was published and, if there is one, shuts the embedded server down. It is
// safe to call more than once.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		servings := make([]*serving, 0, len(b.serving))
		for s := range b.serving {
			servings = append(servings, s)
		}
		b.mu.Unlock()

		var errs []error
		for _, s := range servings {
			if err := s.unsubscribe(false); err != nil { // Drain flushes
				errs = append(errs, err)
			}
		}
		b.cancel()
		b.handlers.Wait()

		switch err := b.nc.Drain(); {
		case err == nil, errors.Is(err, nats.ErrConnectionClosed):
		case errors.Is(err, nats.ErrConnectionReconnecting):
			// The server is away: there is nothing to drain to.
			b.nc.Close()
		default:
			b.nc.Close()
			errs = append(errs, fmt.Errorf("natsbus: drain: %w", err))
		}
		<-b.connClosed
		close(b.dispatchStop)
		<-b.dispatchDone
		b.aside.Wait()
		if b.srv != nil {
			b.srv.Shutdown()
			b.srv.WaitForShutdown()
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}

// flush returns once the server has seen everything sent so far, so that
// (un)subscriptions are in effect for every node. While the connection is
// down there is nothing to wait for: on reconnection the client
// re-establishes exactly its current subscriptions.
func (b *Bus) flush() error {
	if !b.nc.IsConnected() {
		return nil
	}
	err := b.nc.FlushTimeout(flushTimeout)
	if err != nil && !b.nc.IsConnected() {
		return nil // lost the connection meanwhile; see above
	}
	return err
}

// isClosed reports whether Close has begun.
func (b *Bus) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

// busError turns a nats.go error into a domain error.
func busError(op string, err error) error {
	switch {
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return chargedesk.Errorf(chargedesk.EUNAVAILABLE, "%s: the bus is closed", op)
	case errors.Is(err, nats.ErrMaxPayload):
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: message larger than the bus allows", op)
	default:
		return chargedesk.Errorf(chargedesk.EUNAVAILABLE, "%s: %v", op, err)
	}
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serverLogger sends nats-server's logs to slog.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) { l.log.Info(fmt.Sprintf(format, v...)) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
