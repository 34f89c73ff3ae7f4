package csms

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Bus is what the central system needs of the message bus: publishing
// charger events and answering commands for the chargers this node holds.
// natsbus.Bus implements it.
type Bus interface {
	PublishEvent(ev chargedesk.Event) error
	ServeCharger(chargerID string, c chargedesk.Commander) (stop func() error, err error)
}

// Config configures a Server. Store and Validator are required.
//
// Client certificates (OCPP security profile 3) need no setting here: the
// TLS listener that serves Handler verifies them against its trusted CAs,
// and a verified certificate authenticates the charger whose id is its
// subject common name (see authenticate).
type Config struct {
	// Node names this process among chargedesk nodes (stored with each
	// connection so that an operator can see which node holds a charger).
	Node      string
	Store     chargedesk.Store
	Validator *ocpp.Validator
	// Bus, when set, receives every event and routes commands to this node.
	Bus    Bus
	Logger *slog.Logger
	Now    func() time.Time
	// Registerer receives the server's metrics; nil registers none.
	Registerer prometheus.Registerer

	// HeartbeatInterval is the interval given in BootNotification answers
	// (default 300s).
	HeartbeatInterval time.Duration
	// PendingRetryInterval is the interval given to Pending chargers
	// (default 60s).
	PendingRetryInterval time.Duration
	// PingInterval is how often an idle connection is pinged; a ping not
	// answered within the interval closes it (default 60s; negative
	// disables).
	PingInterval time.Duration
	// MaxFrameBytes bounds an incoming frame (default 256 KiB); a larger
	// one closes the connection with status 1009.
	MaxFrameBytes int64
	// MaxQueuedCommands bounds the commands waiting for a charger (default 32).
	MaxQueuedCommands int
	// MaxIncomingQueue bounds the CALLs a charger may have waiting (default 8;
	// it should have at most one).
	MaxIncomingQueue int
	// AutoRegister accepts unknown chargers as Pending instead of refusing
	// them, keeping the password they present.
	AutoRegister bool
	// AllowUnauthenticated accepts chargers that have no password registered
	// without HTTP Basic auth or a client certificate (OCPP security profile
	// 0). Off by default.
	AllowUnauthenticated bool
	// FlushInterval is how often last-seen times and the frame history are
	// written (default 1s).
	FlushInterval time.Duration
	// WriteTimeout bounds one frame write (default 10s).
	WriteTimeout time.Duration

	// Upstream, when set, runs proxy mode: ws:// or wss:// URL of the
	// central system that runs the network; each charger is relayed to
	// Upstream + "/" + its id (see upstream.go). The Store must implement
	// chargedesk.UpstreamStore.
	Upstream string
	// UpstreamTLS configures TLS to a wss:// upstream (nil: system roots).
	UpstreamTLS *tls.Config
	// UpstreamTimeout is how long a charger's CALL waits for the upstream's
	// answer before chargedesk answers it itself (default 10s).
	UpstreamTimeout time.Duration
	// UpstreamRetry is how long after losing the upstream a charger's link
	// is dialled again (default 5s); after failed dials the wait doubles up
	// to UpstreamMaxRetry (default 2m), a fifth more or less at random.
	// Routes changed through the API are looked for as often.
	UpstreamRetry    time.Duration
	UpstreamMaxRetry time.Duration
	// UpstreamBoot answers BootNotification while the upstream cannot be
	// asked (default BootKnown).
	UpstreamBoot UpstreamBoot
	// UpstreamConflict decides chargedesk's own commands that clash with
	// an upstream command in flight (default ConflictWait).
	UpstreamConflict UpstreamConflict
}

func (c *Config) setDefaults() error {
	if c.Store == nil || c.Validator == nil {
		return errors.New("csms: Store and Validator are required")
	}
	if c.Node == "" {
		c.Node = "node-1"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HeartbeatInterval, 300*time.Second)
	def(&c.PendingRetryInterval, 60*time.Second)
	def(&c.PingInterval, 60*time.Second)
	def(&c.FlushInterval, time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = 256 << 10
	}
	if c.MaxQueuedCommands == 0 {
		c.MaxQueuedCommands = 32
	}
	if c.MaxIncomingQueue == 0 {
		c.MaxIncomingQueue = 8
	}
	def(&c.UpstreamTimeout, 10*time.Second)
	def(&c.UpstreamRetry, 5*time.Second)
	def(&c.UpstreamMaxRetry, 2*time.Minute)
	c.UpstreamMaxRetry = max(c.UpstreamMaxRetry, c.UpstreamRetry)
	switch c.UpstreamBoot {
	case "":
		c.UpstreamBoot = BootKnown
	case BootKnown, BootAccept, BootPending:
	default:
		return fmt.Errorf("csms: upstream boot policy %q is not known, accept or pending", c.UpstreamBoot)
	}
	switch c.UpstreamConflict {
	case "":
		c.UpstreamConflict = ConflictWait
	case ConflictWait, ConflictRefuse:
	default:
		return fmt.Errorf("csms: upstream conflict policy %q is not wait or refuse", c.UpstreamConflict)
	}
	if c.Upstream != "" {
		if err := chargedesk.ValidateUpstreamURL(c.Upstream); err != nil {
			return fmt.Errorf("csms: %s", chargedesk.ErrorMessage(err))
		}
		if _, ok := c.Store.(chargedesk.UpstreamStore); !ok {
			return errors.New("csms: proxy mode needs a store that implements chargedesk.UpstreamStore")
		}
		c.Upstream = strings.TrimSuffix(c.Upstream, "/")
	}
	return nil
}

