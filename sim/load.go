package sim

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// Defaults and bounds of a load run.
const (
	DefaultLoadConnectRate = 1000.0
	DefaultLoadDuration    = 10 * time.Second
	DefaultLoadCallTimeout = 10 * time.Second
	DefaultLoadIDPrefix    = "LOAD-"
	// MaxLoadChargers bounds LoadConfig.Chargers.
	MaxLoadChargers = 200_000
	// MaxLoadDuration bounds LoadConfig.Duration.
	MaxLoadDuration = time.Hour
	// maxLoadSamples bounds the round trips kept per kind for percentiles.
	maxLoadSamples = 1 << 20
	// maxConnecting bounds the dials and boots in progress at once.
	maxConnecting = 512
	// maxCommandsInFlight bounds the operator commands in progress at once.
	maxCommandsInFlight = 256
)

// LoadConfig configures RunLoad: how many lightweight chargers connect, how
// fast, and what they send once connected.
type LoadConfig struct {
	// URL is the CSMS endpoint without the charger id, e.g.
	// ws://127.0.0.1:9000/ocpp.
	URL string
	// IDPrefix starts every charger id; ids are IDPrefix plus a six-digit
	// number from 000000 (default DefaultLoadIDPrefix).
	IDPrefix string
	// Password is the Basic auth key of every charger; empty sends none.
	Password string
	// Chargers is how many chargers connect (1 to MaxLoadChargers).
	Chargers int
	// ConnectRate is how many new connections are opened per second
	// (default DefaultLoadConnectRate).
	ConnectRate float64
	// HeartbeatRate, StatusRate and MeterRate are the Heartbeat,
	// StatusNotification and MeterValues CALLs per second across the
	// fleet once every charger is connected. Zero sends none.
	HeartbeatRate, StatusRate, MeterRate float64
	// CommandRate is the operator commands per second sent through
	// Commander (GetLocalListVersion to a charger picked in turn).
	CommandRate float64
	// Commander sends the operator commands: the bus, a policy gateway or
	// an HTTP client. Required when CommandRate is positive.
	Commander chargedesk.Commander
	// Duration is how long the steady phase lasts after the connect phase
	// (default DefaultLoadDuration, at most MaxLoadDuration).
	Duration time.Duration
	// Protocols are the OCPP versions given to chargers in turn; empty
	// means OCPP 1.6 only. {OCPP16, OCPP201} is an even mix.
	Protocols []chargedesk.Protocol
	// CallTimeout bounds a dial, a boot and each round trip (default
	// DefaultLoadCallTimeout).
	CallTimeout time.Duration
	// ServerMemory, when set, returns the server's memory in bytes (after a
	// GC, as its owner sees fit). It is called before the first connection
	// and once the connect phase is over; the difference per connected
	// charger is LoadReport.ServerBytesPerCharger.
	ServerMemory func() uint64
}

// Latency summarises the round trips of one kind of message, measured by
// the load generator from just before the frame is written to the moment
// its answer is read.
type Latency struct {
	Count         int
	P50, P95, P99 time.Duration
	Max           time.Duration
}

// LoadReport is what RunLoad measured.
type LoadReport struct {
	Chargers        int
	Connected       int // chargers connected and booted Accepted at the end of the connect phase
	ConnectFailures int
	ConnectTime     time.Duration // from the first dial to the last boot answered
	ConnectRate     float64       // achieved connections per second
	Steady          time.Duration // length of the steady phase
	// Messages counts the CALLs the chargers sent in the steady phase and
	// answered, MessagesPerSec their rate.
	Messages       int64
	MessagesPerSec float64
	// Skipped counts the CALLs not sent because the charger picked still
	// waited for its previous answer (one outstanding CALL per charger).
	Skipped                        int64
	Boot, Heartbeat, Status, Meter Latency
	// Command is the operator commands' round trip through the Commander.
	Command Latency
	// CommandsAnswered counts the CSMS CALLs the chargers answered.
	CommandsAnswered int64
	// Errors counts failed dials, CALLERRORs, timeouts, failed commands
	// and dropped connections; ErrorSamples holds the first few.
	Errors       int64
	ErrorSamples []string
	Disconnects  int64
	// ClientBytesPerCharger is the growth of this process's heap and stack
	// in use (runtime.MemStats HeapInuse+StackInuse, after a GC) over the
	// connect phase, per connected charger. When the server runs in the
	// same process it includes the server's share.
	ClientBytesPerCharger float64
	// ServerBytesPerCharger is the same for LoadConfig.ServerMemory; zero
	// when that is not set.
	ServerBytesPerCharger float64
	Goroutines            int // of this process at the end of the connect phase
	FileLimit             uint64
}

