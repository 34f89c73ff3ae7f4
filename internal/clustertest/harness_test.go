package clustertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// binary is the chargedesk executable the nodes run, built by TestMain.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv("CHARGEDESK_TEST_POSTGRES") == "" || os.Getenv("CHARGEDESK_TEST_NATS_URL") == "" {
		os.Exit(m.Run()) // the tests skip
	}
	dir, err := os.MkdirTemp("", "chargedesk-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "chargedesk")
	build := exec.Command("go", "build", "-o", binary, "github.com/chargedesk/chargedesk/cmd/chargedesk")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build chargedesk:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// apiKey is the operator API key every node accepts.
const apiKey = "cluster-test-key-0123456789"

// cluster is a set of nodes sharing one database schema and one NATS
// subject prefix, and the balancer in front of their OCPP ports.
type cluster struct {
	t       *testing.T
	dsn     string // the test's own schema
	nats    string
	prefix  string
	nodes   []*node
	lb      *balancer
	db      *sql.DB
	logsDir string
	natsd   *natsServer // with options.ownNATS
	dbGate  *gate       // with options.gatedDB
}

// node is one `chargedesk serve` process (or none, while killed).
type node struct {
	name           string
	httpAddr, ocpp string
	mu             sync.Mutex
	cmd            *exec.Cmd
	exited         chan struct{}
	starts         int
}

// options change what a cluster runs on.
type options struct {
	// ownNATS runs a NATS server of the test's own (nats-server on PATH),
	// which the test may stop and start, instead of the shared one.
	ownNATS bool
	// gatedDB puts a TCP gate between the nodes and PostgreSQL, which the
	// test may close (connections cut, new ones refused) and open.
	gatedDB bool
}

// newCluster starts n nodes, one after the other (the first migrates the
// schema), and the balancer.
func newCluster(t *testing.T, n int) *cluster { return newClusterWith(t, n, options{}) }

func newClusterWith(t *testing.T, n int, o options) *cluster {
	t.Helper()
	base, natsURL := os.Getenv("CHARGEDESK_TEST_POSTGRES"), os.Getenv("CHARGEDESK_TEST_NATS_URL")
	if base == "" || natsURL == "" {
		t.Skip("CHARGEDESK_TEST_POSTGRES and CHARGEDESK_TEST_NATS_URL are needed for the cluster tests (.ci/run sets them)")
	}
	c := &cluster{t: t, nats: natsURL, logsDir: t.TempDir()}
	suffix := randomHex(6)
	c.prefix = "cdcluster" + suffix
	c.dsn, c.db = newSchema(t, base, "chargedesk_cluster_"+suffix)
	if o.ownNATS {
		if _, err := exec.LookPath("nats-server"); err != nil {
			t.Skip("nats-server is not on PATH: this test stops and starts a NATS server of its own (.ci/run has one)")
		}
		c.natsd = startNATS(t, freeAddr(t))
		c.nats = "nats://" + c.natsd.addr
	}
	if o.gatedDB {
		u, err := url.Parse(c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		c.dbGate = newGate(t, u.Host)
		u.Host = c.dbGate.addr
		c.dsn = u.String() // the nodes' DSN; c.db keeps the direct one
	}
	for i := range n {
		nd := &node{name: fmt.Sprintf("node-%c", 'a'+i), httpAddr: freeAddr(t), ocpp: freeAddr(t)}
		c.nodes = append(c.nodes, nd)
		c.start(nd)
	}
	c.lb = newBalancer(t, c)
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			c.kill(nd)
		}
		if t.Failed() {
			for _, name := range append(c.nodeNames(), "chargers") {
				if b, err := os.ReadFile(filepath.Join(c.logsDir, name+".log")); err == nil {
					t.Logf("warnings and errors in the log of %s:\n%s", name, tail(problems(b), 40))
				}
			}
		}
	})
	return c
}

// newSchema makes a schema of its own for the test and returns a DSN that
// uses it, and a connection for checks.
func newSchema(t *testing.T, base, schema string) (string, *sql.DB) {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return u.String(), db
}

// start runs the node's process and waits until it is ready.
func (c *cluster) start(nd *node) {
	c.t.Helper()
	logf, err := os.OpenFile(filepath.Join(c.logsDir, nd.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "-node", nd.name, "-http", nd.httpAddr, "-ocpp", nd.ocpp,
		"-data", filepath.Join(c.logsDir, nd.name+"-data"), "-log-level", "info")
	cmd.Env = append(os.Environ(),
		"CHARGEDESK_DATABASE_URL="+c.dsn, "CHARGEDESK_NATS_URL="+c.nats, "CHARGEDESK_NATS_PREFIX="+c.prefix,
		"CHARGEDESK_API_KEYS=ops:"+apiKey, "CHARGEDESK_HEARTBEAT_INTERVAL=30s")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", nd.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	nd.mu.Lock()
	nd.cmd, nd.exited = cmd, exited
	nd.starts++
	nd.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + nd.httpAddr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			c.t.Fatalf("%s exited while starting (log %s)", nd.name, filepath.Join(c.logsDir, nd.name+".log"))
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not ready in 60 s", nd.name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the node's process with SIGKILL: no cleanup of any kind.
func (c *cluster) kill(nd *node) {
	nd.mu.Lock()
	cmd, exited := nd.cmd, nd.exited
	nd.cmd = nil
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// alive reports whether the node's process runs.
func (nd *node) alive() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.cmd != nil
}

// liveNodes returns the nodes that run.
func (c *cluster) liveNodes() []*node {
	var out []*node
	for _, nd := range c.nodes {
		if nd.alive() {
			out = append(out, nd)
		}
	}
	return out
}

// nodeNamed returns the node called name.
func (c *cluster) nodeNamed(name string) *node {
	for _, nd := range c.nodes {
		if nd.name == name {
			return nd
		}
	}
	return nil
}

// api calls a node's operator API and decodes a JSON answer into out (nil:
// ignored); it returns the HTTP status.
func (nd *node) api(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+nd.httpAddr+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s on %s: %d %s", method, path, nd.name, res.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w (%s)", method, path, err, b)
		}
	}
	return res.StatusCode, nil
}

