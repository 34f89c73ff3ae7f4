package console_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

var auditRowLink = regexp.MustCompile(`<td><a href="/console/audit/(\d+)">`)

// seqsOf returns the entries an audit page lists, in its order.
func seqsOf(body string) []int64 {
	var out []int64
	for _, m := range auditRowLink.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

// appendAudit writes entries as the gateway and the console would, each a
// minute after base.
func (r *rig) appendAudit(base time.Time, entries ...chargedesk.AuditEntry) []int64 {
	r.t.Helper()
	var seqs []int64
	for i, e := range entries {
		e.At = base.Add(time.Duration(i) * time.Minute)
		if err := r.store.AppendAudit(context.Background(), &e); err != nil {
			r.t.Fatal(err)
		}
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

func TestAuditSearch(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vic", chargedesk.RoleViewer)
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	s := r.appendAudit(base,
		chargedesk.AuditEntry{Actor: "agent:C-1", CommandID: "cmd-1", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditDecision,
			Allowed: true, Reason: "rules passed", Detail: json.RawMessage(`{"kind":"Reset","note":"<script>alert(1)</script>"}`)},
		chargedesk.AuditEntry{Actor: "agent:C-1", CommandID: "cmd-1", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditOutcome,
			Allowed: true, Outcome: "Accepted"},
		chargedesk.AuditEntry{Actor: "operator:key1", CommandID: "cmd-2", Kind: "UnlockConnector", ChargerID: "CP-2", Stage: chargedesk.AuditDecision,
			Reason: "unlock refused: transaction 4 is active"},
		chargedesk.AuditEntry{Actor: "console:ada", CommandID: "T-1", Kind: "console.ticket.assign", Stage: chargedesk.AuditOutcome,
			Allowed: true, Outcome: "assigned"},
	)
	status, body := b.get("/console/audit")
	if status != http.StatusOK {
		t.Fatalf("audit: %d %s", status, body)
	}
	all := seqsOf(body)
	if len(all) < 5 || all[0] <= all[1] {
		t.Fatalf("not newest first: %v", all)
	}
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the detail is not shown escaped")
	}
	if !strings.Contains(body, `<span class="badge bad">refused</span>`) || !strings.Contains(body, `<span class="badge">Accepted</span>`) {
		t.Error("decisions and outcomes are not shown")
	}
	for _, tt := range []struct {
		query string
		want  []int64
	}{
		{"?actor=agent:", []int64{s[1], s[0]}},
		{"?actor=operator:", []int64{s[2]}},
		{"?actor=console:ada&kind=console.ticket.assign", []int64{s[3]}},
		{"?charger=CP-1", []int64{s[1], s[0]}},
		{"?command=cmd-2", []int64{s[2]}},
		{"?kind=Reset", []int64{s[1], s[0]}},
		{"?from=2025-03-01T10:01&to=2025-03-01T10:03", []int64{s[2], s[1]}},
		{"?from=2025-03-01T10:02:00&actor=agent:", nil},
		{"?to=" + url.QueryEscape("2025-03-01T10:00:30Z"), []int64{s[0]}},
	} {
		status, body := b.get("/console/audit" + tt.query)
		if got := seqsOf(body); status != http.StatusOK || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %d %v, want %v", tt.query, status, got, tt.want)
		}
	}
	for _, bad := range []string{"?from=yesterday", "?to=2025-13-01T00:00", "?charger=" + url.QueryEscape("CP 1"), "?before=-3",
		"?actor=" + strings.Repeat("a", 101)} {
		if status, _ := b.get("/console/audit" + bad); status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, status)
		}
	}
}

func TestAuditPages(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vic", chargedesk.RoleViewer)
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	var many []chargedesk.AuditEntry
	for i := range 150 {
		many = append(many, chargedesk.AuditEntry{Actor: "agent:C-9", CommandID: fmt.Sprintf("c-%d", i), Kind: "TriggerMessage",
			ChargerID: "CP-9", Stage: chargedesk.AuditDecision, Allowed: true})
	}
	seqs := r.appendAudit(base, many...)
	_, body := b.get("/console/audit?charger=CP-9")
	page := seqsOf(body)
	if len(page) != 100 || page[0] != seqs[149] || page[99] != seqs[50] {
		t.Fatalf("first page %d entries from %d to %d", len(page), page[0], page[len(page)-1])
	}
	older := fmt.Sprintf(`href="/console/audit?before=%d&amp;charger=CP-9"`, seqs[50])
	if !strings.Contains(body, older) {
		t.Fatalf("no link to older entries (%s)", older)
	}
	_, body = b.get(fmt.Sprintf("/console/audit?charger=CP-9&before=%d", seqs[50]))
	page = seqsOf(body)
	if len(page) != 50 || page[0] != seqs[49] || page[49] != seqs[0] || strings.Contains(body, "Older") || !strings.Contains(body, "Newest") {
		t.Fatalf("second page %v", page)
	}

	// One entry, with its place in the chain.
	status, body := b.get(fmt.Sprintf("/console/audit/%d", seqs[3]))
	e, _ := r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{AfterSeq: seqs[3] - 1, Limit: 1})
	if status != http.StatusOK || !strings.Contains(body, e[0].Hash) || !strings.Contains(body, e[0].PrevHash) || !strings.Contains(body, "c-3") {
		t.Fatalf("entry page: %d", status)
	}
	for _, path := range []string{"/console/audit/99999", "/console/audit/0", "/console/audit/x"} {
		if status, _ := b.get(path); status != http.StatusNotFound {
			t.Errorf("%s: %d", path, status)
		}
	}
}

func TestAuditVerify(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vic", chargedesk.RoleViewer) // read-only: a viewer may check
	base := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	r.appendAudit(base,
		chargedesk.AuditEntry{Actor: "agent:C-1", CommandID: "cmd-1", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditDecision, Allowed: true},
		chargedesk.AuditEntry{Actor: "agent:C-1", CommandID: "cmd-1", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditOutcome, Allowed: true, Outcome: "Accepted"},
	)
	all, _ := r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{})
	b.get("/console/audit")
	status, _, body := b.post("/console/audit/verify", nil)
	if status != http.StatusOK || !strings.Contains(body, fmt.Sprintf("Chain intact (%d entries).", len(all))) {
		t.Fatalf("verify: %d %s", status, body)
	}
	if status, body := b.get("/console/audit/verify"); status != http.StatusOK || !strings.Contains(body, "Chain intact") {
		t.Fatalf("verify by GET: %d", status)
	}
	if status, _, _ := b.post("/console/audit/verify", url.Values{"csrf": {"forged"}}); status != http.StatusForbidden {
		t.Fatalf("verify without the session's token: %d", status)
	}

	// Someone with the database edits an entry around the append-only
	// trigger: the chain names it.
	db, err := sql.Open("sqlite", r.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	broken := all[len(all)-1].Seq
	for _, q := range []string{`DROP TRIGGER audit_no_update`, fmt.Sprintf(`UPDATE audit SET outcome = 'Rejected' WHERE seq = %d`, broken)} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	status, _, body = b.post("/console/audit/verify", nil)
	if status != http.StatusOK || strings.Contains(body, "Chain intact") {
		t.Fatalf("verify a broken chain: %d %s", status, body)
	}
	want := fmt.Sprintf(`Chain broken at <a href="/console/audit/%d">entry %d</a>: audit chain broken at entry %d: hash does not match`, broken, broken, broken)
	if !strings.Contains(body, want) {
		t.Fatalf("the broken entry is not named and linked: %s", body)
	}
}
