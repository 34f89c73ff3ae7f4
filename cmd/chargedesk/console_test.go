package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	user := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"user", args[0], "-data", dir}, args[1:]...), func(string) string { return "" },
			strings.NewReader(stdin), &out, &errb)
		return out.String(), err
	}
	if _, err := user("a fine long password\n", "add", "-role", "admin", "-name", "Ada L.", "Ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := user("x\n", "add", "ada"); err == nil {
		t.Fatal("an existing account added twice")
	}
	if _, err := user("short\n", "add", "bob"); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Fatalf("short password: %v", err)
	}
	if _, err := user("x\n", "add", "-role", "root", "carl"); err == nil {
		t.Fatal("unknown role accepted")
	}
	out, err := user("", "add", "-role", "viewer", "dee")
	if err != nil || !strings.HasPrefix(out, "password: ") {
		t.Fatalf("generated password: %q %v", out, err)
	}
	if _, err := user("another long password\n", "passwd", "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := user("", "disable", "dee"); err != nil {
		t.Fatal(err)
	}
	out, err = user("", "list")
	if err != nil || !strings.Contains(out, "ada") || !strings.Contains(out, "Ada L.") || !strings.Contains(out, "disabled") {
		t.Fatalf("list: %q %v", out, err)
	}
	st, err := sqlstore.Open(ctx, "sqlite://"+dir+"/chargedesk.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o, err := st.Operator(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if o.Role != chargedesk.RoleAdmin || bcrypt.CompareHashAndPassword([]byte(o.PasswordHash), []byte("another long password")) != nil {
		t.Fatalf("ada: %+v", o)
	}
}

// TestAgentSwitchesAreStored: the node's kill switch and playbook switches
// live in the store: the operator API's PUT /api/v1/agent writes it there,
// a second node on the same database reads it, and this node reads what
// the other throws.
func TestAgentSwitchesAreStored(t *testing.T) {
	const key = "switch-test-key-0123456789"
	dir := t.TempDir()
	cfg := &config{HTTPAddr: "127.0.0.1:0", OCPPAddr: "127.0.0.1:0", DataDir: dir, APIKeys: map[string]string{key: "switch-test"},
		HeartbeatInterval: 60 * time.Second, Node: "switch-test", LogFormat: "text", LogLevel: slog.LevelWarn}
	ctx, stop := context.WithCancel(context.Background())
	srv, err := startServer(ctx, cfg, slog.New(slog.DiscardHandler), serverOptions{})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.wait(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	if srv.rules.Switches != srv.switches || srv.switches == nil {
		t.Fatal("the policy does not read the stored switches")
	}
	req, _ := http.NewRequest(http.MethodPut, srv.apiURL+"/api/v1/agent", strings.NewReader(`{"enabled": false}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"enabled":false`) {
		t.Fatalf("PUT /api/v1/agent: %d %s", res.StatusCode, body)
	}
	if srv.rules.AgentEnabled() {
		t.Fatal("the kill switch is still on on this node")
	}
	// Another node: its own handle on the database, its own cache.
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(dir, "chargedesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other := policy.NewSwitches(st, policy.SwitchOptions{})
	if other.AgentEnabled() {
		t.Fatal("a second node does not see the kill switch thrown through the API")
	}
	if err := other.Set(ctx, policy.PlaybookKey(agent.PlaybookStuck), false, "console:ada"); err != nil {
		t.Fatal(err)
	}
	stored, err := srv.switches.Stored(ctx)
	if err != nil || policy.SwitchOn(stored[policy.PlaybookKey(agent.PlaybookStuck)]) {
		t.Fatalf("this node does not read the playbook switch another threw: %v %v", stored, err)
	}
}