// mustAPI is api that fails the test on any error.
func (c *cluster) mustAPI(nd *node, method, path string, body, out any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := nd.api(ctx, method, path, body, out); err != nil {
		c.t.Fatal(err)
	}
}

// balancer is a TCP load balancer for the OCPP ports: each new connection
// goes to a live node picked at random; a node's death closes the
// connections it carried, as it would behind any real balancer.
type balancer struct {
	ln net.Listener
	c  *cluster
	wg sync.WaitGroup
}

func newBalancer(t *testing.T, c *cluster) *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, c: c}
	b.wg.Add(1)
	go b.serve()
	t.Cleanup(func() { ln.Close(); b.wg.Wait() })
	return b
}

func (b *balancer) url() string { return "ws://" + b.ln.Addr().String() + "/ocpp" }

func (b *balancer) serve() {
	defer b.wg.Done()
	for {
		in, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.pipe(in)
		}()
	}
}

// pipe connects in to a live node and copies both ways until either side
// ends.
func (b *balancer) pipe(in net.Conn) {
	defer in.Close()
	nodes := b.c.liveNodes()
	var out net.Conn
	for len(nodes) > 0 && out == nil {
		i := randInt(len(nodes))
		conn, err := net.DialTimeout("tcp", nodes[i].ocpp, 2*time.Second)
		if err == nil {
			out = conn
			break
		}
		nodes = append(nodes[:i], nodes[i+1:]...)
	}
	if out == nil {
		return
	}
	defer out.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
	go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
	<-done
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// eventually polls cond every 50 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var errNoNode = errors.New("no live node")

// anyLive returns a live node other than except (nil: any).
func (c *cluster) anyLive(except *node) (*node, error) {
	var pick []*node
	for _, nd := range c.liveNodes() {
		if nd != except {
			pick = append(pick, nd)
		}
	}
	if len(pick) == 0 {
		return nil, errNoNode
	}
	return pick[randInt(len(pick))], nil
}

var _ = strconv.Itoa

// natsServer is a nats-server process of the test's own.
type natsServer struct {
	t      *testing.T
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startNATS(t *testing.T, addr string) *natsServer {
	t.Helper()
	n := &natsServer{t: t, addr: addr}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsServer) start() {
	n.t.Helper()
	host, port, _ := net.SplitHostPort(n.addr)
	n.cmd = exec.Command("nats-server", "-a", host, "-p", port)
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start nats-server (is it installed?): %v", err)
	}
	n.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(n.cmd, n.exited)
	eventually(n.t, 10*time.Second, "nats-server listening", func() bool {
		conn, err := net.DialTimeout("tcp", n.addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
}

func (n *natsServer) stop() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
	n.cmd = nil
}

// gate is a TCP forwarder that can be closed: its listener goes and every
// connection through it is cut, as when a database fails over or its
// network goes; opened again on the same address.
type gate struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newGate(t *testing.T, target string) *gate {
	g := &gate{t: t, addr: freeAddr(t), target: target, conns: map[net.Conn]bool{}}
	g.open()
	t.Cleanup(g.close)
	return g
}

func (g *gate) open() {
	g.t.Helper()
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		g.t.Fatal(err)
	}
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go g.forward(in)
		}
	}()
}

func (g *gate) forward(in net.Conn) {
	out, err := net.DialTimeout("tcp", g.target, 2*time.Second)
	if err != nil {
		in.Close()
		return
	}
	g.mu.Lock()
	if g.ln == nil {
		g.mu.Unlock()
		in.Close()
		out.Close()
		return
	}
	g.conns[in], g.conns[out] = true, true
	g.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
	go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
	<-done
	in.Close()
	out.Close()
	g.mu.Lock()
	delete(g.conns, in)
	delete(g.conns, out)
	g.mu.Unlock()
}

// close refuses new connections and cuts the open ones.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		g.ln.Close()
		g.ln = nil
	}
	for c := range g.conns {
		c.Close()
	}
}

func (c *cluster) nodeNames() []string {
	var out []string
	for _, nd := range c.nodes {
		out = append(out, nd.name)
	}
	return out
}

// problems keeps a log's WARN and ERROR lines.
func problems(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(l, []byte("level=WARN")) || bytes.Contains(l, []byte("level=ERROR")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// waitMetric waits until every node's /metrics has line.
func (c *cluster) waitMetric(d time.Duration, line string) {
	c.t.Helper()
	for _, nd := range c.nodes {
		eventually(c.t, d, nd.name+" shows "+line, func() bool {
			res, err := http.Get("http://" + nd.httpAddr + "/metrics")
			if err != nil {
				return false
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return strings.Contains(string(b), line)
		})
	}
}
