package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// addTicket stores an open ticket created at created.
func (r *rig) addTicket(id, category string, created time.Time, evidence string, edit ...func(*chargedesk.Ticket)) *chargedesk.Ticket {
	r.t.Helper()
	tk := &chargedesk.Ticket{ID: id, Category: category, Summary: "summary of " + id, Status: chargedesk.TicketOpen, CreatedAt: created}
	if evidence != "" {
		tk.Evidence = json.RawMessage(evidence)
	}
	for _, e := range edit {
		e(tk)
	}
	if err := r.store.CreateTicket(context.Background(), tk); err != nil {
		r.t.Fatal(err)
	}
	return tk
}

// ticket reads a ticket back.
func (r *rig) ticket(id string) *chargedesk.Ticket {
	r.t.Helper()
	tk, err := r.store.Ticket(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return tk
}

// auditOf returns the audit entries the console wrote about target.
func (r *rig) auditOf(target string) []*chargedesk.AuditEntry {
	r.t.Helper()
	entries, err := r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{CommandID: target, ActorPrefix: "console:"})
	if err != nil {
		r.t.Fatal(err)
	}
	return entries
}

// order fails unless each of ids appears in body, in that order.
func order(t *testing.T, body string, ids ...string) {
	t.Helper()
	last := -1
	for _, id := range ids {
		i := strings.Index(body, ">"+id+"<")
		if i < 0 {
			t.Fatalf("%s is not listed", id)
		}
		if i < last {
			t.Fatalf("%s comes too early; want the order %v", id, ids)
		}
		last = i
	}
}

func TestTicketQueueOrder(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vic", chargedesk.RoleViewer)
	now := r.clock.now()
	// An old slow-charging ticket, an older stuck cable, then a hazard
	// reported just now, and a closed damage ticket.
	r.addTicket("T-slow", "field_service", now.Add(-5*time.Hour), `{"problem":"slow_charging"}`)
	r.addTicket("T-stuck", chargedesk.CategoryConnectorStuck, now.Add(-2*time.Hour), "")
	r.addTicket("T-review", "human_review", now.Add(-3*time.Hour), `{"problem":"rfid_failure"}`)
	r.addTicket("T-hazard", "field_service", now.Add(-time.Minute), `{"hazard":true,"report":"smoke from the cable"}`)
	r.addTicket("T-fixed", chargedesk.CategoryHardwareDamage, now.Add(-time.Hour), "", func(tk *chargedesk.Ticket) {
		tk.Status, tk.Resolution = chargedesk.TicketClosed, "replaced"
	})
	status, body := b.get("/console/tickets")
	if status != http.StatusOK {
		t.Fatalf("queue: %d %s", status, body)
	}
	// Safety first however new; then what stops drivers, oldest first.
	order(t, body, "T-hazard", "T-review", "T-stuck", "T-slow")
	if strings.Contains(body, "T-fixed") {
		t.Error("a closed ticket is in the active queue")
	}
	if !strings.Contains(body, `class="badge urgency safety"`) || !strings.Contains(body, `href="/console/tickets/T-hazard"`) {
		t.Error("the hazard is not marked or linked")
	}

	_, body = b.get("/console/tickets?status=closed")
	if !strings.Contains(body, "T-fixed") || strings.Contains(body, "T-stuck") {
		t.Errorf("closed filter: %s", body)
	}
	_, body = b.get("/console/tickets?category=field_service")
	order(t, body, "T-hazard", "T-slow")
	if strings.Contains(body, "T-stuck") {
		t.Error("the category filter let another category through")
	}
	_, body = b.get("/console/tickets?status=all")
	order(t, body, "T-fixed", "T-hazard", "T-review", "T-stuck", "T-slow")
	for _, bad := range []string{"?status=later", "?category=" + url.QueryEscape("x' OR 1=1"), "?category=" + strings.Repeat("a", 65), "?page=0", "?page=x"} {
		if status, _ := b.get("/console/tickets" + bad); status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, status)
		}
	}
}

