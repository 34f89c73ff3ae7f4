package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
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
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/natsbus"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sim"
	"github.com/chargedesk/chargedesk/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newCustomRig is the rig of console_test.go with the console's commander
// and event source chosen by the test (and its live timing when tune is
// set).
func newCustomRig(t *testing.T, st *sqlstore.Store, cmds chargedesk.Commander, events console.EventSource, tune func(*console.Console)) *rig {
	t.Helper()
	r := &rig{t: t, store: st, clock: &clock{t: time.Now()}, cmds: &recorder{}}
	if cmds == nil {
		cmds = r.cmds
	}
	var err error
	r.console, err = console.New(console.Config{Store: st, Operators: st, Commands: cmds, Events: events,
		HashCost: bcrypt.MinCost, Now: r.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(r.console)
	}
	r.srv = httptest.NewServer(r.console)
	t.Cleanup(r.srv.Close)
	return r
}

// charger registers a charger with its connectors and, when site is set,
// places it there.
func charger(t *testing.T, st *sqlstore.Store, id, site string, connected bool, conns ...chargedesk.Connector) {
	t.Helper()
	ctx := context.Background()
	_, err := st.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, Description: "Lot of " + id, BootStatus: chargedesk.RegistrationAccepted})
	must(t, err)
	_, err = st.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error {
		now := time.Now().Add(-10 * time.Minute)
		c.Connected, c.LastSeenAt, c.Protocol = connected, now, chargedesk.OCPP16
		if connected {
			c.Node, c.ConnectedAt = "node-1", now
		} else {
			c.DisconnectedAt = now.Add(-2 * time.Hour)
		}
		return nil
	})
	must(t, err)
	for _, k := range conns {
		k.ChargerID = id
		if k.ErrorCode == "" {
			k.ErrorCode = "NoError"
		}
		must(t, st.PutConnector(ctx, k))
	}
	if site != "" {
		must(t, st.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: id, SiteID: site}))
	}
}

func conn(id int, st chargedesk.ConnectorStatus) chargedesk.Connector {
	return chargedesk.Connector{ID: id, Status: st, StatusAt: time.Now().Add(-time.Minute)}
}

var chargerLink = regexp.MustCompile(`href="/console/chargers/([^"]+)"`)

// listed returns the chargers a fleet page links to, in order.
func listed(body string) []string {
	var ids []string
	for _, m := range chargerLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestFleetPage(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	st := r.store
	must(t, st.PutSite(ctx, &chargedesk.Site{ID: "maple", Name: "Maple Plaza"}))
	must(t, st.PutSite(ctx, &chargedesk.Site{ID: "oak", Name: "Oak Mall"}))
	charger(t, st, "FRE-001", "maple", true, conn(0, chargedesk.StatusAvailable), conn(1, chargedesk.StatusCharging), conn(2, chargedesk.StatusAvailable))
	charger(t, st, "FRE-002", "maple", false, chargedesk.Connector{ID: 1, Status: chargedesk.StatusFaulted, ErrorCode: "GroundFailure"})
	charger(t, st, "TOR-001", "oak", true, conn(1, chargedesk.StatusAvailable))
	tx, err := st.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "FRE-001", ConnectorID: 1, IDTag: "RFID00001234",
		StartedAt: time.Now().Add(-30 * time.Minute), MeterStartWh: 1000})
	must(t, err)
	tx.Meter(13500, time.Now().Add(-time.Minute))
	must(t, st.UpdateTransaction(ctx, tx))

	b := r.signedIn("vera", chargedesk.RoleViewer)
	status, body := b.get("/console/fleet")
	if status != http.StatusOK {
		t.Fatalf("fleet: %d %s", status, body)
	}
	for _, want := range []string{"FRE-001", "FRE-002", "TOR-001", "Lot of FRE-001", "session " + tx.ID, "••••1234", "12.50 kWh",
		"GroundFailure", "offline", "since 2 h ago", "Maple Plaza (maple)"} {
		if !strings.Contains(body, want) {
			t.Errorf("fleet page lacks %q", want)
		}
	}
	if strings.Contains(body, "RFID00001234") {
		t.Error("the fleet page shows a whole token")
	}
	// Connector 0 Available says nothing: it is not listed.
	if strings.Contains(body, `<span class="cid">charger</span>`) {
		t.Error("connector 0 listed while Available")
	}
	filters := []struct {
		query string
		want  []string
	}{
		{"?site=maple", []string{"FRE-001", "FRE-002"}},
		{"?site=oak", []string{"TOR-001"}},
		{"?status=faulted", []string{"FRE-002"}},
		{"?status=offline", []string{"FRE-002"}},
		{"?status=connected", []string{"FRE-001", "TOR-001"}},
		{"?status=in-use", []string{"FRE-001"}},
		{"?status=available", []string{"FRE-001", "TOR-001"}},
		{"?status=unavailable", nil},
		{"?q=tor", []string{"TOR-001"}},
		{"?q=fre&status=available&site=maple", []string{"FRE-001"}},
	}
	for _, f := range filters {
		status, body := b.get("/console/fleet" + f.query)
		if got := listed(body); status != http.StatusOK || strings.Join(got, ",") != strings.Join(f.want, ",") {
			t.Errorf("fleet%s: %d %v, want %v", f.query, status, got, f.want)
		}
		if len(f.want) == 0 && !strings.Contains(body, "No charger matches") {
			t.Errorf("fleet%s: no empty notice", f.query)
		}
	}
	for query, msg := range map[string]string{
		"?status=broken":                    "Unknown status filter",
		"?q=" + url.QueryEscape("a b"):      "search",
		"?q=50%25":                          "search",
		"?after=" + url.QueryEscape("x'--"): "after",
		"?q=" + strings.Repeat("x", 49):     "longer than 48",
	} {
		status, body := b.get("/console/fleet" + query)
		if status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), msg) {
			t.Errorf("fleet%s: %d, want 400 with %q", query, status, msg)
		}
	}
}

