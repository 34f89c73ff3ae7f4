package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// browserTurn is one bubble of the web chat as the browser shows it.
type browserTurn struct{ Role, Text string }

// chatInBrowser opens the web chat at url in headless Chromium (Debian's,
// driven by playwright-core from interop/browser), sends the messages one
// by one as a driver types them, and returns what the page shows. Without
// Chromium or `npm ci --prefix interop/browser` it skips, unless
// CHARGEDESK_TEST_BROWSER is set (as in CI), where it fails.
func chatInBrowser(t *testing.T, url, lang string, messages ...string) []browserTurn {
	t.Helper()
	dir := browserDir(t)
	args := []string{filepath.Join(dir, "chat.js"), "--url", url, "--lang", lang, "--screenshot", filepath.Join(t.TempDir(), "chat.png")}
	for _, m := range messages {
		args = append(args, "--message", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("browser: %v\n%s", err, stderr)
	}
	var res struct{ Turns []browserTurn }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("browser output %s: %v", out, err)
	}
	return res.Turns
}

// browserDir returns interop/browser when a real browser can run there:
// node, Debian's Chromium and playwright-core installed. Otherwise it
// skips, unless CHARGEDESK_TEST_BROWSER is set (as in CI), where it fails.
func browserDir(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "interop", "browser"))
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node"
	} else if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing = "/usr/bin/chromium (apt-get install chromium)"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		missing = "playwright-core (npm ci --prefix interop/browser)"
	}
	if missing != "" {
		if os.Getenv("CHARGEDESK_TEST_BROWSER") != "" {
			t.Fatalf("browser test needs %s", missing)
		}
		t.Skipf("browser test skipped: %s missing (set CHARGEDESK_TEST_BROWSER=1 to require it)", missing)
	}
	return dir
}

// browser is a headless Chromium driven step by step
// (interop/browser/driver.js): each call sends one command and waits for
// its answer.
type browser struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
	cmd *exec.Cmd
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	dir := browserDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "driver.js"))
	cmd.Dir = dir
	cmd.Stderr = &testWriter{t: t}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, in: in, out: bufio.NewScanner(out), cmd: cmd}
	b.out.Buffer(make([]byte, 1<<20), 8<<20)
	t.Cleanup(func() {
		_ = json.NewEncoder(in).Encode(map[string]string{"op": "quit"})
		_ = in.Close()
		_ = cmd.Wait()
		cancel()
	})
	return b
}

// do runs one command and returns its answer; a failed command fails the
// test, and so does a script error the page logged.
func (b *browser) do(cmd map[string]any) map[string]any {
	b.t.Helper()
	if err := json.NewEncoder(b.in).Encode(cmd); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	if !b.out.Scan() {
		b.t.Fatalf("browser: no answer to %v: %v", cmd, b.out.Err())
	}
	var res map[string]any
	if err := json.Unmarshal(b.out.Bytes(), &res); err != nil {
		b.t.Fatalf("browser answer %s: %v", b.out.Bytes(), err)
	}
	if errs, _ := res["consoleErrors"].([]any); len(errs) > 0 {
		b.t.Errorf("the page logged errors during %v: %v", cmd["op"], errs)
	}
	if ok, _ := res["ok"].(bool); !ok {
		b.t.Fatalf("browser %v at %v: %v", cmd, res["url"], res["error"])
	}
	return res
}

// testWriter logs a child's output as test output.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}