func TestTicketQueuePages(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vic", chargedesk.RoleViewer)
	now := r.clock.now()
	for i := range 53 {
		r.addTicket(fmt.Sprintf("T-%03d", i), "billing", now.Add(time.Duration(i)*time.Minute), "")
	}
	_, body := b.get("/console/tickets")
	if !strings.Contains(body, ">T-000<") || !strings.Contains(body, ">T-049<") || strings.Contains(body, ">T-050<") {
		t.Fatal("the first page is not the 50 oldest")
	}
	if !strings.Contains(body, `href="/console/tickets?page=2&amp;status=active"`) || strings.Contains(body, "Previous") {
		t.Fatalf("first page's pager: %s", body[strings.Index(body, `class="pager"`):])
	}
	_, body = b.get("/console/tickets?page=2")
	if !strings.Contains(body, ">T-050<") || !strings.Contains(body, ">T-052<") || strings.Contains(body, ">T-049<") {
		t.Fatal("the second page does not hold the rest")
	}
	if strings.Contains(body, "Next") || !strings.Contains(body, "Previous") {
		t.Fatal("second page's pager")
	}
}

func TestTicketPageEscapes(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	b := r.signedIn("vic", chargedesk.RoleViewer)
	conv := &chargedesk.Conversation{ID: "C-1", Channel: chargedesk.ChannelSMS, Language: "en", Status: chargedesk.ConversationEscalated,
		CreatedAt: r.clock.now(), UpdatedAt: r.clock.now()}
	if err := r.store.CreateConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	for _, turn := range []chargedesk.Turn{
		{Role: chargedesk.RoleDriver, Text: `my cable <script>alert("driver")</script> is stuck`},
		{Role: chargedesk.RoleAgent, Text: "I've passed this to a person."},
	} {
		turn.ConversationID, turn.At = "C-1", r.clock.now()
		if err := r.store.AppendTurn(ctx, &turn); err != nil {
			t.Fatal(err)
		}
	}
	r.addTicket("T-x", "human_review", r.clock.now(), `{"report":"<img src=x onerror=alert(1)>","problem":"connector_stuck"}`, func(tk *chargedesk.Ticket) {
		tk.Summary = `Stuck at <script>alert("summary")</script>`
		tk.Diagnosis = "lock_after_session: <b>lock</b> engaged"
		tk.ChargerID, tk.ConnectorID, tk.ConversationID, tk.DriverID = "CP-7", 2, "C-1", "drv-1"
	})
	if err := r.store.AddTicketComment(ctx, &chargedesk.TicketComment{TicketID: "T-x", Author: "console:ada", Body: "<script>alert('comment')</script>"}); err != nil {
		t.Fatal(err)
	}
	status, body := b.get("/console/tickets/T-x")
	if status != http.StatusOK {
		t.Fatalf("ticket page: %d %s", status, body)
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, "<b>lock") {
		t.Fatal("driver or ticket text is not escaped")
	}
	for _, want := range []string{
		`my cable &lt;script&gt;alert(&#34;driver&#34;)&lt;/script&gt; is stuck`,
		`Stuck at &lt;script&gt;`,
		`&lt;img src=x onerror=alert(1)&gt;`,
		`&lt;script&gt;alert(&#39;comment&#39;)&lt;/script&gt;`,
		`href="/console/chargers/CP-7"`, `href="/console/conversations/C-1"`,
		`class="badge urgency blocked"`, "lock_after_session",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// A viewer sees no forms to act with.
	for _, action := range []string{"/assign", "/comment", "/resolve"} {
		if strings.Contains(body, `action="/console/tickets/T-x`+action+`"`) {
			t.Errorf("a viewer is offered %s", action)
		}
	}
	if status, _ := b.get("/console/tickets/T-none"); status != http.StatusNotFound {
		t.Errorf("unknown ticket: %d", status)
	}
	if status, _ := b.get("/console/tickets/" + strings.Repeat("x", 65)); status != http.StatusNotFound {
		t.Errorf("overlong id: %d", status)
	}
}

func TestTicketAssignCommentResolve(t *testing.T) {
	r := newRig(t)
	r.addOperator("bob", chargedesk.RoleOperator)
	r.addOperator("vic", chargedesk.RoleViewer)
	r.addOperator("gone", chargedesk.RoleOperator)
	o, _ := r.store.Operator(context.Background(), "gone")
	o.Disabled = true
	if err := r.store.PutOperator(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	b := r.signedIn("ada", chargedesk.RoleOperator)
	r.addTicket("T-1", chargedesk.CategoryConnectorStuck, r.clock.now(), "")
	_, page := b.get("/console/tickets/T-1")
	for _, want := range []string{`action="/console/tickets/T-1/assign"`, `<option value="ada" selected>ada (me)</option>`, `<option value="bob"`} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %s", want)
		}
	}
	if strings.Contains(page, `<option value="vic"`) || strings.Contains(page, `<option value="gone"`) {
		t.Error("a viewer or a disabled account is offered as assignee")
	}

	// To oneself (no assignee given), then to bob.
	status, loc, _ := b.post("/console/tickets/T-1/assign", nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/tickets/T-1?done=") {
		t.Fatalf("assign: %d %q", status, loc)
	}
	if tk := r.ticket("T-1"); tk.Status != chargedesk.TicketAssigned || tk.Assignee != "ada" {
		t.Fatalf("after assigning to self: %+v", tk)
	}
	if status, _, _ := b.post("/console/tickets/T-1/assign", url.Values{"assignee": {"bob"}}); status != http.StatusSeeOther {
		t.Fatalf("assign to bob: %d", status)
	}
	for _, who := range []string{"vic", "gone", "nobody"} {
		if status, _, _ := b.post("/console/tickets/T-1/assign", url.Values{"assignee": {who}}); status != http.StatusBadRequest {
			t.Errorf("assign to %s: %d", who, status)
		}
	}
	if tk := r.ticket("T-1"); tk.Assignee != "bob" {
		t.Fatalf("assignee %q", tk.Assignee)
	}

	// Comments: bounded text.
	if status, loc, _ := b.post("/console/tickets/T-1/comment", url.Values{"body": {"Called the site.\r\nTech on the way."}}); status != http.StatusSeeOther || !strings.Contains(loc, "done=") {
		t.Fatalf("comment: %d %q", status, loc)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", chargedesk.MaxCommentLen+1), "bell\x07"} {
		if status, _, _ := b.post("/console/tickets/T-1/comment", url.Values{"body": {bad}}); status != http.StatusBadRequest {
			t.Errorf("comment %.20q: %d", bad, status)
		}
	}

	// Resolving needs a note.
	if status, _, body := b.post("/console/tickets/T-1/resolve", url.Values{"resolution": {"  "}}); status != http.StatusBadRequest || !strings.Contains(body, "needs a note") {
		t.Fatalf("resolve without a note: %d", status)
	}
	if tk := r.ticket("T-1"); tk.Status != chargedesk.TicketAssigned {
		t.Fatalf("resolved without a note: %+v", tk)
	}
	if status, _, _ := b.post("/console/tickets/T-1/resolve", url.Values{"resolution": {"Latch replaced on site."}}); status != http.StatusSeeOther {
		t.Fatalf("resolve: %d", status)
	}
	if tk := r.ticket("T-1"); tk.Status != chargedesk.TicketClosed || tk.Resolution != "Latch replaced on site." {
		t.Fatalf("resolved: %+v", tk)
	}
	// A closed ticket is neither resolved again nor assigned; it reopens.
	if status, _, _ := b.post("/console/tickets/T-1/resolve", url.Values{"resolution": {"again"}}); status != http.StatusConflict {
		t.Errorf("resolve a closed ticket: %d", status)
	}
	if status, _, _ := b.post("/console/tickets/T-1/assign", nil); status != http.StatusConflict {
		t.Errorf("assign a closed ticket: %d", status)
	}
	if status, _, _ := b.post("/console/tickets/T-1/reopen", nil); status != http.StatusSeeOther {
		t.Errorf("reopen: %d", status)
	}
	if tk := r.ticket("T-1"); tk.Status != chargedesk.TicketOpen || tk.Assignee != "" {
		t.Fatalf("reopened: %+v", tk)
	}
	if status, _, _ := b.post("/console/tickets/T-none/assign", nil); status != http.StatusNotFound {
		t.Errorf("assign an unknown ticket: %d", status)
	}
	if status, _, _ := b.post("/console/tickets/T-none/comment", url.Values{"body": {"hello"}}); status != http.StatusNotFound {
		t.Errorf("comment on an unknown ticket: %d", status)
	}

	// Every action is audited with the operator as the actor, in order.
	var got []string
	for _, e := range r.auditOf("T-1") {
		if e.Actor != "console:ada" {
			t.Errorf("actor %q", e.Actor)
		}
		got = append(got, e.Kind+"/"+e.Outcome)
	}
	want := []string{"console.ticket.assign/assigned", "console.ticket.assign/assigned", "console.ticket.comment/commented",
		"console.ticket.resolve/resolved", "console.ticket.reopen/reopened"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit %v, want %v", got, want)
	}
	entries := r.auditOf("T-1")
	if !strings.Contains(entries[1].Reason, "assigned to bob (was assigned, ada)") || !strings.Contains(entries[3].Reason, "Latch replaced") {
		t.Errorf("reasons %q, %q", entries[1].Reason, entries[3].Reason)
	}
	// And shown on the ticket's page, with the comment.
	_, page = b.get("/console/tickets/T-1")
	for _, want := range []string{"console.ticket.resolve", "console.ticket.comment", "Called the site.\nTech on the way.", "console:ada",
		fmt.Sprintf(`href="/console/audit/%d"`, entries[0].Seq)} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}
}