var nextLink = regexp.MustCompile(`href="/console/fleet\?([^"]*)" rel="next"`)

func TestFleetPages(t *testing.T) {
	r := newRig(t)
	for i := range 120 {
		charger(t, r.store, fmt.Sprintf("PG-%03d", i), "", i%2 == 0, conn(1, chargedesk.StatusAvailable))
	}
	charger(t, r.store, "ZZ-1", "", true)
	b := r.signedIn("vera", chargedesk.RoleViewer)
	path, seen := "/console/fleet?status=available&q=pg-", 0
	for page := 1; ; page++ {
		status, body := b.get(path)
		if status != http.StatusOK {
			t.Fatalf("page %d: %d", page, status)
		}
		ids := listed(body)
		want := 50
		if page == 3 {
			want = 20
		}
		if len(ids) != want || ids[0] != fmt.Sprintf("PG-%03d", seen) {
			t.Fatalf("page %d: %d chargers from %v", page, len(ids), ids[:min(1, len(ids))])
		}
		seen += len(ids)
		m := nextLink.FindStringSubmatch(body)
		if page == 3 {
			if m != nil {
				t.Fatalf("last page links to a next one: %s", m[1])
			}
			break
		}
		if m == nil {
			t.Fatalf("page %d has no next link", page)
		}
		v, err := url.ParseQuery(html.UnescapeString(m[1]))
		must(t, err)
		if v.Get("after") != ids[len(ids)-1] || v.Get("status") != "available" || v.Get("q") != "pg-" {
			t.Fatalf("next link of page %d keeps %v", page, v)
		}
		path = "/console/fleet?" + v.Encode()
		if page == 2 && !strings.Contains(body, "First page") {
			t.Fatal("no way back to the first page")
		}
	}
	if seen != 120 {
		t.Fatalf("saw %d chargers", seen)
	}
}

