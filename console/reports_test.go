package console_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// reportsNow is when the reports tests look, after the history written in
// 2025 (the browser's session cookie must not have expired in real time).
var reportsNow = time.Now().UTC().Truncate(time.Minute)

func apr(d, h, m int) time.Time { return time.Date(2025, 4, d, h, m, 0, 0, time.UTC) }

// newReportsRig is the console on a store whose clock is the rig's, with a
// month of history written at the times it happened:
//
//   - CP-1, two ports, online all month; port 1 Faulted 10 April
//     08:00–10:00 (120 of 43,200 minutes: 99.722 %), port 2 always up;
//   - CP-2, one port, offline 5 April 00:00 to 6 April 12:00 (2,160
//     minutes: 95 %).
//
// and conversations of April for the support figures.
func newReportsRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	clock := &clock{t: time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)}
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cd.db"), sqlstore.WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, store: st, clock: clock, cmds: &recorder{}}
	r.console, err = console.New(console.Config{Store: st, Operators: st, Commands: r.cmds, HashCost: bcrypt.MinCost, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(r.console)
	t.Cleanup(r.srv.Close)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	connect := func(id string, on bool, at time.Time) {
		t.Helper()
		_, err := st.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error {
			c.Connected = on
			if on {
				c.ConnectedAt = at
			} else {
				c.DisconnectedAt = at
			}
			return nil
		})
		must(err)
	}
	put := func(id string, conn int, s chargedesk.ConnectorStatus, at time.Time) {
		t.Helper()
		must(st.PutConnector(ctx, chargedesk.Connector{ChargerID: id, ID: conn, Status: s, UpdatedAt: at}))
	}
	march := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"CP-1", "CP-2"} {
		_, err := st.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, BootStatus: chargedesk.RegistrationAccepted})
		must(err)
		connect(id, true, march)
		put(id, 1, chargedesk.StatusAvailable, march)
	}
	put("CP-1", 2, chargedesk.StatusAvailable, march)
	put("CP-1", 1, chargedesk.StatusFaulted, apr(10, 8, 0))
	put("CP-1", 2, chargedesk.StatusCharging, apr(10, 8, 30)) // in use: up
	put("CP-1", 1, chargedesk.StatusAvailable, apr(10, 10, 0))
	connect("CP-2", false, apr(5, 0, 0))
	connect("CP-2", true, apr(6, 12, 0))

	// Support, April: an SMS resolved by the agent in 4 minutes, a voice
	// call escalated with a ticket (a category with markup in it), a chat
	// taken over.
	conv := func(id string, ch chargedesk.Channel, lang string, created time.Time) {
		t.Helper()
		must(st.CreateConversation(ctx, &chargedesk.Conversation{ID: id, Channel: ch, Language: lang,
			Status: chargedesk.ConversationOpen, CreatedAt: created}))
		must(st.AppendTurn(ctx, &chargedesk.Turn{ConversationID: id, Role: chargedesk.RoleDriver, Text: "help", At: created}))
	}
	update := func(id string, at time.Time, fn func(c *chargedesk.Conversation)) {
		t.Helper()
		clock.mu.Lock()
		clock.t = at
		clock.mu.Unlock()
		_, err := st.UpdateConversation(ctx, id, func(c *chargedesk.Conversation) error { fn(c); return nil })
		must(err)
	}
	conv("C-1", chargedesk.ChannelSMS, "en", apr(3, 9, 0))
	update("C-1", apr(3, 9, 4), func(c *chargedesk.Conversation) {
		c.Status, c.Category = chargedesk.ConversationResolved, chargedesk.CategorySessionWontStart
	})
	conv("C-2", chargedesk.ChannelVoice, "fr", apr(3, 10, 0))
	update("C-2", apr(3, 10, 5), func(c *chargedesk.Conversation) {
		c.Status, c.TicketID, c.Category = chargedesk.ConversationEscalated, "T-1", `<img src=x onerror=alert(1)>`
	})
	conv("C-3", chargedesk.ChannelChat, "es", apr(4, 11, 0))
	must(st.AppendAudit(ctx, &chargedesk.AuditEntry{At: apr(4, 11, 1), Actor: "console:olga", CommandID: "C-3",
		Kind: chargedesk.TakeoverAuditKind, Stage: chargedesk.AuditOutcome, Allowed: true}))

	clock.mu.Lock()
	clock.t = reportsNow
	clock.mu.Unlock()
	return r
}