// Load message kinds.
const (
	kindBoot = iota
	kindHeartbeat
	kindStatus
	kindMeter
	numKinds
)

var kindActions = [numKinds]string{"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"}

// loadRun is the state of one RunLoad.
type loadRun struct {
	cfg     LoadConfig
	headers http.Header
	client  *http.Client

	mu       sync.Mutex
	samples  [numKinds + 1][]time.Duration // last one: commands
	errs     []string
	errCount atomic.Int64

	answered    [numKinds]atomic.Int64
	skipped     atomic.Int64
	cmdAnswered atomic.Int64
	disconnects atomic.Int64
	closing     atomic.Bool // the run is closing its connections

	connMu    sync.Mutex
	connected []*loadCharger
	next      atomic.Uint64 // round-robin pick
}

// loadCharger is one lightweight simulated charger: a WebSocket, one
// goroutine reading it, and at most one CALL of its own outstanding.
type loadCharger struct {
	r     *loadRun
	id    string
	proto chargedesk.Protocol
	ws    *websocket.Conn
	seq   atomic.Uint32

	mu        sync.Mutex
	pendID    string
	pendKind  int
	pendStart time.Time
	booted    chan bool // receives the boot's outcome once
	status    int       // toggles the status sent
}

// RunLoad connects cfg.Chargers lightweight chargers to the CSMS at
// cfg.ConnectRate, each sending a BootNotification, then for cfg.Duration
// sends Heartbeat, StatusNotification and MeterValues CALLs and operator
// commands at the configured rates, and reports what it measured. Every
// charger answers the CSMS's CALLs (GetLocalListVersion, TriggerMessage,
// ChangeAvailability, ClearCache; others get NotImplemented). It raises
// the process's open-file limit as far as it may. It returns when the run is
// over and every connection is closed; an error only for a bad
// configuration or when no charger could connect.
func RunLoad(ctx context.Context, cfg LoadConfig) (LoadReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return LoadReport{}, err
	}
	rep := LoadReport{Chargers: cfg.Chargers}
	rep.FileLimit = RaiseFileLimit(uint64(2*cfg.Chargers + 1024))

	r := &loadRun{cfg: cfg, headers: http.Header{}}
	r.client = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback load: never through a proxy
		DialContext:         (&net.Dialer{Timeout: cfg.CallTimeout}).DialContext,
		MaxIdleConnsPerHost: -1,
		DisableCompression:  true,
	}}
	defer r.client.CloseIdleConnections()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var readers sync.WaitGroup

	clientBase := MemInUse()
	var serverBase uint64
	if cfg.ServerMemory != nil {
		serverBase = cfg.ServerMemory()
	}

	// Connect phase: dials paced at ConnectRate, at most maxConnecting in
	// progress; each booted charger keeps its reading goroutine.
	start := time.Now()
	var connecting sync.WaitGroup
	sem := make(chan struct{}, maxConnecting)
	interval := time.Duration(float64(time.Second) / cfg.ConnectRate)
	var failures atomic.Int64
	for i := 0; i < cfg.Chargers; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			if !sleepCtx(runCtx, d) {
				break
			}
		}
		select {
		case sem <- struct{}{}:
		case <-runCtx.Done():
		}
		if runCtx.Err() != nil {
			break
		}
		c := &loadCharger{r: r, id: fmt.Sprintf("%s%06d", cfg.IDPrefix, i), proto: cfg.Protocols[i%len(cfg.Protocols)], booted: make(chan bool, 1)}
		connecting.Add(1)
		readers.Add(1)
		go func() {
			defer readers.Done()
			ok := c.connect(runCtx)
			if !ok {
				failures.Add(1) // before Done: the count is read after Wait
			}
			<-sem
			connecting.Done()
			if !ok {
				return
			}
			c.readLoop(runCtx)
		}()
	}
	connecting.Wait()
	rep.ConnectTime = time.Since(start)
	rep.ConnectFailures = int(failures.Load())
	r.connMu.Lock()
	rep.Connected = len(r.connected)
	r.connMu.Unlock()
	if rep.ConnectTime > 0 {
		rep.ConnectRate = float64(rep.Connected) / rep.ConnectTime.Seconds()
	}
	rep.Goroutines = runtime.NumGoroutine()
	if rep.Connected > 0 {
		rep.ClientBytesPerCharger = float64(int64(MemInUse())-int64(clientBase)) / float64(rep.Connected)
		if cfg.ServerMemory != nil {
			rep.ServerBytesPerCharger = float64(int64(cfg.ServerMemory())-int64(serverBase)) / float64(rep.Connected)
		}
	}
	if rep.Connected == 0 {
		stop()
		readers.Wait()
		r.fill(&rep)
		return rep, fmt.Errorf("sim: load: no charger connected to %s: %s", cfg.URL, strings.Join(rep.ErrorSamples, "; "))
	}
	for k := range numKinds {
		if k != kindBoot {
			r.answered[k].Store(0)
		}
	}

	// Steady phase.
	steadyStart := time.Now()
	steadyCtx, endSteady := context.WithTimeout(runCtx, cfg.Duration)
	var pacers sync.WaitGroup
	for kind, rate := range map[int]float64{kindHeartbeat: cfg.HeartbeatRate, kindStatus: cfg.StatusRate, kindMeter: cfg.MeterRate} {
		if rate > 0 {
			pacers.Add(1)
			go func() { defer pacers.Done(); pace(steadyCtx, rate, func() { r.sendOne(runCtx, kind) }) }() // runCtx: a write cancelled midway would close the connection
		}
	}
	var commands sync.WaitGroup
	if cfg.CommandRate > 0 {
		cmdSem := make(chan struct{}, maxCommandsInFlight)
		pacers.Add(1)
		go func() {
			defer pacers.Done()
			pace(steadyCtx, cfg.CommandRate, func() {
				select {
				case cmdSem <- struct{}{}:
				default:
					r.fail("commands: %d already in progress", maxCommandsInFlight)
					return
				}
				commands.Add(1)
				go func() {
					defer commands.Done()
					defer func() { <-cmdSem }()
					r.command(runCtx)
				}()
			})
		}()
	}
	pacers.Wait()
	endSteady()
	rep.Steady = time.Since(steadyStart)
	// Let the last answers arrive (bounded by the call timeout).
	commands.Wait()
	r.waitAnswers(runCtx, cfg.CallTimeout)

	// Close every connection with a close handshake, a few at a time.
	r.closing.Store(true)
	r.connMu.Lock()
	conns := slices.Clone(r.connected)
	r.connMu.Unlock()
	var closing sync.WaitGroup
	csem := make(chan struct{}, maxConnecting)
	for _, c := range conns {
		csem <- struct{}{}
		closing.Add(1)
		go func() {
			defer closing.Done()
			defer func() { <-csem }()
			_ = c.ws.Close(websocket.StatusNormalClosure, "load run over")
		}()
	}
	closing.Wait()
	stop()
	readers.Wait()

	r.fill(&rep)
	for k := kindHeartbeat; k < numKinds; k++ {
		rep.Messages += r.answered[k].Load()
	}
	if rep.Steady > 0 {
		rep.MessagesPerSec = float64(rep.Messages) / rep.Steady.Seconds()
	}
	return rep, nil
}

