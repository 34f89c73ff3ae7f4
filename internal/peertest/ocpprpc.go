package peertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireOCPPRPCEnv names the environment variable that, when set to a
// non-empty value, turns a missing Node.js or a missing npm install into a
// test failure instead of a skip. CI sets it after `npm ci`.
const RequireOCPPRPCEnv = "CHARGEDESK_TEST_OCPPRPC"

// OCPPRPCDir returns the directory of the ocpp-rpc peer (interop/ocpprpc in
// the repository), found from this source file's location.
func OCPPRPCDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("interop", "ocpprpc")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "interop", "ocpprpc")
}

// StartOCPPRPC starts the ocpp-rpc charge point under Node for scenario s and
// returns at once; wait for EventConnected or later events with WaitFor. It
// skips the test, with the reason, when node is not on PATH or
// interop/ocpprpc has not been installed (`npm ci --prefix interop/ocpprpc`),
// unless CHARGEDESK_TEST_OCPPRPC is set, in which case it fails. The process
// is stopped when the test ends.
func StartOCPPRPC(t testing.TB, s Scenario) Peer {
	t.Helper()
	if err := s.validate(); err != nil {
		t.Fatalf("start ocpp-rpc peer: %v", err)
	}
	if s.TLS != nil {
		t.Fatalf("start ocpp-rpc peer: it takes no TLS configuration; use the ocpp-go peer")
	}
	unavailable := t.Skipf
	if os.Getenv(RequireOCPPRPCEnv) != "" {
		unavailable = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("ocpp-rpc peer needs Node.js >= 18 on PATH: %v", err)
	}
	dir := OCPPRPCDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ocpp-rpc", "package.json")); err != nil {
		unavailable("ocpp-rpc peer is not installed; run `npm ci --prefix interop/ocpprpc` (%v)", err)
	}

	args := []string{
		"chargepoint.js",
		"--url", s.URL,
		"--identity", s.ChargerID,
		"--protocol", string(s.Protocol),
		"--id-tag", s.IDTag,
	}
	if s.NoScenario {
		args = append(args, "--no-scenario")
	}
	p := &nodePeer{log: newEventLog(), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	// The password goes through the environment, not the command line.
	cmd.Env = append(os.Environ(), "OCPP_PASSWORD="+s.Password,
		"OCPP_CALL_TIMEOUT_MS="+strconv.FormatInt(s.callTimeout().Milliseconds(), 10))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = &p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("start ocpp-rpc peer: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("start ocpp-rpc peer: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start ocpp-rpc peer: %v", err)
	}
	p.cmd, p.stdin = cmd, stdin
	go p.read(stdout)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close ocpp-rpc peer: %v", err)
		}
		if t.Failed() {
			t.Logf("ocpp-rpc peer %s stderr:\n%s", s.ChargerID, p.stderr.String())
			for _, e := range p.Events() {
				t.Logf("ocpp-rpc peer %s: %v", s.ChargerID, e)
			}
		}
	})
	return p
}

// nodePeer is the ocpp-rpc charge point running as a child process.
type nodePeer struct {
	log    *eventLog
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	cancel context.CancelFunc
	stderr lockedBuffer

	done    chan struct{} // closed once the process has been waited for
	waitErr error

	closeOnce sync.Once
	closeErr  error
}

// read turns stdout lines into events until the process closes stdout, then
// waits for the process.
func (p *nodePeer) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e PeerEvent
		if err := json.Unmarshal(line, &e); err != nil || e.Event == "" {
			e = PeerEvent{Event: EventError, Code: "BadOutput", Message: string(line)}
		}
		p.log.add(e)
	}
	if err := sc.Err(); err != nil {
		p.log.add(PeerEvent{Event: EventError, Code: "BadOutput", Message: err.Error()})
		// Drain so the process is not blocked writing.
		_, _ = io.Copy(io.Discard, stdout)
	}
	p.waitErr = p.cmd.Wait()
	p.log.end(fmt.Errorf("ocpp-rpc peer exited: %v", exitDescription(p.waitErr)))
	close(p.done)
}

func exitDescription(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// Events returns a copy of everything the peer has reported so far.
func (p *nodePeer) Events() []PeerEvent { return p.log.snapshot() }

// WaitFor returns the first event that matches, waiting for it if need be.
func (p *nodePeer) WaitFor(ctx context.Context, match func(PeerEvent) bool) (PeerEvent, error) {
	return p.log.waitFor(ctx, match)
}

// Close asks the process to stop by closing its stdin, then sends SIGTERM
// and finally SIGKILL if it does not exit in time. It reports an error only
// when the process had to be killed.
func (p *nodePeer) Close() error {
	p.closeOnce.Do(func() {
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(closeTimeout / 2):
			p.cancel() // SIGTERM, then SIGKILL after WaitDelay
			<-p.done
		}
		p.cancel()
		// A failure exit (cannot connect, bad arguments) is already in the
		// events; only a peer that ignored its shutdown is an error here.
		var exitErr *exec.ExitError
		if errors.As(p.waitErr, &exitErr) && !exitErr.Exited() {
			p.closeErr = fmt.Errorf("ocpp-rpc peer did not stop when asked: %w", p.waitErr)
		}
	})
	return p.closeErr
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutine of exec and
// a reader in the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
