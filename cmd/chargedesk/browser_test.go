package main

import (
	"context"
	"encoding/json"
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