func (cfg *LoadConfig) setDefaults() error {
	if cfg.URL == "" || !(strings.HasPrefix(cfg.URL, "ws://") || strings.HasPrefix(cfg.URL, "wss://")) {
		return chargedesk.Errorf(chargedesk.EINVALID, "load: URL %q must be a ws:// or wss:// endpoint", cfg.URL)
	}
	if cfg.Chargers < 1 || cfg.Chargers > MaxLoadChargers {
		return chargedesk.Errorf(chargedesk.EINVALID, "load: chargers must be between 1 and %d", MaxLoadChargers)
	}
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = DefaultLoadIDPrefix
	}
	if err := chargedesk.ValidateChargerID(cfg.IDPrefix + "000000"); err != nil {
		return err
	}
	if cfg.ConnectRate == 0 {
		cfg.ConnectRate = DefaultLoadConnectRate
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultLoadDuration
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultLoadCallTimeout
	}
	for _, r := range []float64{cfg.ConnectRate, cfg.HeartbeatRate, cfg.StatusRate, cfg.MeterRate, cfg.CommandRate} {
		if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) || r > 1e6 {
			return chargedesk.Errorf(chargedesk.EINVALID, "load: rates must be between 0 and 1e6 per second")
		}
	}
	if cfg.Duration < 0 || cfg.Duration > MaxLoadDuration || cfg.CallTimeout < 0 {
		return chargedesk.Errorf(chargedesk.EINVALID, "load: duration must be between 0 and %s", MaxLoadDuration)
	}
	if cfg.CommandRate > 0 && cfg.Commander == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "load: a command rate needs a Commander")
	}
	if len(cfg.Protocols) == 0 {
		cfg.Protocols = []chargedesk.Protocol{chargedesk.OCPP16}
	}
	for _, p := range cfg.Protocols {
		if !p.Valid() {
			return chargedesk.Errorf(chargedesk.EINVALID, "load: unknown protocol %q", p)
		}
	}
	return nil
}