// seedChargerPage makes FRE-001 with what its page shows: identity,
// connectors, sessions, frames and commands, with markup where a charger
// or a driver could put some.
func seedChargerPage(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	_, err := st.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: "FRE-001", Description: `<script>alert("desc")</script>`,
		BootStatus: chargedesk.RegistrationAccepted})
	must(t, err)
	boot := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	_, err = st.UpdateCharger(ctx, "FRE-001", func(c *chargedesk.Charger) error {
		c.Vendor, c.Model, c.FirmwareVersion, c.Protocol, c.Node = "Voltaic", "VX-150 <b>", "4.2.1", chargedesk.OCPP16, "node-7"
		c.Connected, c.ConnectedAt, c.LastBootAt, c.LastHeartbeatAt, c.LastSeenAt = true, boot, boot, boot.Add(time.Hour), boot.Add(time.Hour)
		c.BootStatus = chargedesk.RegistrationAccepted
		return nil
	})
	must(t, err)
	must(t, st.PutConnector(ctx, chargedesk.Connector{ChargerID: "FRE-001", ID: 0, Status: chargedesk.StatusAvailable, ErrorCode: "NoError"}))
	must(t, st.PutConnector(ctx, chargedesk.Connector{ChargerID: "FRE-001", ID: 1, Status: chargedesk.StatusCharging, ErrorCode: "NoError",
		Info: "cable <i>ok</i>", StatusAt: boot.Add(30 * time.Minute)}))
	must(t, st.PutConnector(ctx, chargedesk.Connector{ChargerID: "FRE-001", ID: 2, Status: chargedesk.StatusAvailable, ErrorCode: "NoError"}))
	old, err := st.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "FRE-001", ConnectorID: 2, IDTag: "OLDTAG9876", StartedAt: boot, MeterStartWh: 0})
	must(t, err)
	old.StoppedAt, old.MeterStopWh, old.StopReason = boot.Add(time.Hour), 20000, "Local"
	must(t, st.UpdateTransaction(ctx, old))
	_, err = st.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "FRE-001", ConnectorID: 1, IDTag: "RFID00001234", StartedAt: boot.Add(2 * time.Hour)})
	must(t, err)
	must(t, st.AppendEvents(ctx, []chargedesk.Event{
		{ChargerID: "FRE-001", At: boot, Direction: chargedesk.DirIn, Type: "CALL", MessageID: "m1", Action: "Authorize",
			Payload: json.RawMessage(`{"idTag":"RFID00001234"}`)},
		{ChargerID: "FRE-001", At: boot.Add(time.Second), Direction: chargedesk.DirIn, Type: "CALL", MessageID: "m2", Action: "StatusNotification",
			Payload: json.RawMessage(`{"connectorId":1,"errorCode":"NoError","status":"Charging","info":"<script>alert('frame')</script>"}`)},
		{ChargerID: "FRE-001", At: boot.Add(2 * time.Second), Direction: chargedesk.DirOut, Type: "CALLRESULT", MessageID: "m2", Action: "StatusNotification",
			Payload: json.RawMessage(`{}`)},
	}))
	cmd := chargedesk.Command{ID: "cmd-1", Kind: chargedesk.CmdReset, ChargerID: "FRE-001", ResetType: chargedesk.ResetSoft,
		Actor: "console:ada", Reason: "driver <em>called</em>"}
	detail, _ := json.Marshal(cmd)
	must(t, st.AppendAudit(ctx, &chargedesk.AuditEntry{Actor: cmd.Actor, CommandID: cmd.ID, Kind: "Reset", ChargerID: "FRE-001",
		Stage: chargedesk.AuditDecision, Allowed: true, Reason: "rules passed", Detail: detail}))
	must(t, st.AppendAudit(ctx, &chargedesk.AuditEntry{Actor: cmd.Actor, CommandID: cmd.ID, Kind: "Reset", ChargerID: "FRE-001",
		Stage: chargedesk.AuditOutcome, Allowed: true, Outcome: "Accepted"}))
	cmd2 := chargedesk.Command{ID: "cmd-2", Kind: chargedesk.CmdUnlockConnector, ChargerID: "FRE-001", ConnectorID: 1,
		Actor: "console:bob", Reason: "stuck cable"}
	detail, _ = json.Marshal(cmd2)
	must(t, st.AppendAudit(ctx, &chargedesk.AuditEntry{Actor: cmd2.Actor, CommandID: cmd2.ID, Kind: "UnlockConnector", ChargerID: "FRE-001",
		Stage: chargedesk.AuditDecision, Allowed: false, Outcome: "Refused", Reason: "unlock refused: transaction 2 is active on connector 1; stop it first", Detail: detail}))
}

func TestChargerPage(t *testing.T) {
	r := newRig(t)
	seedChargerPage(t, r.store)
	b := r.signedIn("vera", chargedesk.RoleViewer)
	status, body := b.get("/console/chargers/FRE-001")
	if status != http.StatusOK {
		t.Fatalf("charger page: %d %s", status, body)
	}
	for _, want := range []string{
		"Voltaic", "VX-150 &lt;b&gt;", "4.2.1", "ocpp1.6", "node-7", "Connected since", "2025-03-01 08:00:00Z", "2025-03-01 09:00:00Z",
		`data-connector="1"`, `data-connector="0"`, "Charging", "cable &lt;i&gt;ok&lt;/i&gt;",
		"••••1234", "••••9876", "20.00 kWh", "Local",
		"console:ada", "Reset Soft", "driver &lt;em&gt;called&lt;/em&gt;", "allowed", "Accepted",
		"console:bob", "UnlockConnector connector 1", "refused", "transaction 2 is active on connector 1",
		"Authorize", "StatusNotification", "CALLRESULT",
		`&lt;script&gt;alert(&#34;desc&#34;)&lt;/script&gt;`, `&lt;script&gt;alert(&#39;frame&#39;)&lt;/script&gt;`,
		"Your role can look",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("charger page lacks %q", want)
		}
	}
	for _, bad := range []string{"RFID00001234", "OLDTAG9876", "<script>alert", "<i>ok", "<em>called", `action="/console/chargers/FRE-001/commands"`} {
		if strings.Contains(body, bad) {
			t.Errorf("charger page shows %q", bad)
		}
	}
	noInlineCode(t, body)
	// Newest frame first.
	if strings.Index(body, "CALLRESULT") > strings.Index(body, "Authorize</td>") {
		t.Error("timeline not newest first")
	}

	op := r.signedIn("olga", chargedesk.RoleOperator)
	status, body = op.get("/console/chargers/FRE-001")
	if status != http.StatusOK || strings.Count(body, `action="/console/chargers/FRE-001/commands"`) != 6 {
		t.Fatalf("operator's charger page: %d, %d forms", status, strings.Count(body, `action="/console/chargers/FRE-001/commands"`))
	}
	for _, want := range []string{`data-confirm="Hard reset FRE-001?`, `data-confirm="Take FRE-001 out of service?`} {
		if !strings.Contains(body, want) {
			t.Errorf("operator's page lacks %q", want)
		}
	}
	noInlineCode(t, body)

	for _, path := range []string{"/console/chargers/NOPE-1", "/console/chargers/bad%20id", "/console/chargers/" + strings.Repeat("x", 49)} {
		if status, body := b.get(path); status != http.StatusNotFound || !strings.Contains(body, "no") {
			t.Errorf("%s: %d", path, status)
		}
	}
}

