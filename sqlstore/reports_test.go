package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"
)

func TestSQLiteReports(t *testing.T) { runReportConformance(t, sqliteBackend) }

func TestPostgresReports(t *testing.T) { runReportConformance(t, postgresBackend(t)) }

// setClock is a clock the test sets.
type setClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *setClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *setClock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *setClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// history returns the whole port history of one charger as the store
// streams it for [from, to).
func history(t *testing.T, s *Store, from, to time.Time, charger string) []chargedesk.PortEvent {
	t.Helper()
	var out []chargedesk.PortEvent
	must(t, s.PortHistory(context.Background(), from, to, false, func(ev chargedesk.PortEvent) error {
		if ev.ChargerID == charger {
			out = append(out, ev)
		}
		return nil
	}))
	return out
}

func pev(charger string, connector int, at time.Time, st chargedesk.ConnectorStatus) chargedesk.PortEvent {
	return chargedesk.PortEvent{ChargerID: charger, ConnectorID: connector, At: micro(at), Status: st}
}

// runReportConformance checks the ReportStore methods of a backend and the
// port history the charger writes leave.
func runReportConformance(t *testing.T, b backend) {
	ctx := context.Background()
	t0 := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	far := t0.AddDate(1, 0, 0)

	t.Run("history of statuses and connections", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: t0}
		s := openStore(t, b.newDSN(t), WithClock(clock.now))
		register(t, s, "CP-1", "CP-2")
		put := func(conn int, st chargedesk.ConnectorStatus, at time.Time) {
			t.Helper()
			must(t, s.PutConnector(ctx, chargedesk.Connector{ChargerID: "CP-1", ID: conn, Status: st, UpdatedAt: at}))
		}
		connect := func(id string, on bool, at time.Time) {
			t.Helper()
			_, err := s.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error {
				c.Connected, c.Node = on, "n1"
				if on {
					c.ConnectedAt = at
				} else {
					c.DisconnectedAt = at
				}
				return nil
			})
			must(t, err)
		}
		connect("CP-1", true, t0.Add(time.Minute))
		connect("CP-1", true, t0.Add(2*time.Minute)) // no change: no row
		put(1, chargedesk.StatusAvailable, t0.Add(3*time.Minute))
		put(1, chargedesk.StatusAvailable, t0.Add(4*time.Minute)) // same status: no row
		put(0, chargedesk.StatusAvailable, t0.Add(4*time.Minute))
		put(1, chargedesk.StatusFaulted, t0.Add(5*time.Minute))
		connect("CP-1", false, t0.Add(6*time.Minute))
		// A bulk update that flips the connection writes its row too; one
		// that fails writes none.
		failed, err := s.UpdateChargers(ctx, map[string]func(*chargedesk.Charger) error{
			"CP-1": func(c *chargedesk.Charger) error {
				c.Connected, c.ConnectedAt = true, t0.Add(7*time.Minute)
				return nil
			},
			"CP-2": func(c *chargedesk.Charger) error {
				c.Connected = true
				return errors.New("refused")
			},
		})
		must(t, err)
		if failed["CP-2"] == nil || len(failed) != 1 {
			t.Fatalf("failed %v", failed)
		}
		// An unknown charger's status is refused and leaves no row.
		wantCode(t, s.PutConnector(ctx, chargedesk.Connector{ChargerID: "CP-9", ID: 1, Status: chargedesk.StatusFaulted}), chargedesk.ENOTFOUND)
		want := []chargedesk.PortEvent{
			// Nothing before t0: connector 1 comes with no state, connector
			// 0 and the connection not at all.
			{ChargerID: "CP-1", ConnectorID: 1},
			pev("CP-1", chargedesk.PortHistoryConnection, t0.Add(time.Minute), chargedesk.ConnectionOnline),
			pev("CP-1", 1, t0.Add(3*time.Minute), chargedesk.StatusAvailable),
			pev("CP-1", 0, t0.Add(4*time.Minute), chargedesk.StatusAvailable),
			pev("CP-1", 1, t0.Add(5*time.Minute), chargedesk.StatusFaulted),
			pev("CP-1", chargedesk.PortHistoryConnection, t0.Add(6*time.Minute), chargedesk.ConnectionOffline),
			pev("CP-1", chargedesk.PortHistoryConnection, t0.Add(7*time.Minute), chargedesk.ConnectionOnline),
		}
		if diff := cmp.Diff(want, history(t, s, t0, far, "CP-1")); diff != "" {
			t.Fatalf("history (-want +got):\n%s", diff)
		}
		if got := history(t, s, t0, far, "CP-2"); len(got) != 0 {
			t.Fatalf("CP-2 history %+v", got)
		}
		if got := history(t, s, t0, far, "CP-9"); len(got) != 0 {
			t.Fatalf("CP-9 history %+v", got)
		}

		// The state at an instant: each key's latest row before it, then
		// the rows from it on.
		from := t0.Add(5*time.Minute + 30*time.Second)
		want = []chargedesk.PortEvent{
			pev("CP-1", chargedesk.PortHistoryConnection, t0.Add(time.Minute), chargedesk.ConnectionOnline),
			pev("CP-1", 0, t0.Add(4*time.Minute), chargedesk.StatusAvailable),
			pev("CP-1", 1, t0.Add(5*time.Minute), chargedesk.StatusFaulted),
			pev("CP-1", chargedesk.PortHistoryConnection, t0.Add(6*time.Minute), chargedesk.ConnectionOffline),
		}
		got := history(t, s, from, t0.Add(7*time.Minute), "CP-1")
		seeds, rest := got[:3], got[3:]
		// The state at the start comes in no particular order.
		byKey := map[int]chargedesk.PortEvent{}
		for _, e := range seeds {
			byKey[e.ConnectorID] = e
		}
		if diff := cmp.Diff(want[:3], []chargedesk.PortEvent{byKey[-1], byKey[0], byKey[1]}); diff != "" {
			t.Errorf("state at start (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want[3:], rest); diff != "" {
			t.Errorf("period (-want +got):\n%s", diff)
		}
		// Moves among up statuses are kept in the history, but left out of
		// what availability reads.
		put(1, chargedesk.StatusAvailable, t0.Add(8*time.Minute))
		put(1, chargedesk.StatusCharging, t0.Add(9*time.Minute))
		put(1, chargedesk.StatusFinishing, t0.Add(10*time.Minute))
		put(1, chargedesk.StatusUnavailable, t0.Add(11*time.Minute))
		put(0, chargedesk.StatusFaulted, t0.Add(12*time.Minute))
		from = t0.Add(7*time.Minute + 30*time.Second)
		var avail, all []chargedesk.PortEvent
		for _, only := range []bool{true, false} {
			must(t, s.PortHistory(ctx, from, far, only, func(ev chargedesk.PortEvent) error {
				if !ev.At.Before(from) {
					if only {
						avail = append(avail, ev)
					} else {
						all = append(all, ev)
					}
				}
				return nil
			}))
		}
		want = []chargedesk.PortEvent{
			pev("CP-1", 1, t0.Add(8*time.Minute), chargedesk.StatusAvailable),
			pev("CP-1", 1, t0.Add(11*time.Minute), chargedesk.StatusUnavailable),
			pev("CP-1", 0, t0.Add(12*time.Minute), chargedesk.StatusFaulted),
		}
		if diff := cmp.Diff(want, avail); diff != "" {
			t.Errorf("availability changes (-want +got):\n%s", diff)
		}
		if len(all) != 5 {
			t.Errorf("whole history %+v", all)
		}
		wantCode(t, s.PortHistory(ctx, from, from, false, func(chargedesk.PortEvent) error { return nil }), chargedesk.EINVALID)
		stop := errors.New("stop")
		if err := s.PortHistory(ctx, t0, far, false, func(chargedesk.PortEvent) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("fn's error: %v", err)
		}
	})

	t.Run("connector without history", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: t0}
		s := openStore(t, b.newDSN(t), WithClock(clock.now))
		register(t, s, "CP-1")
		clock.set(far)
		register(t, s, "CP-LATE")
		// Connectors known from before the history began (written around
		// the store, as an older version did).
		must(t, execAll(ctx, s,
			`INSERT INTO connectors (charger_id, id, status) VALUES ('CP-1', 1, 'Available')`,
			`INSERT INTO connectors (charger_id, id, status) VALUES ('CP-1', 0, 'Available')`,
			`INSERT INTO connectors (charger_id, id, status) VALUES ('CP-LATE', 1, 'Available')`))
		got := history(t, s, t0, t0.AddDate(0, 1, 0), "CP-1")
		want := []chargedesk.PortEvent{{ChargerID: "CP-1", ConnectorID: 1}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("state of a connector with no row (-want +got):\n%s", diff)
		}
		// A charger registered after the period is not in it.
		if got := history(t, s, t0, t0.AddDate(0, 1, 0), "CP-LATE"); len(got) != 0 {
			t.Fatalf("late charger %+v", got)
		}
	})

	t.Run("DisconnectNode", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: t0}
		s := openStore(t, b.newDSN(t), WithClock(clock.now))
		register(t, s, "CP-1", "CP-2", "CP-3")
		for id, node := range map[string]string{"CP-1": "a", "CP-2": "a", "CP-3": "b"} {
			_, err := s.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error {
				c.Connected, c.Node, c.ConnectedAt = true, node, t0
				return nil
			})
			must(t, err)
		}
		// CP-1 was last heard at 00:10; CP-2 never since it connected.
		must(t, s.TouchChargers(ctx, map[string]time.Time{"CP-1": t0.Add(10 * time.Minute)}, nil))
		must(t, s.DisconnectNode(ctx, "a", t0.Add(time.Hour)))
		for id, want := range map[string][]chargedesk.PortEvent{
			"CP-1": {pev("CP-1", -1, t0, chargedesk.ConnectionOnline), pev("CP-1", -1, t0.Add(10*time.Minute), chargedesk.ConnectionOffline)},
			"CP-2": {pev("CP-2", -1, t0, chargedesk.ConnectionOnline), pev("CP-2", -1, t0.Add(time.Hour), chargedesk.ConnectionOffline)},
			"CP-3": {pev("CP-3", -1, t0, chargedesk.ConnectionOnline)},
		} {
			if diff := cmp.Diff(want, history(t, s, t0, far, id)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", id, diff)
			}
		}
	})

	t.Run("uptime from the store", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: t0.Add(-24 * time.Hour)}
		s := openStore(t, b.newDSN(t), WithClock(clock.now))
		register(t, s, "CP-1")
		_, err := s.UpdateCharger(ctx, "CP-1", func(c *chargedesk.Charger) error {
			c.Connected, c.ConnectedAt = true, t0.Add(-time.Hour)
			return nil
		})
		must(t, err)
		for _, c := range []chargedesk.Connector{
			{ChargerID: "CP-1", ID: 1, Status: chargedesk.StatusAvailable, UpdatedAt: t0.Add(-time.Hour)},
			{ChargerID: "CP-1", ID: 2, Status: chargedesk.StatusAvailable, UpdatedAt: t0.Add(-time.Hour)},
			{ChargerID: "CP-1", ID: 1, Status: chargedesk.StatusFaulted, UpdatedAt: t0.Add(48 * time.Hour)},
			{ChargerID: "CP-1", ID: 1, Status: chargedesk.StatusAvailable, UpdatedAt: t0.Add(50 * time.Hour)},
		} {
			must(t, s.PutConnector(ctx, c))
		}
		e := &chargedesk.UptimeExclusion{ChargerID: "CP-1", ConnectorID: 1, From: t0.Add(49 * time.Hour), To: t0.Add(51 * time.Hour),
			Cause: chargedesk.CauseVandalism, Note: "cable cut, police report 12", CreatedBy: "ada"}
		must(t, s.AddUptimeExclusion(ctx, e))
		r, err := chargedesk.ComputeUptime(ctx, s, t0, t0.AddDate(0, 1, 0))
		must(t, err)
		if len(r.Ports) != 2 {
			t.Fatalf("ports %+v", r.Ports)
		}
		p := r.Ports[0]
		if p.ConnectorID != 1 || p.Counted != 30*24*time.Hour || p.Outage != 2*time.Hour || p.Excluded != time.Hour ||
			len(p.Causes) != 1 || p.Causes[0] != chargedesk.CauseVandalism {
			t.Fatalf("port 1 %+v", p)
		}
		if r.Ports[1].Outage != 0 || r.Ports[1].Counted != 30*24*time.Hour {
			t.Fatalf("port 2 %+v", r.Ports[1])
		}
	})

	t.Run("exclusions", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t), WithClock(func() time.Time { return base }))
		register(t, s, "CP-1")
		mk := func(conn int, from, to time.Time, cause chargedesk.ExclusionCause, note string) *chargedesk.UptimeExclusion {
			return &chargedesk.UptimeExclusion{ChargerID: "CP-1", ConnectorID: conn, From: from, To: to, Cause: cause,
				Note: note, CreatedBy: "ada"}
		}
		a := mk(1, t0.Add(-time.Hour), t0.Add(time.Hour), chargedesk.CauseUtilityInterruption, "outage <b>#1</b>")
		must(t, s.AddUptimeExclusion(ctx, a))
		if a.ID == 0 || !a.CreatedAt.Equal(micro(base)) {
			t.Fatalf("stored %+v", a)
		}
		bb := mk(0, t0.Add(24*time.Hour), t0.Add(48*time.Hour), chargedesk.CauseScheduledMaintenance, "firmware")
		must(t, s.AddUptimeExclusion(ctx, bb))
		c := mk(2, t0.AddDate(0, 1, 0), t0.AddDate(0, 1, 1), chargedesk.CauseNaturalDisaster, "flood")
		must(t, s.AddUptimeExclusion(ctx, c))
		wantCode(t, s.AddUptimeExclusion(ctx, &chargedesk.UptimeExclusion{ChargerID: "CP-9", From: t0, To: t0.Add(time.Hour),
			Cause: chargedesk.CauseVandalism, Note: "x", CreatedBy: "ada"}), chargedesk.ENOTFOUND)
		wantCode(t, s.AddUptimeExclusion(ctx, mk(1, t0, t0, chargedesk.CauseVandalism, "x")), chargedesk.EINVALID)
		wantCode(t, s.AddUptimeExclusion(ctx, mk(1, t0, t0.Add(time.Hour), "luck", "x")), chargedesk.EINVALID)
		wantCode(t, s.AddUptimeExclusion(ctx, mk(1, t0, t0.Add(time.Hour), chargedesk.CauseVandalism, strings.Repeat("x", 1001))), chargedesk.EINVALID)
		wantCode(t, s.AddUptimeExclusion(ctx, nil), chargedesk.EINVALID)

		// April overlaps a (which starts in March) and b, not c (which
		// starts when April ends).
		list, err := s.UptimeExclusions(ctx, t0, t0.AddDate(0, 1, 0))
		must(t, err)
		if diff := cmp.Diff([]chargedesk.UptimeExclusion{*a, *bb}, list); diff != "" {
			t.Fatalf("April's exclusions (-want +got):\n%s", diff)
		}
		list, err = s.UptimeExclusions(ctx, t0.Add(time.Hour), t0.Add(24*time.Hour))
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("exclusions between a and b: %+v", list)
		}
		_, err = s.UptimeExclusions(ctx, t0, t0)
		wantCode(t, err, chargedesk.EINVALID)

		gone, err := s.DeleteUptimeExclusion(ctx, a.ID)
		must(t, err)
		if diff := cmp.Diff(a, gone); diff != "" {
			t.Fatalf("deleted (-want +got):\n%s", diff)
		}
		_, err = s.DeleteUptimeExclusion(ctx, a.ID)
		wantCode(t, err, chargedesk.ENOTFOUND)
		// Ids are not reused.
		d := mk(1, t0, t0.Add(time.Hour), chargedesk.CauseVehicleFault, "EV refused")
		must(t, s.AddUptimeExclusion(ctx, d))
		if d.ID <= c.ID {
			t.Fatalf("new id %d after %d", d.ID, c.ID)
		}
	})

	t.Run("support conversations", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: t0}
		s := openStore(t, b.newDSN(t), WithClock(clock.now))
		conv := func(id string, ch chargedesk.Channel, lang string, created time.Time) {
			t.Helper()
			must(t, s.CreateConversation(ctx, &chargedesk.Conversation{ID: id, Channel: ch, Language: lang,
				Status: chargedesk.ConversationOpen, CreatedAt: created}))
		}
		turn := func(id, role string, at time.Time) {
			t.Helper()
			must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: id, Role: role, Text: "hi", At: at}))
		}
		update := func(id string, fn func(c *chargedesk.Conversation)) {
			t.Helper()
			_, err := s.UpdateConversation(ctx, id, func(c *chargedesk.Conversation) error { fn(c); return nil })
			must(t, err)
		}
		conv("C-1", chargedesk.ChannelSMS, "en", t0.Add(time.Hour))
		turn("C-1", chargedesk.RoleDriver, t0.Add(time.Hour+time.Second))
		turn("C-1", chargedesk.RoleAgent, t0.Add(time.Hour+2*time.Second))
		turn("C-1", chargedesk.RoleDriver, t0.Add(time.Hour+time.Minute))
		clock.set(t0.Add(time.Hour + 5*time.Minute))
		update("C-1", func(c *chargedesk.Conversation) {
			c.Status, c.Category = chargedesk.ConversationResolved, chargedesk.CategorySessionWontStart
		})
		// Reopened and resolved again: the first resolution stays.
		clock.set(t0.Add(2 * time.Hour))
		update("C-1", func(c *chargedesk.Conversation) { c.Status = chargedesk.ConversationOpen })
		update("C-1", func(c *chargedesk.Conversation) { c.Status = chargedesk.ConversationResolved })

		conv("C-2", chargedesk.ChannelVoice, "fr", t0.Add(2*time.Hour))
		turn("C-2", chargedesk.RoleDriver, t0.Add(2*time.Hour))
		update("C-2", func(c *chargedesk.Conversation) {
			c.Status, c.TicketID, c.Category = chargedesk.ConversationEscalated, "T-1", chargedesk.CategoryConnectorStuck
		})
		// Taken over in the console.
		conv("C-3", chargedesk.ChannelChat, "es", t0.Add(3*time.Hour))
		must(t, s.AppendAudit(ctx, &chargedesk.AuditEntry{At: t0.Add(3 * time.Hour), Actor: "console:ada", CommandID: "C-3",
			Kind: chargedesk.TakeoverAuditKind, Stage: chargedesk.AuditOutcome, Allowed: true}))
		// Verified by an operator.
		conv("C-4", chargedesk.ChannelChat, "en", t0.Add(4*time.Hour))
		update("C-4", func(c *chargedesk.Conversation) { c.Verified = chargedesk.VerifiedOperator })
		// Created as resolved.
		clock.set(t0.Add(5 * time.Hour))
		must(t, s.CreateConversation(ctx, &chargedesk.Conversation{ID: "C-5", Channel: chargedesk.ChannelAPI, Language: "en",
			Status: chargedesk.ConversationResolved, CreatedAt: t0.Add(5 * time.Hour)}))
		// Outside the period.
		conv("C-6", chargedesk.ChannelChat, "en", t0.Add(-time.Hour))

		var got []chargedesk.SupportConversation
		must(t, s.SupportConversations(ctx, t0, t0.AddDate(0, 0, 1), func(c chargedesk.SupportConversation) error {
			got = append(got, c)
			return nil
		}))
		want := []chargedesk.SupportConversation{
			{ID: "C-1", Channel: chargedesk.ChannelSMS, Language: "en", Category: chargedesk.CategorySessionWontStart,
				Status: chargedesk.ConversationResolved, CreatedAt: t0.Add(time.Hour), FirstDriverAt: t0.Add(time.Hour + time.Second),
				ResolvedAt: t0.Add(time.Hour + 5*time.Minute)},
			{ID: "C-2", Channel: chargedesk.ChannelVoice, Language: "fr", Category: chargedesk.CategoryConnectorStuck,
				Status: chargedesk.ConversationEscalated, Ticket: true, CreatedAt: t0.Add(2 * time.Hour), FirstDriverAt: t0.Add(2 * time.Hour)},
			{ID: "C-3", Channel: chargedesk.ChannelChat, Language: "es", Status: chargedesk.ConversationOpen, TakenOver: true,
				CreatedAt: t0.Add(3 * time.Hour)},
			{ID: "C-4", Channel: chargedesk.ChannelChat, Language: "en", Status: chargedesk.ConversationOpen, TakenOver: true,
				CreatedAt: t0.Add(4 * time.Hour)},
			{ID: "C-5", Channel: chargedesk.ChannelAPI, Language: "en", Status: chargedesk.ConversationResolved,
				CreatedAt: t0.Add(5 * time.Hour), ResolvedAt: t0.Add(5 * time.Hour)},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("support conversations (-want +got):\n%s", diff)
		}
		var err error
		err = s.SupportConversations(ctx, t0, t0, func(chargedesk.SupportConversation) error { return nil })
		wantCode(t, err, chargedesk.EINVALID)
	})
}

