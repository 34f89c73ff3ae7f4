package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestCallTheDemo phones the demo from the terminal: the demo mounts its
// phone line with its own token, the guide says how to call, and call
// plays the relay: the greeting, a spoken turn, an interruption, keys.
func TestCallTheDemo(t *testing.T) {
	d := startDemo(t, 14)
	if !strings.Contains(d.out.String(), "chargedesk call -url "+d.apiURL) {
		t.Errorf("the guide does not say how to call:\n%s", d.out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in, typing := io.Pipe()
	out := newSyncBuf()
	done := make(chan error, 1)
	go func() {
		done <- callCommand(ctx, []string{"-url", d.apiURL, "-from", "+15145550123"}, func(string) string { return "" }, in, out, io.Discard)
	}()
	waitFor := func(what string, n int) {
		t.Helper()
		for strings.Count(out.String(), what) < n {
			select {
			case err := <-done:
				t.Fatalf("call ended: %v\n%s", err, out)
			case <-ctx.Done():
				t.Fatalf("no %q:\n%s", what, out)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	waitFor("agent> ", 1)
	if !strings.Contains(strings.ToLower(out.String()), "para español") {
		t.Errorf("greeting offers no Spanish:\n%s", out)
	}
	_, _ = io.WriteString(typing, "hi, my charge won't start\n")
	waitFor("agent> ", 2)
	_, _ = io.WriteString(typing, "\n")
	waitFor("(you speak over the agent)", 1)
	_, _ = io.WriteString(typing, "0042#\n")
	waitFor("agent> ", 3)
	typing.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out)
}