// noInlineCode fails on markup the CSP would block: inline scripts, style
// attributes, inline event handlers.
func noInlineCode(t *testing.T, body string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(m, ` src="/console/static/`) {
			t.Errorf("inline script: %s", m)
		}
	}
	if regexp.MustCompile(`(?i)\sstyle=|\son[a-z]+=`).MatchString(body) {
		t.Errorf("inline style or event handler in the page")
	}
}

func TestChargerCommandForms(t *testing.T) {
	r := newRig(t)
	charger(t, r.store, "FRE-001", "", true, conn(0, chargedesk.StatusAvailable), conn(1, chargedesk.StatusAvailable))
	viewer := r.signedIn("vera", chargedesk.RoleViewer)
	viewer.get("/console/chargers/FRE-001")
	// post adds the CSRF token to the form it is given: each post gets its own.
	valid := func() url.Values {
		return url.Values{"action": {"reset"}, "type": {"Soft"}, "reason": {"the driver says it is stuck"}}
	}
	if status, _, body := viewer.post("/console/chargers/FRE-001/commands", valid()); status != http.StatusForbidden || !strings.Contains(body, "does not allow") {
		t.Fatalf("viewer's command: %d", status)
	}
	op := r.signedIn("olga", chargedesk.RoleOperator)
	op.get("/console/chargers/FRE-001")
	for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
		f := url.Values{"csrf": {token}}
		for k, v := range valid() {
			f[k] = v
		}
		if status, _, _ := op.post("/console/chargers/FRE-001/commands", f); status != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d", name, status)
		}
	}
	if len(r.cmds.sent) != 0 {
		t.Fatalf("refused requests sent %+v", r.cmds.sent)
	}

	bad := []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"action": {"reset"}, "type": {"Soft"}}, "A reason is required"},
		{url.Values{"action": {"reset"}, "type": {"Soft"}, "reason": {"   "}}, "A reason is required"},
		{url.Values{"action": {"reset"}, "type": {"Soft"}, "reason": {strings.Repeat("é", 201)}}, "at most 200"},
		{url.Values{"action": {"reset"}, "type": {"Soft"}, "reason": {"a\x00b"}}, "control characters"},
		{url.Values{"action": {"explode"}, "reason": {"r"}}, `Unknown command "explode"`},
		{url.Values{"action": {"reset"}, "type": {"Medium"}, "reason": {"r"}}, `Reset type "Medium" is neither Soft nor Hard`},
		{url.Values{"action": {"unlock"}, "connector": {"0"}, "reason": {"r"}}, "(1 to 100)"},
		{url.Values{"action": {"unlock"}, "connector": {"abc"}, "reason": {"r"}}, `Connector "abc" is not a connector number`},
		{url.Values{"action": {"unlock"}, "connector": {"7"}, "reason": {"r"}}, "has not reported a connector 7"},
		{url.Values{"action": {"availability"}, "availability": {"Broken"}, "connector": {"1"}, "reason": {"r"}}, "neither Operative nor Inoperative"},
		{url.Values{"action": {"availability"}, "availability": {"Operative"}, "connector": {"-1"}, "reason": {"r"}}, "0 for the whole charger"},
		{url.Values{"action": {"trigger"}, "message": {"DataTransfer"}, "reason": {"r"}}, `Message "DataTransfer" cannot be triggered`},
	}
	for _, tt := range bad {
		status, _, body := op.post("/console/chargers/FRE-001/commands", tt.form)
		if status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), tt.msg) {
			t.Errorf("%v: %d, want 400 with %q", tt.form, status, tt.msg)
		}
	}
	if status, _, _ := op.post("/console/chargers/NOPE-1/commands", valid()); status != http.StatusNotFound {
		t.Errorf("unknown charger: %d", status)
	}
	if len(r.cmds.sent) != 0 {
		t.Fatalf("bad forms sent %+v", r.cmds.sent)
	}

	good := []struct {
		form url.Values
		want chargedesk.Command
	}{
		{valid(), chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: "Soft"}},
		{url.Values{"action": {"reset"}, "type": {"Hard"}, "reason": {"r"}}, chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: "Hard"}},
		{url.Values{"action": {"unlock"}, "connector": {"1"}, "reason": {"r"}}, chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: 1}},
		{url.Values{"action": {"availability"}, "availability": {"Inoperative"}, "connector": {"0"}, "reason": {"r"}},
			chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, Availability: "Inoperative"}},
		{url.Values{"action": {"availability"}, "availability": {"Operative"}, "connector": {"1"}, "reason": {"r"}},
			chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, Availability: "Operative", ConnectorID: 1}},
		{url.Values{"action": {"trigger"}, "message": {"MeterValues"}, "connector": {"1"}, "reason": {"r"}},
			chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, Trigger: "MeterValues", ConnectorID: 1}},
		{url.Values{"action": {"trigger"}, "message": {"BootNotification"}, "connector": {"0"}, "reason": {"r"}},
			chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, Trigger: "BootNotification"}},
	}
	for i, tt := range good {
		status, loc, body := op.post("/console/chargers/FRE-001/commands", tt.form)
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/chargers/FRE-001?done=") {
			t.Fatalf("%v: %d %q %s", tt.form, status, loc, body)
		}
		r.cmds.mu.Lock()
		got := r.cmds.sent[i]
		r.cmds.mu.Unlock()
		if got.Kind != tt.want.Kind || got.ResetType != tt.want.ResetType || got.ConnectorID != tt.want.ConnectorID ||
			got.Availability != tt.want.Availability || got.Trigger != tt.want.Trigger || got.ChargerID != "FRE-001" ||
			got.Actor != "console:olga" || got.Reason != strings.Join(strings.Fields(tt.form.Get("reason")), " ") ||
			got.ID == "" || got.Timeout != 30*time.Second {
			t.Errorf("%v sent %+v", tt.form, got)
		}
		if i == 0 {
			// The result is the flash of the page redirected to.
			u, _ := url.Parse(loc)
			if done := u.Query().Get("done"); done != "Soft reset refused by policy: test commander. Nothing was sent." {
				t.Errorf("flash %q", done)
			}
			status, page := op.get(loc)
			if status != http.StatusOK || !strings.Contains(page, `<p class="flash" role="status">Soft reset refused by policy: test commander. Nothing was sent.</p>`) {
				t.Errorf("page after the command: %d", status)
			}
		}
	}
}

