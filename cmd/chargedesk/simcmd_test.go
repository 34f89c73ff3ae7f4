package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// syncBuf is a goroutine-safe buffer for run's output.
type syncBuf struct{ lockedWriter }

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.(*strings.Builder).String()
}

func newSyncBuf() *syncBuf { return &syncBuf{lockedWriter{w: &strings.Builder{}}} }

// TestSimCommand runs "chargedesk sim" against a chargedesk server, after
// registering the chargers that "sim -print" lists, with a fault given on
// the command line and commands typed at its prompt.
func TestSimCommand(t *testing.T) {
	p := startProc(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	printed := newSyncBuf()
	if err := run(ctx, []string{"sim", "-chargers", "3", "-print"}, func(string) string { return "" }, nil, printed, printed); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(printed.String()), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("-print line %q", line)
		}
		p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": f[0], "password": f[1]}, 201, nil)
	}
	stdinR, stdinW := newPipe()
	defer stdinW.Close()
	out, errOut := newSyncBuf(), newSyncBuf()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "-url", p.ocppURL, "-chargers", "3", "-protocol", "mix", "-faults", "lock_mechanical", "-summary", "50ms"},
			func(string) string { return "" }, stdinR, out, errOut)
	}()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(out.String(), "chargers 3/3 connected") {
		select {
		case err := <-done:
			t.Fatalf("sim ended: %v\n%s\n%s", err, out, errOut)
		case <-deadline:
			t.Fatalf("never all connected:\n%s\n%s", out, errOut)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !strings.Contains(out.String(), "fault lock_mechanical injected into") {
		t.Errorf("no fault line:\n%s", out)
	}
	stdinW.Write([]byte("faults\nfault NOPE 1 lock_mechanical\nstatus\n"))
	deadline = time.After(10 * time.Second)
	for !strings.Contains(out.String(), "is not in the simulated fleet") || !strings.Contains(out.String(), "stale_transaction") ||
		!strings.Contains(out.String(), `"chargers": [`) {
		select {
		case <-deadline:
			t.Fatalf("prompt did not answer:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("sim returned %v", err)
	}
}

func newPipe() (*pipeReader, *pipeWriter) {
	ch := make(chan []byte, 16)
	return &pipeReader{ch: ch}, &pipeWriter{ch: ch}
}

// pipeReader and pipeWriter are an in-memory stdin; closing the writer
// ends the reader (as closing a terminal's stdin would).
type pipeReader struct {
	ch   chan []byte
	rest []byte
}

func (r *pipeReader) Read(p []byte) (int, error) {
	if len(r.rest) == 0 {
		b, ok := <-r.ch
		if !ok {
			return 0, io.EOF
		}
		r.rest = b
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

type pipeWriter struct{ ch chan []byte }

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.ch <- append([]byte(nil), p...)
	return len(p), nil
}

func (w *pipeWriter) Close() error { close(w.ch); return nil }
