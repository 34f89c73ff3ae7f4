package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
)

func TestSQLiteConsoleStore(t *testing.T) { runTicketConsoleConformance(t, sqliteBackend) }

func TestPostgresConsoleStore(t *testing.T) { runTicketConsoleConformance(t, postgresBackend(t)) }

// runTicketConsoleConformance checks what the console's tickets, audit and agent
// pages need of a backend: ticket comments, the urgency queue, audit
// search, and settings.
func runTicketConsoleConformance(t *testing.T, b backend) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	ticket := func(id, category string, created time.Time, ev string) *chargedesk.Ticket {
		tk := &chargedesk.Ticket{ID: id, Category: category, Summary: "summary of " + id, Status: chargedesk.TicketOpen, CreatedAt: created}
		if ev != "" {
			tk.Evidence = json.RawMessage(ev)
		}
		return tk
	}

	t.Run("comments", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t), WithClock(stepClock(t0)))
		must(t, s.CreateTicket(ctx, ticket("T-1", "field_service", t0, "")))
		must(t, s.CreateTicket(ctx, ticket("T-2", "billing", t0, "")))
		wantCode(t, s.AddTicketComment(ctx, &chargedesk.TicketComment{TicketID: "T-9", Author: "console:ada", Body: "hello"}), chargedesk.ENOTFOUND)
		for name, bad := range map[string]*chargedesk.TicketComment{
			"no body":       {TicketID: "T-1", Author: "console:ada", Body: "  \n "},
			"no author":     {TicketID: "T-1", Body: "x"},
			"too long":      {TicketID: "T-1", Author: "console:ada", Body: strings.Repeat("é", chargedesk.MaxCommentLen/2+1)},
			"control chars": {TicketID: "T-1", Author: "console:ada", Body: "bell\x07"},
			"bad UTF-8":     {TicketID: "T-1", Author: "console:ada", Body: "\xff"},
		} {
			t.Run(name, func(t *testing.T) { wantCode(t, s.AddTicketComment(ctx, bad), chargedesk.EINVALID) })
		}
		wantCode(t, s.AddTicketComment(ctx, nil), chargedesk.EINVALID)
		at := time.Date(2025, 3, 1, 13, 0, 0, 123456789, time.FixedZone("X", 3600))
		first := &chargedesk.TicketComment{TicketID: "T-1", Author: "console:ada", Body: "called the site\nline two", At: at}
		must(t, s.AddTicketComment(ctx, first))
		second := &chargedesk.TicketComment{TicketID: "T-1", Author: "console:bob", Body: "<b>tech</b> on the way\tsoon"}
		must(t, s.AddTicketComment(ctx, second))
		must(t, s.AddTicketComment(ctx, &chargedesk.TicketComment{TicketID: "T-2", Author: "console:bob", Body: "other ticket"}))
		if first.ID == 0 || second.ID <= first.ID || !first.At.Equal(micro(at)) || second.At.IsZero() {
			t.Fatalf("written back: %+v %+v", first, second)
		}
		got, err := s.TicketComments(ctx, "T-1", 0)
		must(t, err)
		if diff := cmp.Diff([]*chargedesk.TicketComment{first, second}, got); diff != "" {
			t.Errorf("comments (-want +got):\n%s", diff)
		}
		got, err = s.TicketComments(ctx, "T-1", 1)
		must(t, err)
		if len(got) != 1 || got[0].ID != first.ID {
			t.Errorf("limited: %+v", got)
		}
		got, err = s.TicketComments(ctx, "T-9", 0)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("unknown ticket's comments: %+v", got)
		}
	})

	t.Run("queue", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t))
		// Created oldest first: the order within a level.
		for _, tk := range []*chargedesk.Ticket{
			ticket("slow", "field_service", t0, `{"problem":"slow_charging"}`),
			ticket("stuck", chargedesk.CategoryConnectorStuck, t0.Add(1*time.Minute), ""),
			ticket("outage", "outage", t0.Add(2*time.Minute), `{"cause":"comm_drop"}`),
			ticket("review", "human_review", t0.Add(3*time.Minute), `{"problem":"rfid_failure"}`),
			ticket("hazard", "field_service", t0.Add(4*time.Minute), `{"hazard":true,"report":"smoke"}`),
			ticket("damage", "human_review", t0.Add(5*time.Minute), `{"problem":"hardware_damage","hazard":false}`),
			ticket("billing", "billing", t0.Add(6*time.Minute), `["not","an","object"]`),
			ticket("closed", chargedesk.CategoryHardwareDamage, t0.Add(7*time.Minute), ""),
		} {
			must(t, s.CreateTicket(ctx, tk))
		}
		_, err := s.UpdateTicket(ctx, "closed", func(tk *chargedesk.Ticket) error {
			tk.Status, tk.Resolution = chargedesk.TicketClosed, "fixed"
			return nil
		})
		must(t, err)
		_, err = s.UpdateTicket(ctx, "review", func(tk *chargedesk.Ticket) error {
			tk.Status, tk.Assignee = chargedesk.TicketAssigned, "console:ada"
			return nil
		})
		must(t, err)
		ids := func(f chargedesk.TicketFilter) []string {
			t.Helper()
			list, err := s.Tickets(ctx, f)
			must(t, err)
			var out []string
			for _, tk := range list {
				out = append(out, tk.ID)
			}
			return out
		}
		active := []chargedesk.TicketStatus{chargedesk.TicketOpen, chargedesk.TicketAssigned}
		for _, tt := range []struct {
			name string
			f    chargedesk.TicketFilter
			want []string
		}{
			{"queue", chargedesk.TicketFilter{Statuses: active, Order: chargedesk.TicketsByUrgency},
				[]string{"hazard", "damage", "stuck", "outage", "review", "slow", "billing"}},
			{"page 2", chargedesk.TicketFilter{Statuses: active, Order: chargedesk.TicketsByUrgency, Offset: 2, Limit: 3},
				[]string{"stuck", "outage", "review"}},
			{"assigned", chargedesk.TicketFilter{Status: chargedesk.TicketAssigned, Order: chargedesk.TicketsByUrgency}, []string{"review"}},
			{"category", chargedesk.TicketFilter{Statuses: active, Category: "field_service", Order: chargedesk.TicketsByUrgency},
				[]string{"hazard", "slow"}},
			{"all, urgent first", chargedesk.TicketFilter{Order: chargedesk.TicketsByUrgency, Limit: 3}, []string{"hazard", "damage", "closed"}},
			{"newest", chargedesk.TicketFilter{Limit: 2}, []string{"closed", "billing"}},
			{"past the end", chargedesk.TicketFilter{Order: chargedesk.TicketsByUrgency, Offset: 50}, nil},
		} {
			if diff := cmp.Diff(tt.want, ids(tt.f)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
		for _, bad := range []chargedesk.TicketFilter{
			{Order: "priority"}, {Offset: -1}, {Offset: chargedesk.MaxTicketOffset + 1},
			{Statuses: []chargedesk.TicketStatus{"later"}},
			{Statuses: []chargedesk.TicketStatus{"open", "open", "open", "open"}},
		} {
			_, err := s.Tickets(ctx, bad)
			wantCode(t, err, chargedesk.EINVALID)
		}
		// An update places the ticket again.
		_, err = s.UpdateTicket(ctx, "billing", func(tk *chargedesk.Ticket) error {
			tk.Evidence = json.RawMessage(`{"hazard":true}`)
			return nil
		})
		must(t, err)
		if got := ids(chargedesk.TicketFilter{Statuses: active, Order: chargedesk.TicketsByUrgency, Limit: 3}); !cmp.Equal(got, []string{"hazard", "damage", "billing"}) {
			t.Errorf("after the update: %v", got)
		}
	})

	t.Run("migration places old tickets as Urgency does", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t))
		dir := "migrations/sqlite"
		if s.pg {
			dir = "migrations/postgres"
		}
		src, err := fs.ReadFile(migrations, dir+"/00008_console_tickets.sql")
		must(t, err)
		i := strings.Index(string(src), "UPDATE tickets SET urgency")
		if i < 0 {
			t.Fatal("no backfill in migration 00008")
		}
		backfill := string(src[i:])
		backfill = backfill[:strings.Index(backfill, ";")]
		evs := []string{"", `{"hazard":true}`, `{"hazard":false}`, `{"hazard":"true"}`, `{"Hazard":true}`, `{"problem":"hardware_damage"}`,
			`{"problem":"connector_stuck"}`, `{"problem":"outage"}`, `{"problem":7}`, `[{"hazard":true}]`, `"hazard"`, `{"problem":"slow_charging"}`}
		cats := []string{"field_service", "outage", "billing", chargedesk.CategoryHardwareDamage, chargedesk.CategoryPaymentFailure, chargedesk.CategorySlowCharging}
		want := map[string]chargedesk.Urgency{}
		for i, ev := range evs {
			for j, cat := range cats {
				tk := ticket(fmt.Sprintf("t-%d-%d", i, j), cat, t0, ev)
				must(t, s.CreateTicket(ctx, tk))
				want[tk.ID] = tk.Urgency()
			}
		}
		must(t, execAll(ctx, s, `UPDATE tickets SET urgency = 9`, backfill))
		rows, err := s.r.QueryContext(ctx, `SELECT id, urgency FROM tickets`)
		must(t, err)
		defer rows.Close()
		n := 0
		for rows.Next() {
			var id string
			var u int
			must(t, rows.Scan(&id, &u))
			if chargedesk.Urgency(u) != want[id] {
				t.Errorf("%s: migration placed it at %d, Urgency says %d", id, u, want[id])
			}
			n++
		}
		must(t, rows.Err())
		if n != len(want) {
			t.Errorf("%d tickets read, want %d", n, len(want))
		}
	})

	t.Run("audit search", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t))
		for i, e := range []chargedesk.AuditEntry{
			{Actor: "agent:C-1", CommandID: "c1", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditDecision, Allowed: true},
			{Actor: "agent:C-1", CommandID: "c1", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditOutcome, Allowed: true, Outcome: "Accepted"},
			{Actor: "console:ada", CommandID: "T-1", Kind: "console.ticket.assign", Stage: chargedesk.AuditOutcome, Allowed: true, Outcome: "ok"},
			{Actor: "console:ada_b", CommandID: "T-1", Kind: "console.ticket.comment", Stage: chargedesk.AuditOutcome, Allowed: true},
			{Actor: "operator:key1", CommandID: "c2", Kind: "UnlockConnector", ChargerID: "CP-2", Stage: chargedesk.AuditDecision},
			{Actor: "Console:eve", CommandID: "T-2", Kind: "console.ticket.assign", Stage: chargedesk.AuditOutcome, Allowed: true},
		} {
			e.At = t0.Add(time.Duration(i) * time.Minute)
			must(t, s.AppendAudit(ctx, &e))
		}
		seqs := func(f chargedesk.AuditFilter) []int64 {
			t.Helper()
			list, err := s.AuditEntries(ctx, f)
			must(t, err)
			var out []int64
			for _, e := range list {
				out = append(out, e.Seq)
			}
			return out
		}
		for _, tt := range []struct {
			name string
			f    chargedesk.AuditFilter
			want []int64
		}{
			{"newest first", chargedesk.AuditFilter{Newest: true}, []int64{6, 5, 4, 3, 2, 1}},
			{"older page", chargedesk.AuditFilter{Newest: true, BeforeSeq: 4, Limit: 2}, []int64{3, 2}},
			{"actor prefix", chargedesk.AuditFilter{ActorPrefix: "console:"}, []int64{3, 4}},
			{"actor prefix is exact", chargedesk.AuditFilter{ActorPrefix: "console:ada"}, []int64{3, 4}},
			{"no wildcards", chargedesk.AuditFilter{ActorPrefix: "console:ada_"}, []int64{4}},
			{"no wildcards either", chargedesk.AuditFilter{ActorPrefix: "%"}, nil},
			{"agent", chargedesk.AuditFilter{ActorPrefix: "agent:", ChargerID: "CP-1"}, []int64{1, 2}},
			{"kind", chargedesk.AuditFilter{Kind: "console.ticket.assign"}, []int64{3, 6}},
			{"command", chargedesk.AuditFilter{CommandID: "T-1", Newest: true}, []int64{4, 3}},
			{"since", chargedesk.AuditFilter{Since: t0.Add(4 * time.Minute)}, []int64{5, 6}},
			{"until", chargedesk.AuditFilter{Until: t0.Add(2 * time.Minute)}, []int64{1, 2}},
			{"range", chargedesk.AuditFilter{Since: t0.Add(time.Minute), Until: t0.Add(3*time.Minute + time.Second)}, []int64{2, 3, 4}},
			{"between seqs", chargedesk.AuditFilter{AfterSeq: 2, BeforeSeq: 5}, []int64{3, 4}},
		} {
			if diff := cmp.Diff(tt.want, seqs(tt.f)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
		for _, bad := range []chargedesk.AuditFilter{{BeforeSeq: -1}, {ActorPrefix: strings.Repeat("a", 201)}, {ActorPrefix: "\xff"}} {
			_, err := s.AuditEntries(ctx, bad)
			wantCode(t, err, chargedesk.EINVALID)
		}
		must(t, s.VerifyAudit(ctx))
		must(t, execAll(ctx, s, b.dropAppendOnly, `UPDATE audit SET reason = 'edited' WHERE seq = 4`))
		err := s.VerifyAudit(ctx)
		if seq, ok := chargedesk.BrokenAuditEntry(err); !ok || seq != 4 {
			t.Errorf("VerifyAudit = %v: names entry %d (%v), want 4", err, seq, ok)
		}
	})

	t.Run("settings", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t), WithClock(stepClock(t0)))
		_, err := s.Setting(ctx, "agent.enabled")
		wantCode(t, err, chargedesk.ENOTFOUND)
		for _, bad := range []*chargedesk.Setting{nil, {Key: ""}, {Key: "Agent"}, {Key: "a b"}, {Key: strings.Repeat("a", 101)},
			{Key: "k", Value: strings.Repeat("v", chargedesk.MaxSettingValueLen+1)}, {Key: "k", Value: "\xff"}} {
			wantCode(t, s.PutSetting(ctx, bad), chargedesk.EINVALID)
		}
		on := &chargedesk.Setting{Key: "agent.enabled", Value: "false", UpdatedBy: "console:ada"}
		must(t, s.PutSetting(ctx, on))
		must(t, s.PutSetting(ctx, &chargedesk.Setting{Key: "agent.playbook.stuck", Value: "false"}))
		must(t, s.PutSetting(ctx, &chargedesk.Setting{Key: "agent-x", Value: "1"}))
		must(t, s.PutSetting(ctx, &chargedesk.Setting{Key: "agent.playbook.rfid", Value: "true"}))
		got, err := s.Setting(ctx, "agent.enabled")
		must(t, err)
		if diff := cmp.Diff(on, got); diff != "" || !got.UpdatedAt.Equal(t0) {
			t.Errorf("setting (-want +got):\n%s", diff)
		}
		again := &chargedesk.Setting{Key: "agent.enabled", Value: "true", UpdatedBy: "console:bob"}
		must(t, s.PutSetting(ctx, again))
		got, err = s.Setting(ctx, "agent.enabled")
		must(t, err)
		if diff := cmp.Diff(again, got); diff != "" || !got.UpdatedAt.After(on.UpdatedAt) {
			t.Errorf("replaced (-want +got):\n%s", diff)
		}
		keys := func(prefix string) []string {
			list, err := s.Settings(ctx, prefix)
			must(t, err)
			var out []string
			for _, st := range list {
				out = append(out, st.Key)
			}
			return out
		}
		if diff := cmp.Diff([]string{"agent-x", "agent.enabled", "agent.playbook.rfid", "agent.playbook.stuck"}, keys("")); diff != "" {
			t.Errorf("all (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"agent.playbook.rfid", "agent.playbook.stuck"}, keys("agent.playbook.")); diff != "" {
			t.Errorf("prefix (-want +got):\n%s", diff)
		}
		if got := keys("agent.p%"); got != nil {
			t.Errorf("a wildcard matched %v", got)
		}
	})
}