// Server is the central system. Create it with New, mount Handler, run Run
// in the background, and Close it to disconnect every charger.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics

	// idPrefix and idSeq make unique outgoing message ids.
	idPrefix string
	idSeq    atomic.Uint64
	// connSeq orders connection attempts by arrival.
	connSeq atomic.Uint64

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
	wg     sync.WaitGroup

	history  *historyWriter
	touches  *touchBatch
	chargers *chargerWriter
	validIn  validCache

	// upClient dials upstream links in proxy mode; links records their
	// state.
	upClient *http.Client
	links    *linkRecorder
}

// New returns a Server. It marks the chargers that the store says this node
// held (from an earlier run) as disconnected.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	prefix := make([]byte, 3)
	_, _ = rand.Read(prefix)
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		now:      cfg.Now,
		metrics:  newMetrics(cfg.Registerer),
		idPrefix: hex.EncodeToString(prefix) + "-",
		conns:    make(map[string]*conn),
	}
	s.upClient = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg.UpstreamTLS, Proxy: http.ProxyFromEnvironment}}
	s.history = newHistoryWriter(cfg.Store, s.log, s.metrics)
	s.touches = newTouchBatch()
	s.links = newLinkRecorder()
	s.chargers = newChargerWriter(cfg.Store)
	if err := cfg.Store.DisconnectNode(ctx, cfg.Node, s.now()); err != nil {
		return nil, fmt.Errorf("csms: mark node's chargers disconnected: %w", err)
	}
	return s, nil
}

// Handler returns the OCPP WebSocket endpoint, serving GET /ocpp/{chargerId}.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ocpp/{id}", s.serveOCPP)
	return mux
}

// Run writes batched state (last-seen times, the frame history) until ctx
// ends, then flushes once more. Run it once, in its own goroutine.
func (s *Server) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.history.run(ctx, s.cfg.FlushInterval)
	}()
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	// In proxy mode, routes changed through the API are looked for every
	// UpstreamRetry; otherwise never.
	var routes <-chan time.Time
	if s.cfg.Upstream != "" {
		rt := time.NewTicker(s.cfg.UpstreamRetry)
		defer rt.Stop()
		routes = rt.C
	}
	routesSince := s.now()
	for {
		select {
		case <-ctx.Done():
			s.flushTouches(context.WithoutCancel(ctx))
			s.flushLinks(context.WithoutCancel(ctx))
			<-done
			return nil
		case <-t.C:
			s.flushTouches(ctx)
			s.flushLinks(ctx)
		case <-routes:
			routesSince = s.watchRoutes(ctx, routesSince)
		}
	}
}

// touchBatchMax is the most chargers touched in one store call (one
// transaction), for the same reason as historyBatch.
const touchBatchMax = 250

func (s *Server) flushTouches(ctx context.Context) {
	seen, beats := s.touches.take()
	if len(seen) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Every heartbeat time has its charger in seen (touchBatch.heartbeat).
	chunkSeen := make(map[string]time.Time, min(len(seen), touchBatchMax))
	chunkBeats := make(map[string]time.Time, min(len(beats), touchBatchMax))
	flush := func() {
		if err := s.cfg.Store.TouchChargers(ctx, chunkSeen, chunkBeats); err != nil {
			s.log.Error("record last seen", "chargers", len(chunkSeen), "err", err)
			s.touches.restore(chunkSeen, chunkBeats) // copies
		}
		clear(chunkSeen)
		clear(chunkBeats)
	}
	for id, at := range seen {
		chunkSeen[id] = at
		if hb, ok := beats[id]; ok {
			chunkBeats[id] = hb
		}
		if len(chunkSeen) == touchBatchMax {
			flush()
		}
	}
	if len(chunkSeen) > 0 {
		flush()
	}
}

// Close disconnects every charger (WebSocket status 1001) and waits for
// their connections to end, marking them disconnected in the store.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(websocket.StatusGoingAway, "server shutting down")
	}
	s.wg.Wait()
}

// Connected reports whether the charger holds a connection to this node
// that is recorded in the store and reachable through the bus.
func (s *Server) Connected(chargerID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[chargerID]
	return ok && c.ready.Load()
}

// UpstreamUp reports whether, in proxy mode, the charger's link to the
// upstream is up.
func (s *Server) UpstreamUp(chargerID string) bool {
	s.mu.Lock()
	c := s.conns[chargerID]
	s.mu.Unlock()
	return c != nil && c.up != nil && c.up.up()
}