// liveRig is the whole central system in the test: SQLite, an embedded
// NATS bus, the OCPP server, the policy gateway (on the bus, as in serve)
// and the console, with simulated chargers.
type liveRig struct {
	*rig
	bus       *natsbus.Bus
	ocppURL   string
	validator *ocpp.Validator
}

var validator = sync.OnceValues(ocpp.NewValidator)

func newLiveRig(t *testing.T) *liveRig {
	t.Helper()
	v, err := validator()
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus, err := natsbus.Open(ctx, natsbus.Config{Name: "console-test"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	srv, err := csms.New(ctx, csms.Config{Node: "console-test", Store: st, Validator: v, Bus: bus,
		FlushInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(ctx) }()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		cancel()
		<-done
	})
	gw := &policy.Gateway{Policy: &policy.Rules{Store: st, Now: time.Now}, Audit: st, Next: bus,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	return &liveRig{rig: newCustomRig(t, st, gw, bus, nil), bus: bus,
		ocppURL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp", validator: v}
}

// frames collects what a simulated charger received.
type frames struct {
	mu  sync.Mutex
	got []string
}

func (f *frames) add(fr sim.Frame) {
	if fr.Dir == sim.DirIn && fr.Message.Type == ocpp.Call {
		f.mu.Lock()
		f.got = append(f.got, fr.Message.Action)
		f.mu.Unlock()
	}
}

func (f *frames) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.got {
		if a == action {
			n++
		}
	}
	return n
}

// runCharger registers and runs a simulated OCPP 1.6 charger with one CCS
// connector and waits until it is connected with its status stored. stop
// takes it off line.
func (lr *liveRig) runCharger(id string) (c *sim.Charger, calls *frames, stop func()) {
	t := lr.t
	t.Helper()
	ctx := context.Background()
	const pw = "console-test-secret-1"
	_, err := lr.store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, PasswordHash: chargedesk.HashPassword(pw),
		BootStatus: chargedesk.RegistrationAccepted})
	must(t, err)
	calls = &frames{}
	c = sim.NewCharger(sim.ChargerConfig{ID: id, Password: pw, Protocol: chargedesk.OCPP16, URL: lr.ocppURL, Validator: lr.validator,
		Vendor: "SimVolt", Model: "SV-1", Connectors: []sim.ConnectorSpec{{Type: sim.CCS1, MaxPowerKW: 150}},
		CallTimeout: 5 * time.Second, RebootDelay: 100 * time.Millisecond, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		OnFrame: calls.add})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(runCtx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	lr.waitCharger(id, "connected with connector 1", func(ch *chargedesk.Charger) bool {
		return ch.Connected && ch.Connector(1) != nil && ch.Connector(1).Status == chargedesk.StatusAvailable
	})
	return c, calls, stop
}

func (lr *liveRig) waitCharger(id, what string, ok func(*chargedesk.Charger) bool) {
	lr.t.Helper()
	waitFor(lr.t, id+" "+what, func() bool {
		ch, err := lr.store.Charger(context.Background(), id)
		return err == nil && ok(ch)
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// command posts a command form and returns the flash it redirects with.
func command(t *testing.T, b *browser, id string, form url.Values) string {
	t.Helper()
	status, loc, body := b.post("/console/chargers/"+id+"/commands", form)
	if status != http.StatusSeeOther {
		t.Fatalf("command %v: %d %s", form, status, body)
	}
	u, err := url.Parse(loc)
	must(t, err)
	if u.Path != "/console/chargers/"+id {
		t.Fatalf("command redirects to %q", loc)
	}
	return u.Query().Get("done")
}

// TestCommandsReachTheCharger sends an operator's commands from the
// charger page to a simulated charger through the policy gateway and the
// bus: they reach it, are audited with the operator as the actor, and
// their results come back as the flash; the policy's refusals too.
func TestCommandsReachTheCharger(t *testing.T) {
	lr := newLiveRig(t)
	ctx := context.Background()
	c, calls, stop := lr.runCharger("LIVE-001")
	op := lr.signedIn("olga", chargedesk.RoleOperator)
	if status, _ := op.get("/console/chargers/LIVE-001"); status != http.StatusOK {
		t.Fatalf("charger page: %d", status)
	}

	flash := command(t, op, "LIVE-001", url.Values{"action": {"unlock"}, "connector": {"1"}, "reason": {"driver says the cable is stuck"}})
	if flash != "Unlock of connector 1: the charger answered Unlocked." {
		t.Fatalf("unlock flash %q", flash)
	}
	if calls.count("UnlockConnector") != 1 {
		t.Fatalf("the charger got %d UnlockConnector", calls.count("UnlockConnector"))
	}
	entries, err := lr.store.AuditEntries(ctx, chargedesk.AuditFilter{ChargerID: "LIVE-001"})
	must(t, err)
	if len(entries) != 2 || entries[0].Stage != chargedesk.AuditDecision || !entries[0].Allowed || entries[1].Outcome != "Unlocked" ||
		entries[0].CommandID != entries[1].CommandID {
		t.Fatalf("audit of the unlock: %+v", entries)
	}
	for _, e := range entries {
		if e.Actor != "console:olga" || e.Kind != "UnlockConnector" {
			t.Fatalf("audit entry %+v", e)
		}
	}
	var sent chargedesk.Command
	must(t, json.Unmarshal(entries[0].Detail, &sent))
	if sent.Reason != "driver says the cable is stuck" {
		t.Fatalf("audited reason %q", sent.Reason)
	}
	if lr.store.VerifyAudit(ctx) != nil {
		t.Fatal("audit chain broken")
	}

	boots := c.State().Counters.Boots
	if flash := command(t, op, "LIVE-001", url.Values{"action": {"reset"}, "type": {"Soft"}, "reason": {"clear a stuck state"}}); flash != "Soft reset: the charger answered Accepted." {
		t.Fatalf("reset flash %q", flash)
	}
	waitFor(t, "the charger to boot again", func() bool { return c.State().Counters.Boots > boots })
	lr.waitCharger("LIVE-001", "back", func(ch *chargedesk.Charger) bool {
		return ch.Connected && ch.Connector(1) != nil && ch.Connector(1).Status == chargedesk.StatusAvailable
	})
	if flash := command(t, op, "LIVE-001", url.Values{"action": {"trigger"}, "message": {"Heartbeat"}, "reason": {"check the link"}}); flash != "Trigger Heartbeat: the charger answered Accepted." {
		t.Fatalf("trigger flash %q", flash)
	}

	// A session on connector 1: unlock and hard reset would end it, and the
	// policy refuses them; nothing reaches the charger.
	must(t, lr.store.PutToken(ctx, &chargedesk.Token{IDTag: "RFID00001234", Status: chargedesk.AuthAccepted}))
	must(t, c.PlugIn(ctx, 1))
	if _, err := c.TapCard(ctx, 1, "RFID00001234"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session", func() bool {
		txs, err := lr.store.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: "LIVE-001", ActiveOnly: true})
		return err == nil && len(txs) == 1
	})
	flash = command(t, op, "LIVE-001", url.Values{"action": {"unlock"}, "connector": {"1"}, "reason": {"driver asks"}})
	if !strings.HasPrefix(flash, "Unlock of connector 1 refused by policy: unlock refused: transaction ") || !strings.HasSuffix(flash, "Nothing was sent.") {
		t.Fatalf("refused unlock flash %q", flash)
	}
	flash = command(t, op, "LIVE-001", url.Values{"action": {"reset"}, "type": {"Hard"}, "reason": {"try harder"}})
	if !strings.HasPrefix(flash, "Hard reset refused by policy: Hard reset refused: it would end transaction ") {
		t.Fatalf("refused reset flash %q", flash)
	}
	if calls.count("UnlockConnector") != 1 || calls.count("Reset") != 1 {
		t.Fatalf("refused commands reached the charger: %v", calls.got)
	}
	newest, err := lr.store.AuditEntries(ctx, chargedesk.AuditFilter{ChargerID: "LIVE-001", Newest: true, Limit: 1})
	must(t, err)
	if len(newest) != 1 || newest[0].Allowed || newest[0].Outcome != "Refused" || newest[0].Actor != "console:olga" {
		t.Fatalf("refusal audited as %+v", newest)
	}

	// The page lists the commands with who sent them, why and how it went.
	status, body := op.get("/console/chargers/LIVE-001")
	if status != http.StatusOK {
		t.Fatalf("charger page: %d", status)
	}
	for _, want := range []string{"console:olga", "driver says the cable is stuck", "Unlocked", "clear a stuck state", "try harder",
		"it would end transaction", "SimVolt", "••••1234", "UnlockConnector"} {
		if !strings.Contains(body, want) {
			t.Errorf("charger page lacks %q", want)
		}
	}

	// Off line: the command is not sent.
	stop()
	lr.waitCharger("LIVE-001", "offline", func(ch *chargedesk.Charger) bool { return !ch.Connected })
	if flash := command(t, op, "LIVE-001", url.Values{"action": {"trigger"}, "message": {"StatusNotification"}, "reason": {"is it there?"}}); flash != "Trigger StatusNotification: the charger is offline; nothing was sent (ChargerOffline)." {
		t.Fatalf("offline flash %q", flash)
	}
}

// sse reads a Server-Sent Events stream.
type sse struct {
	res *http.Response
	r   *bufio.Reader
}

type sseEvent struct {
	name, data string
	comments   []string
}

func openStream(t *testing.T, b *browser, path string, timeout time.Duration) *sse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.r.srv.URL+path, nil)
	must(t, err)
	req.Header.Set("Accept", "text/event-stream")
	c := &http.Client{Jar: b.c.Jar}
	res, err := c.Do(req)
	must(t, err)
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream %s: %d %q", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &sse{res: res, r: bufio.NewReader(res.Body)}
}