// RaiseFileLimit raises the soft limit on open files to at least want (and
// the hard limit too when the process may), and returns the soft limit in
// effect. Each WebSocket costs one descriptor per side.
func RaiseFileLimit(want uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur >= want {
		return lim.Cur
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return want
		}
	}
	lim.Cur = min(want, lim.Max)
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// MemInUse returns this process's heap and stack in use
// (runtime.MemStats HeapInuse+StackInuse) after a GC: what a load run
// counts as a process's memory.
func MemInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// sleepCtx sleeps for d unless ctx ends first; it reports whether it slept.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pace calls fn rate times a second until ctx ends, catching up (at most a
// second's worth at once) when it wakes late.
func pace(ctx context.Context, rate float64, fn func()) {
	start := time.Now()
	done := 0
	burst := max(int(rate), 1)
	for ctx.Err() == nil {
		due := int(time.Since(start).Seconds() * rate)
		if due-done > burst {
			done = due - burst
		}
		for ; done < due && ctx.Err() == nil; done++ {
			fn()
		}
		next := start.Add(time.Duration(float64(done+1) / rate * float64(time.Second)))
		if !sleepCtx(ctx, time.Until(next)) {
			return
		}
	}
}

// pick returns a connected charger in turn.
func (r *loadRun) pick() *loadCharger {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if len(r.connected) == 0 {
		return nil
	}
	return r.connected[r.next.Add(1)%uint64(len(r.connected))]
}

// sendOne sends one CALL of kind from the next charger that has none
// outstanding (trying a few).
func (r *loadRun) sendOne(ctx context.Context, kind int) {
	for range 8 {
		c := r.pick()
		if c == nil {
			return
		}
		if c.send(ctx, kind) {
			return
		}
	}
	r.skipped.Add(1)
}

// command sends one operator command and records its round trip.
func (r *loadRun) command(ctx context.Context) {
	c := r.pick()
	if c == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout+time.Second)
	defer cancel()
	start := time.Now()
	err := CommanderSend(r.cfg.Commander, r.cfg.CallTimeout)(cctx, c.id)
	d := time.Since(start)
	if err != nil {
		r.fail("command to %s: %v", c.id, err)
		return
	}
	r.sample(numKinds, d)
}

// waitAnswers waits, at most d, until no charger has a CALL outstanding.
func (r *loadRun) waitAnswers(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		busy := false
		r.connMu.Lock()
		for _, c := range r.connected {
			c.mu.Lock()
			busy = c.pendID != ""
			c.mu.Unlock()
			if busy {
				break
			}
		}
		r.connMu.Unlock()
		if !busy {
			return
		}
		sleepCtx(ctx, 5*time.Millisecond)
	}
}

func (r *loadRun) sample(kind int, d time.Duration) {
	r.mu.Lock()
	if len(r.samples[kind]) < maxLoadSamples {
		r.samples[kind] = append(r.samples[kind], d)
	}
	r.mu.Unlock()
}

func (r *loadRun) fail(format string, args ...any) {
	if r.errCount.Add(1) <= 5 {
		msg := fmt.Sprintf(format, args...)
		r.mu.Lock()
		r.errs = append(r.errs, msg)
		r.mu.Unlock()
	}
}

