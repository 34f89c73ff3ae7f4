package main

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

	// The fleet, then the charger whose lock stayed engaged after a
	// session: the operator unlocks it from its page, with a reason, and
	// the page says what the charger answered.
	stuck := d.injected["lock_after_session"]
	b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/fleet"})
	b.do(map[string]any{"op": "waitText", "selector": "table", "text": stuck})
	shot("fleet")
	b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/chargers/" + stuck})
	b.do(map[string]any{"op": "waitText", "selector": "h1", "text": stuck})
	unlock := "form:has(input[name=action][value=unlock])"
	b.do(map[string]any{"op": "select", "selector": unlock + " select[name=connector]", "value": "1"})
	b.do(map[string]any{"op": "fill", "selector": unlock + " input[name=reason]", "value": "driver called: cable stuck after the session"})
	b.do(map[string]any{"op": "click", "selector": unlock + " button"})
	b.do(map[string]any{"op": "waitText", "selector": ".flash", "text": "Unlocked"})
	shot("charger-unlocked")

	// A driver writes in the web chat about a damaged charger while the
	// operator watches the conversation in the console.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := &e2eClient{t: t, ctx: ctx, api: d.apiURL, key: d.key, hc: &http.Client{Timeout: e2eReplyTimeout}}
	damaged := c.freshCharger(map[string]bool{})
	chat := c.startChat("en")
	first := "the cable at charger " + damaged + " is cut, there are bare wires showing <b>sparks</b>"
	if reply := chat.say(first); reply == "" {
		t.Fatalf("no answer to %q", first)
	}
	b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/conversations"})
	b.do(map[string]any{"op": "waitText", "selector": "table", "text": chat.id})
	shot("conversations")
	b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/conversations/" + chat.id})
	// The driver's markup shows as text, not as markup.
	b.do(map[string]any{"op": "waitText", "selector": "#transcript .turn.driver", "text": "<b>sparks</b>"})
	// A new message appears without reloading the page.
	chat.say("connector 1. nobody should touch it")
	b.do(map[string]any{"op": "waitText", "selector": "#transcript .turn.driver", "text": "nobody should touch it", "timeoutMs": 5000})
	shot("conversation-live")

	// The operator takes over and writes; the driver's chat gets it, and
	// the agent stays quiet until the operator hands back.
	b.do(map[string]any{"op": "click", "selector": "form[action$='/takeover'] button"})
	b.do(map[string]any{"op": "waitText", "selector": "#transcript .turn", "text": "taking over"})
	b.do(map[string]any{"op": "fill", "selector": "form.reply textarea[name=text]", "value": "Hi, this is Sam from the support team. A technician is on the way; please stay clear of the charger."})
	b.do(map[string]any{"op": "click", "selector": "form.reply button"})
	b.do(map[string]any{"op": "waitText", "selector": "#transcript .turn.operator", "text": "technician is on the way"})
	shot("conversation-taken-over")
	var transcript struct {
		Turns []struct{ Role, Text string }
	}
	if code := c.do("GET", "/chat/api/conversations/"+chat.id, nil, false, &transcript); code != http.StatusOK {
		t.Fatalf("driver's transcript: %d", code)
	}
	if last := transcript.Turns[len(transcript.Turns)-1]; !strings.Contains(last.Text, "technician is on the way") {
		t.Fatalf("the driver's chat does not show the operator's message: %+v", transcript.Turns)
	}
	b.do(map[string]any{"op": "click", "selector": "form[action$='/handback'][data-when=mine] button"})
	b.do(map[string]any{"op": "waitText", "selector": "#transcript .turn", "text": "automated assistant"})
	shot("conversation-handed-back")

	// The agent's ticket for the damaged charger: resolved from the queue.
	t.Logf("driver chat: %s", strings.Join(chat.transcript, "\n"))
	b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/tickets"})
	b.do(map[string]any{"op": "waitText", "selector": "table", "text": damaged})
	shot("tickets")
	b.do(map[string]any{"op": "click", "selector": "tr:has-text('" + damaged + "') a[href^='/console/tickets/']"})
	b.do(map[string]any{"op": "fill", "selector": "textarea[name=resolution]", "value": "Cable replaced by the field technician."})
	b.do(map[string]any{"op": "click", "selector": "form[action$='/resolve'] button"})
	b.do(map[string]any{"op": "waitText", "selector": "body", "text": "Cable replaced by the field technician."})
	shot("ticket-resolved")

	// The month's uptime report, downloaded as CSV: a row per port of the
	// fleet, the stuck charger among them.
	b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/reports"})
	b.do(map[string]any{"op": "waitText", "selector": "h1", "text": "Reports"})
	shot("reports")
	csvRes := b.do(map[string]any{"op": "download", "selector": "a[href^='/console/reports/uptime.csv']"})
	rows, err := csv.NewReader(strings.NewReader(csvRes["text"].(string))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("uptime CSV %q: %v", csvRes["text"], err)
	}
	if name, _ := csvRes["name"].(string); !strings.HasSuffix(name, ".csv") {
		t.Errorf("the download is named %q", name)
	}
	if !slices.ContainsFunc(rows[1:], func(r []string) bool { return len(r) > 0 && strings.Contains(strings.Join(r, ","), stuck) }) {
		t.Errorf("no row for %s in the uptime CSV:\n%s", stuck, csvRes["text"])
	}

	for _, page := range []string{"audit", "agent"} {
		b.do(map[string]any{"op": "goto", "url": d.apiURL + "/console/" + page})
		shot(page)
	}

	b.do(map[string]any{"op": "click", "selector": "form.who button"})
	b.do(map[string]any{"op": "waitText", "selector": "h1", "text": "Sign in"})
}