// next reads the next event (or block of comments); io.EOF when the
// stream ends.
func (s *sse) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" || len(ev.comments) > 0 {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
			ev.comments = append(ev.comments, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "event: "):
			ev.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data += line[len("data: "):]
		}
	}
}

// until reads events until one named name satisfies ok.
func (s *sse) until(t *testing.T, name string, ok func(data string) bool) string {
	t.Helper()
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("stream ended waiting for %s: %v", name, err)
		}
		if ev.name == name && ok(ev.data) {
			return ev.data
		}
	}
}

// TestLiveChargerEvents subscribes to a charger's stream over real HTTP
// and sees the StatusNotification a simulated charger sends when a cable
// goes in, as a connector update and a timeline frame.
func TestLiveChargerEvents(t *testing.T) {
	lr := newLiveRig(t)
	c, _, _ := lr.runCharger("LIVE-002")
	b := lr.signedIn("vera", chargedesk.RoleViewer)
	status, body := b.get("/console/chargers/LIVE-002")
	if status != http.StatusOK || !strings.Contains(body, `<div id="live" data-events="/console/chargers/LIVE-002/events" hidden></div>`) ||
		!strings.Contains(body, `<script src="/console/static/charger.js" defer></script>`) {
		t.Fatalf("charger page without its live view: %d", status)
	}
	s := openStream(t, b, "/console/chargers/LIVE-002/events", 20*time.Second)
	if ev, err := s.next(); err != nil || len(ev.comments) == 0 {
		t.Fatalf("stream's first block: %+v %v", ev, err)
	}
	must(t, c.PlugIn(context.Background(), 1))
	data := s.until(t, "connector", func(d string) bool { return strings.Contains(d, `"Preparing"`) })
	var k struct {
		ID     int    `json:"id"`
		Status string `json:"status"`
		Class  string `json:"class"`
	}
	must(t, json.Unmarshal([]byte(data), &k))
	if k.ID != 1 || k.Status != "Preparing" || k.Class != "busy" {
		t.Fatalf("connector event %s", data)
	}
	data = s.until(t, "frame", func(d string) bool { return strings.Contains(d, `"StatusNotification"`) })
	var f struct{ Direction, Type, Action, Pretty string }
	must(t, json.Unmarshal([]byte(data), &f))
	if f.Direction != "in" || f.Type != "CALL" || !strings.Contains(f.Pretty, `"status": "Preparing"`) {
		t.Fatalf("frame event %s", data)
	}

	// The charger goes away: the page hears it.
	c.Disconnect()
	s.until(t, "connection", func(d string) bool { return strings.Contains(d, `"connected":false`) })

	// Signed out, the stream is refused, not redirected.
	res, err := http.Get(lr.srv.URL + "/console/chargers/LIVE-002/events")
	must(t, err)
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, lr.srv.URL+"/console/chargers/LIVE-002/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err = http.DefaultClient.Do(req)
	must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("signed-out stream: %d", res.StatusCode)
	}
}