// Summarize returns the count, percentiles (nearest rank) and maximum of
// samples, which it does not modify.
func Summarize(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[max(0, min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1))] }
	return Latency{Count: len(s), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: s[len(s)-1]}
}

// fill copies the counters and latencies into rep.
func (r *loadRun) fill(rep *LoadReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := Summarize
	rep.Boot, rep.Heartbeat = lat(r.samples[kindBoot]), lat(r.samples[kindHeartbeat])
	rep.Status, rep.Meter = lat(r.samples[kindStatus]), lat(r.samples[kindMeter])
	rep.Command = lat(r.samples[numKinds])
	rep.Errors = r.errCount.Load()
	rep.ErrorSamples = slices.Clone(r.errs)
	rep.Skipped = r.skipped.Load()
	rep.CommandsAnswered = r.cmdAnswered.Load()
	rep.Disconnects = r.disconnects.Load()
}

// connect dials and boots the charger; on success it is in r.connected.
func (c *loadCharger) connect(ctx context.Context) bool {
	r := c.r
	dctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	defer cancel()
	h := http.Header{}
	if r.cfg.Password != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.id+":"+r.cfg.Password)))
	}
	ws, resp, err := websocket.Dial(dctx, strings.TrimRight(r.cfg.URL, "/")+"/"+c.id, &websocket.DialOptions{
		HTTPClient:   r.client,
		HTTPHeader:   h,
		Subprotocols: []string{string(c.proto)},
	})
	if err != nil {
		if resp != nil {
			r.fail("dial %s: HTTP %d: %v", c.id, resp.StatusCode, err)
		} else if ctx.Err() == nil {
			r.fail("dial %s: %v", c.id, err)
		}
		return false
	}
	ws.SetReadLimit(maxFrameBytes)
	c.ws = ws
	if ws.Subprotocol() != string(c.proto) {
		r.fail("dial %s: server chose subprotocol %q", c.id, ws.Subprotocol())
		ws.CloseNow()
		return false
	}
	// Read the boot's answer here; the read loop takes over after.
	if !c.send(dctx, kindBoot) {
		ws.CloseNow()
		return false
	}
	for {
		typ, data, err := ws.Read(dctx)
		if err != nil {
			r.fail("boot %s: %v", c.id, err)
			ws.CloseNow()
			return false
		}
		c.handle(dctx, typ, data)
		select {
		case ok := <-c.booted:
			if !ok {
				ws.CloseNow()
				return false
			}
			r.connMu.Lock()
			r.connected = append(r.connected, c)
			r.connMu.Unlock()
			return true
		default:
		}
	}
}

// readLoop reads frames until the connection ends.
func (c *loadCharger) readLoop(ctx context.Context) {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			if ctx.Err() == nil && !c.r.closing.Load() && websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				c.r.disconnects.Add(1)
				c.r.fail("%s disconnected: %v", c.id, err)
			}
			return
		}
		c.handle(ctx, typ, data)
	}
}

// send writes one CALL of kind unless one is outstanding; it reports
// whether it wrote.
func (c *loadCharger) send(ctx context.Context, kind int) bool {
	now := time.Now()
	c.mu.Lock()
	if c.pendID != "" {
		if now.Sub(c.pendStart) < c.r.cfg.CallTimeout {
			c.mu.Unlock()
			return false
		}
		c.r.fail("%s: %s unanswered after %s", c.id, kindActions[c.pendKind], c.r.cfg.CallTimeout)
	}
	id := strconv.FormatUint(uint64(c.seq.Add(1)), 10)
	c.pendID, c.pendKind = id, kind
	c.status ^= 1
	status := c.status
	c.mu.Unlock()

	frame := ocpp.Message{Type: ocpp.Call, ID: id, Action: kindActions[kind], Payload: loadPayload(c.proto, kind, status, now)}.Encode()
	wctx, cancel := context.WithTimeout(ctx, c.r.cfg.CallTimeout)
	defer cancel()
	c.mu.Lock()
	c.pendStart = time.Now()
	c.mu.Unlock()
	if err := c.ws.Write(wctx, websocket.MessageText, frame); err != nil {
		c.mu.Lock()
		c.pendID = ""
		c.mu.Unlock()
		if ctx.Err() == nil {
			c.r.fail("%s: write %s: %v", c.id, kindActions[kind], err)
		}
		return kind != kindBoot // a failed write is not worth retrying on another charger
	}
	return true
}

