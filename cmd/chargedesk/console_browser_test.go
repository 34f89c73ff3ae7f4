package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// screenshotDir is where the console's browser test saves a screenshot of
// each page: CHARGEDESK_TEST_SCREENSHOTS when set (CI keeps them), else the
// test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("CHARGEDESK_TEST_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestConsoleInBrowser signs in to the demo's console in a real browser
// as its admin and walks through it as an operator would.
func TestConsoleInBrowser(t *testing.T) {
	b := startBrowser(t)
	d := startDemo(t, 14)
	if d.admin == "" {
		t.Fatalf("the demo printed no console password:\n%s", d.out)
	}
	shots := screenshotDir(t)
	shot := func(name string) {
		b.do(map[string]any{"op": "screenshot", "path": filepath.Join(shots, "console-"+name+".png")})
	}

	// Signed out, the console sends the operator to sign in; a wrong
	// password is refused on the page.
	res := b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/"})
	if !strings.Contains(res["url"].(string), "/console/signin") {
		t.Fatalf("signed-out console went to %v", res["url"])
	}
	b.do(map[string]any{"op": "fill", "selector": "input[name=username]", "value": "admin"})
	b.do(map[string]any{"op": "fill", "selector": "input[name=password]", "value": "not the password"})
	b.do(map[string]any{"op": "click", "selector": "button[type=submit]"})
	b.do(map[string]any{"op": "waitText", "selector": ".problem", "text": "do not match"})
	shot("signin-refused")
	b.do(map[string]any{"op": "fill", "selector": "input[name=username]", "value": "admin"})
	b.do(map[string]any{"op": "fill", "selector": "input[name=password]", "value": d.admin})
	b.do(map[string]any{"op": "click", "selector": "button[type=submit]"})
	b.do(map[string]any{"op": "waitText", "selector": "h1", "text": "Overview"})
	b.do(map[string]any{"op": "waitText", "selector": ".card", "text": "chargers connected"})
	shot("overview")

	b.do(map[string]any{"op": "click", "selector": "form.who button"})
	b.do(map[string]any{"op": "waitText", "selector": "h1", "text": "Sign in"})
}