// fakeEvents is an event source the test feeds by hand.
type fakeEvents struct {
	mu   sync.Mutex
	subs map[int]func(chargedesk.Event)
	n    int
}

func (f *fakeEvents) SubscribeEvents(id string, fn func(chargedesk.Event)) (func() error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]func(chargedesk.Event){}
	}
	f.n++
	k := f.n
	f.subs[k] = fn
	return func() error { f.mu.Lock(); delete(f.subs, k); f.mu.Unlock(); return nil }, nil
}

func (f *fakeEvents) publish(e chargedesk.Event) {
	f.mu.Lock()
	fns := make([]func(chargedesk.Event), 0, len(f.subs))
	for _, fn := range f.subs {
		fns = append(fns, fn)
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
}

func (f *fakeEvents) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.subs) }

// TestLiveStreamBounds: a heartbeat while idle, the end after the longest
// life (and the subscription with it), dropped events told to a slow
// client, and no stream without an event source.
func TestLiveStreamBounds(t *testing.T) {
	events := &fakeEvents{}
	st, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "cd.db"))
	must(t, err)
	t.Cleanup(func() { st.Close() })
	r := newCustomRig(t, st, nil, events, func(c *console.Console) { console.SetLiveTiming(c, 50*time.Millisecond, 3*time.Second) })
	charger(t, st, "FRE-001", "", true, conn(1, chargedesk.StatusAvailable))
	b := r.signedIn("vera", chargedesk.RoleViewer)

	s := openStream(t, b, "/console/chargers/FRE-001/events", 10*time.Second)
	pings := 0
	for pings < 2 {
		ev, err := s.next()
		must(t, err)
		for _, c := range ev.comments {
			if c == "ping" {
				pings++
			}
		}
	}
	// A slow client: the stream's queue fills while nobody reads, events
	// are dropped, and the client is told how many once it reads again.
	big := json.RawMessage(`{"data":"` + strings.Repeat("x", 16<<10) + `"}`)
	for i := range 3000 {
		events.publish(chargedesk.Event{ChargerID: "FRE-001", At: time.Now(), Direction: chargedesk.DirIn, Type: "CALL",
			MessageID: fmt.Sprint(i), Action: "DataTransfer", Payload: big})
	}
	data := s.until(t, "gap", func(string) bool { return true })
	var gap struct{ Missed int }
	must(t, json.Unmarshal([]byte(data), &gap))
	if gap.Missed <= 0 {
		t.Fatalf("gap %s", data)
	}
	// The stream ends by itself, and unsubscribes.
	for {
		_, err := s.next()
		if err == io.EOF {
			break
		}
		must(t, err)
	}
	waitFor(t, "the subscription to end", func() bool { return events.count() == 0 })

	if status, _ := b.get("/console/chargers/NOPE-1/events"); status != http.StatusNotFound {
		t.Fatalf("stream of an unknown charger: %d", status)
	}
	plain := newRig(t)
	charger(t, plain.store, "FRE-001", "", true)
	pb := plain.signedIn("vera", chargedesk.RoleViewer)
	if status, _ := pb.get("/console/chargers/FRE-001/events"); status != http.StatusNotImplemented {
		t.Fatalf("stream without an event source: %d", status)
	}
	if _, body := pb.get("/console/chargers/FRE-001"); strings.Contains(body, "charger.js") {
		t.Fatal("live script on a console without events")
	}
}