// handle deals with one frame received.
func (c *loadCharger) handle(ctx context.Context, typ websocket.MessageType, data []byte) {
	now := time.Now()
	if typ != websocket.MessageText {
		c.r.fail("%s: binary frame", c.id)
		return
	}
	m, err := ocpp.Parse(data)
	if err != nil {
		c.r.fail("%s: bad frame: %v", c.id, err)
		return
	}
	if m.Type == ocpp.Call {
		c.answer(ctx, m)
		return
	}
	c.mu.Lock()
	if m.ID != c.pendID {
		c.mu.Unlock()
		c.r.fail("%s: answer to unknown message %q", c.id, m.ID)
		return
	}
	kind, d := c.pendKind, now.Sub(c.pendStart)
	c.pendID = ""
	c.mu.Unlock()
	ok := m.Type == ocpp.CallResult
	if !ok {
		c.r.fail("%s: %s answered %s: %s", c.id, kindActions[kind], m.ErrorCode, m.ErrorDescription)
	}
	if kind == kindBoot {
		if ok && !strings.Contains(string(m.Payload), `"Accepted"`) {
			c.r.fail("%s: boot not accepted: %s", c.id, m.Payload)
			ok = false
		}
		select {
		case c.booted <- ok:
		default:
		}
	}
	if ok {
		c.r.answered[kind].Add(1)
		c.r.sample(kind, d)
	}
}

// answer replies to a CALL of the CSMS.
func (c *loadCharger) answer(ctx context.Context, m ocpp.Message) {
	var out ocpp.Message
	if payload := loadAnswer(c.proto, m.Action); payload != "" {
		out = ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: []byte(payload)}
	} else {
		out = ocpp.NewCallError(c.proto, m.ID, ocpp.Errorf(ocpp.NotImplemented, "load charger does not implement %s", m.Action))
	}
	wctx, cancel := context.WithTimeout(ctx, c.r.cfg.CallTimeout)
	defer cancel()
	if err := c.ws.Write(wctx, websocket.MessageText, out.Encode()); err != nil {
		if ctx.Err() == nil {
			c.r.fail("%s: answer %s: %v", c.id, m.Action, err)
		}
		return
	}
	c.r.cmdAnswered.Add(1)
}

// loadAnswer returns the CALLRESULT payload a load charger gives to a CSMS
// CALL, or "" for one it does not implement.
func loadAnswer(p chargedesk.Protocol, action string) string {
	switch action {
	case "GetLocalListVersion":
		if p == chargedesk.OCPP16 {
			return `{"listVersion":0}`
		}
		return `{"versionNumber":0}`
	case "TriggerMessage":
		return `{"status":"Rejected"}`
	case "ChangeAvailability", "ClearCache":
		return `{"status":"Accepted"}`
	}
	return ""
}

// loadPayload builds the payload of a CALL a load charger sends; status
// alternates between two connector statuses.
func loadPayload(p chargedesk.Protocol, kind, status int, now time.Time) []byte {
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	v16 := p == chargedesk.OCPP16
	switch kind {
	case kindBoot:
		if v16 {
			return []byte(`{"chargePointVendor":"chargedesk","chargePointModel":"load"}`)
		}
		return []byte(`{"reason":"PowerUp","chargingStation":{"model":"load","vendorName":"chargedesk"}}`)
	case kindStatus:
		if v16 {
			st := [2]string{"Available", "Preparing"}[status]
			return []byte(`{"connectorId":1,"errorCode":"NoError","status":"` + st + `","timestamp":"` + ts + `"}`)
		}
		st := [2]string{"Available", "Occupied"}[status]
		return []byte(`{"timestamp":"` + ts + `","connectorStatus":"` + st + `","evseId":1,"connectorId":1}`)
	case kindMeter:
		wh := strconv.FormatInt(now.UnixMilli()%1_000_000, 10)
		if v16 {
			return []byte(`{"connectorId":1,"meterValue":[{"timestamp":"` + ts + `","sampledValue":[{"value":"` + wh + `","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}`)
		}
		return []byte(`{"evseId":1,"meterValue":[{"timestamp":"` + ts + `","sampledValue":[{"value":` + wh + `,"measurand":"Energy.Active.Import.Register"}]}]}`)
	}
	return []byte(`{}`)
}