func TestTicketActionsNeedRoleAndToken(t *testing.T) {
	r := newRig(t)
	r.addTicket("T-1", "billing", r.clock.now(), "")
	viewer := r.signedIn("vic", chargedesk.RoleViewer)
	for _, path := range []string{"assign", "comment", "resolve", "reopen"} {
		if status, _, _ := viewer.post("/console/tickets/T-1/"+path, url.Values{"body": {"x"}, "resolution": {"x"}}); status != http.StatusForbidden {
			t.Errorf("viewer %s: %d", path, status)
		}
	}
	op := r.signedIn("ada", chargedesk.RoleOperator)
	for _, path := range []string{"assign", "comment", "resolve"} {
		if status, _, _ := op.post("/console/tickets/T-1/"+path, url.Values{"csrf": {"forged"}, "body": {"x"}, "resolution": {"x"}}); status != http.StatusForbidden {
			t.Errorf("%s without the session's token: %d", path, status)
		}
		if status, _, _ := op.post("/console/tickets/T-1/"+path, url.Values{"csrf": {""}, "body": {"x"}, "resolution": {"x"}}); status != http.StatusForbidden {
			t.Errorf("%s with no token: %d", path, status)
		}
	}
	if tk := r.ticket("T-1"); tk.Status != chargedesk.TicketOpen || tk.Assignee != "" {
		t.Fatalf("the ticket changed: %+v", tk)
	}
	if n := len(r.auditOf("T-1")); n != 0 {
		t.Fatalf("%d refused actions audited as done", n)
	}
	comments, _ := r.store.TicketComments(context.Background(), "T-1", 0)
	if len(comments) != 0 {
		t.Fatalf("comments %+v", comments)
	}
}