func TestSQLiteReportsMigration(t *testing.T) {
	testReportsMigration(t, sqliteBackend, "sqlite", goose.DialectSQLite3, "migrations/sqlite")
}

func TestPostgresReportsMigration(t *testing.T) {
	testReportsMigration(t, postgresBackend(t), "pgx", goose.DialectPostgres, "migrations/postgres")
}

// testReportsMigration upgrades a database of migration 00005 that holds
// chargers, connectors and a resolved conversation: the port history
// starts from their state, the conversation's resolution from its last
// update.
func testReportsMigration(t *testing.T, b backend, driver string, dialect goose.Dialect, dir string) {
	ctx := context.Background()
	dsn := b.newDSN(t)
	open := dsn
	if driver == "sqlite" {
		open = strings.TrimPrefix(dsn, "sqlite://")
		must(t, os.MkdirAll(filepath.Dir(open), 0o700))
	}
	db, err := sql.Open(driver, open)
	must(t, err)
	fsys, err := fs.Sub(migrations, dir)
	must(t, err)
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithDisableGlobalRegistry(true))
	must(t, err)
	_, err = p.UpTo(ctx, 5)
	must(t, err)
	t1 := time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	ts := func(t time.Time) any {
		if driver == "sqlite" {
			return t.UnixMicro()
		}
		return t
	}
	q := func(query string, args ...any) {
		t.Helper()
		if driver != "sqlite" {
			query = (&Store{pg: true}).q(query)
		}
		if _, err := db.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(`INSERT INTO chargers (id, registration_status, registered_at, connected, connected_at) VALUES ('CP-1', 'Accepted', ?, ?, ?)`, ts(t1), true, ts(t1))
	q(`INSERT INTO chargers (id, registration_status, registered_at, connected, disconnected_at) VALUES ('CP-2', 'Accepted', ?, ?, ?)`, ts(t1), false, ts(t2))
	q(`INSERT INTO chargers (id, registration_status, registered_at) VALUES ('CP-3', 'Accepted', ?)`, ts(t1))
	q(`INSERT INTO connectors (charger_id, id, status, updated_at) VALUES ('CP-1', 1, 'Charging', ?)`, ts(t2))
	q(`INSERT INTO connectors (charger_id, id, status, status_at) VALUES ('CP-2', 1, 'Faulted', ?)`, ts(t1))
	q(`INSERT INTO connectors (charger_id, id, status) VALUES ('CP-3', 1, 'Available')`)
	q(`INSERT INTO conversations (id, channel, language, status, created_at, updated_at) VALUES ('C-1', 'sms', 'en', 'resolved', ?, ?)`, ts(t1), ts(t2))
	q(`INSERT INTO conversations (id, channel, language, status, created_at, updated_at) VALUES ('C-2', 'sms', 'en', 'open', ?, ?)`, ts(t1), ts(t2))
	must(t, db.Close())

	s := openStore(t, dsn)
	from, to := t1.Add(-24*time.Hour), t1.AddDate(0, 1, 0)
	for id, want := range map[string][]chargedesk.PortEvent{
		"CP-1": {{ChargerID: "CP-1", ConnectorID: 1}, pev("CP-1", -1, t1, chargedesk.ConnectionOnline), pev("CP-1", 1, t2, chargedesk.StatusCharging)},
		"CP-2": {{ChargerID: "CP-2", ConnectorID: 1}, pev("CP-2", 1, t1, chargedesk.StatusFaulted), pev("CP-2", -1, t2, chargedesk.ConnectionOffline)},
		// Never connected, no time of its status: nothing to start from.
		"CP-3": {{ChargerID: "CP-3", ConnectorID: 1}},
	} {
		if diff := cmp.Diff(want, history(t, s, from, to, id)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", id, diff)
		}
	}
	var got []chargedesk.SupportConversation
	must(t, s.SupportConversations(ctx, from, to, func(c chargedesk.SupportConversation) error {
		got = append(got, c)
		return nil
	}))
	if len(got) != 2 || !got[0].ResolvedAt.Equal(t2) || !got[1].ResolvedAt.IsZero() {
		t.Fatalf("conversations %+v", got)
	}
}