// TestChargerPageUpstream: in proxy mode the charger page shows the link
// to the upstream as recorded (down, why, failed dials, relay round trips)
// and the messages held for it; outside proxy mode nothing of it.
func TestChargerPageUpstream(t *testing.T) {
	r := newRig(t, func(c *console.Config) { c.Upstream = c.Operators.(chargedesk.UpstreamStore) })
	seedChargerPage(t, r.store)
	ctx := context.Background()
	b := r.signedIn("vera", chargedesk.RoleViewer)
	if _, body := b.get("/console/chargers/FRE-001"); !strings.Contains(body, "Upstream central system") || !strings.Contains(body, "none recorded yet") {
		t.Fatal("proxy mode, no link yet: not shown as such")
	}
	at := time.Now().UTC()
	if err := r.store.RecordUpstreamLinks(ctx, []chargedesk.UpstreamLink{{ChargerID: "FRE-001", Node: "node-3", URL: "wss://legacy.example/ocpp/FRE-001",
		Since: at, LastError: "upstream refused: HTTP 503 <b>", DialFailures: 4, Relayed: 12, RelayMeanUS: 420, RelayMaxUS: 9100, UpdatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	if err := r.store.HoldUpstream(ctx, &chargedesk.HeldMessage{ChargerID: "FRE-001", Protocol: chargedesk.OCPP16, MessageID: "1", Action: "MeterValues", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/console/chargers/FRE-001")
	for _, want := range []string{"down", "node-3", "wss://legacy.example/ocpp/FRE-001", "HTTP 503 &lt;b&gt;", "4 in a row", "420 µs mean, 9100 µs max over 12", "1 messages"} {
		if !strings.Contains(body, want) {
			t.Errorf("upstream section lacks %q", want)
		}
	}
	noInlineCode(t, body)

	plain := newRig(t)
	seedChargerPage(t, plain.store)
	if _, body := plain.signedIn("vera", chargedesk.RoleViewer).get("/console/chargers/FRE-001"); strings.Contains(body, "Upstream central system") {
		t.Error("upstream section outside proxy mode")
	}
}