// download fetches a path and returns the response and its body.
func (b *browser) download(path string) (*http.Response, string) {
	b.r.t.Helper()
	res, err := b.c.Get(b.r.srv.URL + path)
	if err != nil {
		b.r.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// uptimeCSV downloads a month's CSV and returns its rows by "station/port".
func uptimeCSV(t *testing.T, b *browser, month string) map[string][]string {
	t.Helper()
	res, body := b.download("/console/reports/uptime.csv?month=" + month)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("CSV: %d %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="chargedesk-uptime-`+month+`.csv"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, body)
	}
	want := []string{"month", "station_id", "port_id", "minutes", "outage_minutes", "excluded_minutes", "uptime_pct", "excluded_causes", "note"}
	if strings.Join(recs[0], ",") != strings.Join(want, ",") {
		t.Fatalf("header %v", recs[0])
	}
	out := map[string][]string{}
	for _, rec := range recs[1:] {
		if rec[0] != month {
			t.Fatalf("row of another month: %v", rec)
		}
		out[rec[1]+"/"+rec[2]] = rec
	}
	return out
}

func wantCSVRow(t *testing.T, rows map[string][]string, port string, want ...string) {
	t.Helper()
	got, ok := rows[port]
	if !ok {
		t.Fatalf("no row for %s in %v", port, rows)
	}
	if strings.Join(got[3:], "|") != strings.Join(want, "|") {
		t.Errorf("%s: %v, want %v", port, got[3:], want)
	}
}

func TestUptimeReportAndCSV(t *testing.T) {
	r := newReportsRig(t)
	viewer := r.signedIn("vera", chargedesk.RoleViewer)
	rows := uptimeCSV(t, viewer, "2025-04")
	if len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	wantCSVRow(t, rows, "CP-1/1", "43200.00", "120.00", "0.00", "99.722", "", "")
	wantCSVRow(t, rows, "CP-1/2", "43200.00", "0.00", "0.00", "100.000", "", "")
	wantCSVRow(t, rows, "CP-2/1", "43200.00", "2160.00", "0.00", "95.000", "", "")

	status, page := viewer.get("/console/reports?month=2025-04&from=2025-04-01&to=2025-04-30")
	if status != http.StatusOK {
		t.Fatalf("page: %d %s", status, page)
	}
	for _, want := range []string{"April 2025", "98.241 %", ">1</strong> ports not above 97 %", "95.000", "Download CSV",
		`href="/console/reports/uptime.csv?month=2025-04"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "99.722") {
		t.Error("a compliant port is listed as not compliant")
	}
	// A viewer sees no exclusion form.
	if strings.Contains(page, `action="/console/reports/exclusions"`) {
		t.Error("a viewer is offered the exclusion form")
	}
	// March: CP-1 and CP-2 counted from 20 March, 12 days.
	rows = uptimeCSV(t, viewer, "2025-03")
	wantCSVRow(t, rows, "CP-2/1", "17280.00", "0.00", "0.00", "100.000", "", "counted from 2025-03-20T00:00:00Z")
	// The current month is reported to date.
	month := reportsNow.Format("2006-01")
	start := time.Date(reportsNow.Year(), reportsNow.Month(), 1, 0, 0, 0, 0, time.UTC)
	rows = uptimeCSV(t, viewer, month)
	wantCSVRow(t, rows, "CP-1/1", strconv.FormatFloat(reportsNow.Sub(start).Minutes(), 'f', 2, 64), "0.00", "0.00", "100.000", "", "")
	if status, page := viewer.get("/console/reports"); status != http.StatusOK || !strings.Contains(page, "(to date)") {
		t.Fatalf("the current month: %d", status)
	}
}

func TestUptimeExclusions(t *testing.T) {
	r := newReportsRig(t)
	op := r.signedIn("olga", chargedesk.RoleOperator)
	op.get("/console/reports?month=2025-04")
	form := url.Values{"charger": {"CP-2"}, "connector": {"0"}, "start": {"2025-04-05T00:00"}, "end": {"2025-04-05T12:00"},
		"cause": {string(chargedesk.CauseUtilityInterruption)}, "note": {`utility ticket 4711 <script>alert("x")</script>`},
		"month": {"2025-04"}}
	status, loc, body := op.post("/console/reports/exclusions", form)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/reports?") || !strings.Contains(loc, "month=2025-04") {
		t.Fatalf("exclusion: %d %q %s", status, loc, body)
	}
	// 720 of the 2,160 minutes offline are excluded: (43200 − 1440) / 43200.
	rows := uptimeCSV(t, op, "2025-04")
	wantCSVRow(t, rows, "CP-2/1", "43200.00", "2160.00", "720.00", "96.667", "utility_interruption", "")
	wantCSVRow(t, rows, "CP-1/1", "43200.00", "120.00", "0.00", "99.722", "", "")

	status, page := op.get(loc)
	if status != http.StatusOK || !strings.Contains(page, "Excluded outage recorded.") || !strings.Contains(page, "96.667") {
		t.Fatalf("page after the exclusion: %d", status)
	}
	// The note is shown as text.
	if strings.Contains(page, `<script>alert("x")`) || !strings.Contains(page, "utility ticket 4711 &lt;script&gt;") {
		t.Fatal("the exclusion's note is not escaped")
	}
	entries, err := r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Actor != "console:olga" || last.Kind != "console.uptime_exclusion.add" || !strings.HasPrefix(last.CommandID, "uptime-exclusion:") ||
		!strings.Contains(last.Reason, "utility_interruption CP-2/0 2025-04-05T00:00:00Z") {
		t.Fatalf("audit %+v", last)
	}

	// Refused: a viewer (even with the session's token), a request without
	// the token, nonsense.
	viewer := r.signedIn("vera", chargedesk.RoleViewer)
	viewer.get("/console/reports?month=2025-04")
	if status, _, _ := viewer.post("/console/reports/exclusions", form); status != http.StatusForbidden {
		t.Fatalf("viewer's exclusion: %d", status)
	}
	noToken := url.Values{}
	for k, v := range form {
		noToken[k] = v
	}
	noToken.Set("csrf", "")
	if status, _, _ := op.post("/console/reports/exclusions", noToken); status != http.StatusForbidden {
		t.Fatalf("exclusion without the CSRF token: %d", status)
	}
	for name, edit := range map[string]func(v url.Values){
		"unknown charger": func(v url.Values) { v.Set("charger", "CP-9") },
		"bad cause":       func(v url.Values) { v.Set("cause", "bad_luck") },
		"reversed":        func(v url.Values) { v.Set("end", "2025-04-04T00:00") },
		"bad time":        func(v url.Values) { v.Set("start", "yesterday") },
		"bad port":        func(v url.Values) { v.Set("connector", "one") },
		"no note":         func(v url.Values) { v.Set("note", " ") },
	} {
		v := url.Values{}
		for k, vv := range form {
			v[k] = vv
		}
		edit(v)
		if status, _, _ := op.post("/console/reports/exclusions", v); status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("%s: %d", name, status)
		}
	}
	excl, err := r.store.UptimeExclusions(context.Background(), apr(1, 0, 0), apr(30, 0, 0))
	if err != nil || len(excl) != 1 {
		t.Fatalf("exclusions after the refusals: %+v %v", excl, err)
	}

	// Deleting: a viewer may not; an operator may, and it is audited.
	del := "/console/reports/exclusions/" + strconv.FormatInt(excl[0].ID, 10) + "/delete"
	if status, _, _ := viewer.post(del, url.Values{"month": {"2025-04"}}); status != http.StatusForbidden {
		t.Fatalf("viewer's delete: %d", status)
	}
	if status, loc, _ := op.post(del, url.Values{"month": {"2025-04"}}); status != http.StatusSeeOther || !strings.Contains(loc, "month=2025-04") {
		t.Fatalf("delete: %d %q", status, loc)
	}
	if status, _, _ := op.post(del, url.Values{"month": {"2025-04"}}); status != http.StatusNotFound {
		t.Fatalf("delete again: %d", status)
	}
	rows = uptimeCSV(t, op, "2025-04")
	wantCSVRow(t, rows, "CP-2/1", "43200.00", "2160.00", "0.00", "95.000", "", "")
	entries, _ = r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{})
	if last := entries[len(entries)-1]; last.Kind != "console.uptime_exclusion.delete" || last.Actor != "console:olga" {
		t.Fatalf("audit %+v", last)
	}
}

func TestSupportFigures(t *testing.T) {
	r := newReportsRig(t)
	b := r.signedIn("vera", chargedesk.RoleViewer)
	status, page := b.get("/console/reports?month=2025-04&from=2025-04-01&to=2025-04-30")
	if status != http.StatusOK {
		t.Fatalf("page: %d", status)
	}
	for _, want := range []string{
		"Support · 2025-04-01 to 2025-04-30",
		">3</strong> conversations",
		">1</strong> resolved without a person (33.3 %)",
		">4 min 0 s</strong> median time to resolution",
		">2</strong> escalations to people",
		`<svg class="chart"`, `class="bar-total"`, `class="bar-agent"`, `class="bar-category"`,
		"2025-04-03: 2 conversations, 1 resolved without a person",
		"<td>sms</td>", "<td>fr</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The category with markup is text in the chart; no style attribute
	// anywhere (the CSP forbids them).
	if strings.Contains(page, "<img src=x") || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("a category is not escaped in the chart")
	}
	if strings.Contains(page, "style=") || strings.Contains(page, "<script>") {
		t.Error("the page has a style attribute or an inline script")
	}
	// A period with nothing in it.
	if status, page := b.get("/console/reports?from=2025-05-01&to=2025-05-09"); status != http.StatusOK ||
		!strings.Contains(page, "No conversation in this period.") || !strings.Contains(page, "No escalation in this period.") {
		t.Fatalf("empty period: %d", status)
	}
}

func TestReportsInputsBounded(t *testing.T) {
	r := newReportsRig(t)
	b := r.signedIn("vera", chargedesk.RoleViewer)
	next := reportsNow.AddDate(0, 1, 0).Format("2006-01")
	tomorrow := reportsNow.AddDate(0, 0, 1).Format("2006-01-02")
	for _, q := range []string{
		"month=2025-13", "month=25-04", "month=2025-4", "month=1999-12", "month=" + next, "month=abcd-ef",
		"from=" + tomorrow, "to=" + tomorrow, "from=2025-04-10&to=2025-04-01", "from=2024-01-01&to=2025-05-01",
		"from=2025-02-30", "to=tomorrow",
	} {
		if status, _ := b.get("/console/reports?" + q); status != http.StatusBadRequest {
			t.Errorf("%s: %d", q, status)
		}
	}
	for _, q := range []string{"month=2025-13", "month=" + next, "month="} {
		res, _ := b.download("/console/reports/uptime.csv?" + q)
		want := http.StatusBadRequest
		if q == "month=" {
			want = http.StatusOK // the current month
		}
		if res.StatusCode != want {
			t.Errorf("CSV %s: %d", q, res.StatusCode)
		}
	}
	// Signed out: sent to sign in, no report.
	res, err := r.browser().c.Get(r.srv.URL + "/console/reports/uptime.csv?month=2025-04")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed-out CSV: %d", res.StatusCode)
	}
}
