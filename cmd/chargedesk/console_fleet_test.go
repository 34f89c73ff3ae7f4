package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// TestConsoleFleetServed runs "chargedesk serve" and checks that its
// console shows the fleet and streams a charger's events live from the
// bus (console.Config.Events wired to the node's bus).
func TestConsoleFleetServed(t *testing.T) {
	dir := t.TempDir()
	// The account is made straight in the store, with a cheap hash: the
	// user command's cost-12 hash takes seconds under the race detector.
	st, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(dir, "chargedesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	hash, err := console.HashPassword("a fine long password", bcrypt.MinCost)
	if err == nil {
		err = st.PutOperator(context.Background(), &chargedesk.Operator{Username: "vera", Role: chargedesk.RoleViewer, PasswordHash: hash})
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, dir)
	p.api(t, "POST", "/api/v1/chargers", map[string]any{"id": "CP-F", "password": "fleet-password-123"}, http.StatusCreated, nil)
	c := dialCharger(t, p.ocppURL, "CP-F", "fleet-password-123")
	c.call("BootNotification", `{"chargePointVendor":"Acme","chargePointModel":"X"}`)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := browser.Get(p.apiURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, form := get("/console/signin")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if m == nil {
		t.Fatal("no sign-in token")
	}
	res, err := browser.PostForm(p.apiURL+"/console/signin", url.Values{"csrf": {m[1]}, "username": {"vera"}, "password": {"a fine long password"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if status, body := get("/console/fleet"); status != http.StatusOK || !strings.Contains(body, `href="/console/chargers/CP-F"`) {
		t.Fatalf("fleet page: %d", status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.apiURL+"/console/chargers/CP-F/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err = (&http.Client{Jar: jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := bufio.NewReader(res.Body)
	if _, err := lines.ReadString('\n'); err != nil { // the stream is open: the subscription is in place
		t.Fatal(err)
	}
	c.call("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Faulted"}`)
	for {
		line, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before the connector's status: %v", err)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"status":"Faulted"`) {
			break
		}
	}
}