// ConnectedCount returns how many chargers are connected to this node.
func (s *Server) ConnectedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Send sends a command to a charger connected to this node and waits for its
// answer. A charger not connected here gives a ChargerOffline result; the
// bus routes commands to the node that holds the charger.
func (s *Server) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	if err := cmd.Validate(); err != nil {
		return chargedesk.Result{}, err
	}
	s.mu.Lock()
	c := s.conns[cmd.ChargerID]
	s.mu.Unlock()
	if c == nil {
		return chargedesk.Result{CommandID: cmd.ID, Status: chargedesk.ResultChargerOffline, Detail: "charger is not connected"}, nil
	}
	return c.Send(ctx, cmd)
}

func (s *Server) nextMessageID() string {
	return s.idPrefix + strconv.FormatUint(s.idSeq.Add(1), 36)
}

// serveOCPP authenticates a charger, upgrades to WebSocket with an OCPP
// subprotocol and runs the connection until it ends.
func (s *Server) serveOCPP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	seq := s.connSeq.Add(1)
	if err := chargedesk.ValidateChargerID(id); err != nil {
		http.Error(w, chargedesk.ErrorMessage(err), refusalStatus(err))
		return
	}
	log := s.log.With("charger_id", id)
	adm, err := s.authenticate(r, id)
	if err != nil {
		status := refusalStatus(err)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="chargedesk OCPP", charset="UTF-8"`)
		}
		log.Info("charger refused", append([]any{"status", status, "reason", chargedesk.ErrorMessage(err), "remote", r.RemoteAddr},
			certLogAttrs(r)...)...)
		s.metrics.refused.WithLabelValues(strconv.Itoa(status)).Inc()
		http.Error(w, chargedesk.ErrorMessage(err), status)
		return
	}
	log = log.With("auth", adm.by)
	var raw net.Conn
	ws, err := websocket.Accept(leanHijack{ResponseWriter: w, conn: &raw}, r, &websocket.AcceptOptions{
		Subprotocols:    []string{string(chargedesk.OCPP201), string(chargedesk.OCPP16)},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		log.Info("websocket upgrade failed", "err", err)
		return
	}
	proto := chargedesk.Protocol(strings.ToLower(ws.Subprotocol()))
	if !proto.Valid() {
		// Both specs: complete the handshake without a subprotocol, then
		// close at once.
		log.Info("charger offered no supported OCPP subprotocol", "offered", r.Header.Values("Sec-WebSocket-Protocol"))
		s.metrics.refused.WithLabelValues("subprotocol").Inc()
		ws.Close(websocket.StatusProtocolError, "no supported OCPP subprotocol (ocpp1.6, ocpp2.0.1)")
		return
	}
	ws.SetReadLimit(s.cfg.MaxFrameBytes)
	c := newConn(s, id, proto, ws, adm.boot, log.With("protocol", string(proto)))
	c.seq, c.auth, c.raw = seq, adm.by, raw
	if s.cfg.Upstream != "" {
		c.upAuth = r.Header.Get("Authorization")
		c.up = newUpstream(c)
	}
	if ok, why := s.register(c); !ok {
		ws.Close(websocket.StatusGoingAway, why)
		return
	}
	// The connection outlives the HTTP request: it runs in a goroutine of
	// its own and the handler returns, so that nothing of the request (its
	// headers, contexts, and the handler goroutine's stack, grown deep by
	// the handshake and the credentials query) stays with every idle
	// charger. The hijacked socket is the connection's alone.
	go func() {
		defer s.wg.Done()
		c.run(context.Background())
	}()
}

// register makes c the charger's connection, replacing (and closing) a stale
// one at once. A connection that arrived before the current one (its
// handshake overtook) loses instead.
func (s *Server) register(c *conn) (bool, string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, "server shutting down"
	}
	old := s.conns[c.id]
	if old != nil && old.seq > c.seq {
		s.mu.Unlock()
		return false, "a newer connection exists"
	}
	s.conns[c.id] = c
	s.wg.Add(1)
	s.mu.Unlock()
	if old != nil {
		old.log.Info("connection replaced by a new one")
		old.close(websocket.StatusPolicyViolation, "replaced by a new connection")
	}
	s.metrics.connected.Inc()
	return true, ""
}

// unregister removes c unless a newer connection replaced it already, and
// reports whether c was still current.
func (s *Server) unregister(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics.connected.Dec()
	if s.conns[c.id] != c {
		return false
	}
	delete(s.conns, c.id)
	return true
}

// DropCharger closes this node's connection to the charger, if any, because
// the charger has reconnected to another node (natsbus calls it through
// Config.OnReplaced). The charger's state is left to the new node.
func (s *Server) DropCharger(chargerID string) {
	s.mu.Lock()
	c := s.conns[chargerID]
	s.mu.Unlock()
	if c != nil {
		c.log.Info("charger reconnected to another node; closing this connection")
		c.close(websocket.StatusPolicyViolation, "replaced by a connection to another node")
	}
}
