package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// rig is the console on a real SQLite store behind a real HTTP server,
// with a clock the test moves.
type rig struct {
	t       *testing.T
	store   *sqlstore.Store
	console *console.Console
	srv     *httptest.Server
	clock   *clock
	cmds    *recorder
	// bus is an embedded NATS; convs is the store as the console and the
	// tests write conversations, publishing each change on the bus.
	bus   *natsbus.Bus
	convs *natsbus.NotifyingStore
	// switches are the agent's, kept in store.
	switches *policy.Switches
	// dbPath is the SQLite file, for tests that reach around the store.
	dbPath string
}

// testPlaybooks are the agent's playbooks as cmd/chargedesk names them
// (agent.Playbooks).
var testPlaybooks = []string{"session", "offline", "stuck", "rfid", "payment", "routed"}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is the commander behind the console in tests that send no
// command to a charger: it records and refuses.
type recorder struct {
	mu   sync.Mutex
	sent []chargedesk.Command
}

func (r *recorder) Send(_ context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, cmd)
	return chargedesk.Result{CommandID: cmd.ID, Status: chargedesk.ResultRefused, Detail: "test commander"}, nil
}

// newRig starts the console; with a configuration's changes (an
// Assistant, an Outbound) when given.
func newRig(t *testing.T, with ...func(*console.Config)) *rig {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "cd.db")
	st, err := sqlstore.Open(ctx, "sqlite://"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus, err := natsbus.Open(ctx, natsbus.Config{Name: "console-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	r := &rig{t: t, store: st, dbPath: dbPath, clock: &clock{t: time.Now()}, cmds: &recorder{}, bus: bus,
		convs: natsbus.NotifyConversations(st, bus, nil)}
	// The agent's switches in the store, as every node reads them.
	r.switches = policy.NewSwitches(st, policy.SwitchOptions{Now: r.clock.now})
	cfg := console.Config{Store: r.convs, Operators: st, Commands: r.cmds, Agent: r.switches, Feed: bus,
		Switches: r.switches, Playbooks: testPlaybooks, Limits: policy.AgentLimits{PerCharger: 7}, Comments: st,
		HashCost: bcrypt.MinCost, Now: r.clock.now}
	for _, w := range with {
		w(&cfg)
	}
	r.console, err = console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(r.console)
	t.Cleanup(r.srv.Close)
	return r
}

// addOperator creates an account whose password is its username repeated
// to length.
func (r *rig) addOperator(username string, role chargedesk.Role) string {
	r.t.Helper()
	pw := strings.Repeat(username, 12)[:16]
	hash, err := console.HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.store.PutOperator(context.Background(), &chargedesk.Operator{Username: username, Role: role, PasswordHash: hash}); err != nil {
		r.t.Fatal(err)
	}
	return pw
}

// browser is a client with its own cookies that does not follow
// redirects, so tests see them.
type browser struct {
	r    *rig
	c    *http.Client
	csrf string // the session's token, read from the last page
}

func (r *rig) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{r: r, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfMeta = regexp.MustCompile(`name="csrf"\s+value="([^"]+)"`)

// get fetches a page and returns its status and body.
func (b *browser) get(path string) (int, string) {
	b.r.t.Helper()
	res, err := b.c.Get(b.r.srv.URL + path)
	if err != nil {
		b.r.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfMeta.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return res.StatusCode, string(body)
}

// post sends a form with the session's CSRF token (unless the form has
// its own "csrf") and returns the status, the Location and the body.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.r.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	res, err := b.c.PostForm(b.r.srv.URL+path, form)
	if err != nil {
		b.r.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

// signin signs in through the form and fails the test unless it worked.
func (b *browser) signin(username, password string) {
	b.r.t.Helper()
	if status, _ := b.get("/console/signin"); status != http.StatusOK {
		b.r.t.Fatalf("sign-in page: %d", status)
	}
	status, loc, body := b.post("/console/signin", url.Values{"username": {username}, "password": {password}})
	if status != http.StatusSeeOther || loc != "/console/" {
		b.r.t.Fatalf("sign in as %s: %d %q %s", username, status, loc, body)
	}
	if status, body := b.get("/console/"); status != http.StatusOK {
		b.r.t.Fatalf("overview after sign-in: %d %s", status, body)
	}
}

// signedIn returns a browser signed in as a new account of role.
func (r *rig) signedIn(username string, role chargedesk.Role) *browser {
	r.t.Helper()
	pw := r.addOperator(username, role)
	b := r.browser()
	b.signin(username, pw)
	return b
}

func TestSignedOutIsSentToSignIn(t *testing.T) {
	r := newRig(t)
	b := r.browser()
	status, loc, _ := func() (int, string, string) {
		res, err := b.c.Get(r.srv.URL + "/console/tickets?status=open")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location"), ""
	}()
	if status != http.StatusSeeOther || loc != "/console/signin?next="+url.QueryEscape("/console/tickets?status=open") {
		t.Fatalf("signed-out page: %d %q", status, loc)
	}
	// A signed-out form post is refused, not redirected.
	if status, _, _ := b.post("/console/signout", nil); status != http.StatusUnauthorized {
		t.Fatalf("signed-out post: %d", status)
	}
}

func TestSignIn(t *testing.T) {
	r := newRig(t)
	pw := r.addOperator("ada", chargedesk.RoleAdmin)
	b := r.browser()
	b.get("/console/signin")
	// A wrong password, an unknown account: the same answer.
	for _, f := range []url.Values{{"username": {"ada"}, "password": {"wrong password!"}}, {"username": {"nobody"}, "password": {pw}}} {
		status, _, body := b.post("/console/signin", f)
		if status != http.StatusUnauthorized || !strings.Contains(body, "do not match an active account") {
			t.Fatalf("bad sign-in %v: %d", f["username"], status)
		}
		b.get("/console/signin")
	}
	// The sign-in form needs its own token.
	if status, _, _ := b.post("/console/signin", url.Values{"username": {"ada"}, "password": {pw}, "csrf": {"forged"}}); status != http.StatusForbidden {
		t.Fatalf("sign-in without the form's token: %d", status)
	}
	b.get("/console/signin")
	res, err := b.c.PostForm(r.srv.URL+"/console/signin", url.Values{"username": {"Ada"}, "password": {pw}, "csrf": {b.csrf},
		"next": {"/console/tickets"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/tickets" {
		t.Fatalf("sign-in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "chargedesk_console" {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/console" || sess.Expires.IsZero() {
		t.Fatalf("session cookie %+v", sess)
	}
	status, body := b.get("/console/")
	if status != http.StatusOK || !strings.Contains(body, "ada") {
		t.Fatalf("overview: %d", status)
	}
	// Signing in again replaces the session: the old cookie is dead.
	b.get("/console/signin")
	b.signin("ada", pw)
	old := r.browser()
	u, _ := url.Parse(r.srv.URL + "/console/")
	old.c.Jar.SetCookies(u, []*http.Cookie{{Name: "chargedesk_console", Value: sess.Value, Path: "/console"}})
	if status, _ := old.get("/console/"); status != http.StatusSeeOther {
		t.Fatalf("the session before a new sign-in still works: %d", status)
	}
	// The sign-in is audited with the operator as the actor.
	entries, err := r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Actor != "console:ada" || entries[0].Kind != "console.signin" {
		t.Fatalf("audit %+v", entries)
	}
}

func TestSignInNextStaysInTheConsole(t *testing.T) {
	r := newRig(t)
	pw := r.addOperator("ada", chargedesk.RoleViewer)
	for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/console/signin", "/api/v1/chargers", "/console/\\evil"} {
		b := r.browser()
		b.get("/console/signin")
		status, loc, _ := b.post("/console/signin", url.Values{"username": {"ada"}, "password": {pw}, "next": {next}})
		if status != http.StatusSeeOther || loc != "/console/" {
			t.Errorf("next %q: %d %q", next, status, loc)
		}
	}
}

func TestSignInRateLimited(t *testing.T) {
	r := newRig(t)
	pw := r.addOperator("ada", chargedesk.RoleViewer)
	b := r.browser()
	for i := 0; i < 5; i++ {
		b.get("/console/signin")
		if status, _, _ := b.post("/console/signin", url.Values{"username": {"ada"}, "password": {"not the password"}}); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, status)
		}
	}
	// Even the right password waits now.
	b.get("/console/signin")
	if status, _, _ := b.post("/console/signin", url.Values{"username": {"ada"}, "password": {pw}}); status != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: %d", status)
	}
	r.clock.add(16 * time.Minute)
	b.signin("ada", pw)
}

func TestSessionExpiresAndSignOut(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("ada", chargedesk.RoleOperator)
	r.clock.add(console.DefaultSessionTTL + time.Minute)
	if status, _ := b.get("/console/"); status != http.StatusSeeOther {
		t.Fatalf("expired session: %d", status)
	}
	b = r.browser()
	b.signin("ada", strings.Repeat("ada", 12)[:16])
	if status, _, _ := b.post("/console/signout", url.Values{"csrf": {"wrong"}}); status != http.StatusForbidden {
		t.Fatalf("sign-out without the token: %d", status)
	}
	if status, loc, _ := b.post("/console/signout", nil); status != http.StatusSeeOther || loc != "/console/signin" {
		t.Fatalf("sign-out: %d %q", status, loc)
	}
	if status, _ := b.get("/console/"); status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", status)
	}
}

func TestDisabledOperatorIsOut(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("ada", chargedesk.RoleAdmin)
	o, err := r.store.Operator(context.Background(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	o.Disabled = true
	if err := r.store.PutOperator(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if status, _ := b.get("/console/"); status != http.StatusSeeOther {
		t.Fatalf("disabled operator's session: %d", status)
	}
	b.get("/console/signin")
	if status, _, _ := b.post("/console/signin", url.Values{"username": {"ada"}, "password": {strings.Repeat("ada", 12)[:16]}}); status != http.StatusUnauthorized {
		t.Fatalf("disabled operator signs in: %d", status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	r := newRig(t)
	for _, path := range []string{"/console/signin", "/console/", "/console/static/console.css"} {
		res, err := http.Get(r.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
}

func TestPasswordBounds(t *testing.T) {
	for _, pw := range []string{"short", strings.Repeat("x", 73)} {
		if _, err := console.HashPassword(pw, bcrypt.MinCost); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Errorf("HashPassword(%d bytes) = %v", len(pw), err)
		}
	}
}
