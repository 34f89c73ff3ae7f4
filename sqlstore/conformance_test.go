package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
)

// backend opens fresh, empty databases of one dialect for the conformance
// suite. newDSN returns the DSN of a new database that is removed when the
// test ends; several Opens of one DSN share the database.
type backend struct {
	newDSN func(t testing.TB) string
	// dropAppendOnly removes the audit log's append-only trigger with raw
	// SQL, as someone with access to the database could.
	dropAppendOnly string
}

// openStore opens dsn and closes the store when the test ends.
func openStore(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// execAll runs raw statements on the store's writer.
func execAll(ctx context.Context, s *Store, queries ...string) error {
	for _, q := range queries {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// wantCode fails the test unless err carries the domain error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := chargedesk.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

// must fails the test on a non-nil error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// base is a fixed instant with sub-microsecond digits, in a zone other than
// UTC, so that tests see the store's normalization.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("EST", -5*3600))

func register(t testing.TB, s *Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := s.RegisterCharger(context.Background(), chargedesk.ChargerRegistration{
			ID: id, BootStatus: chargedesk.RegistrationAccepted,
		}); err != nil {
			t.Fatalf("RegisterCharger(%q): %v", id, err)
		}
	}
}

// runConformance checks every chargedesk.Store method of a backend.
func runConformance(t *testing.T, b backend) {
	ctx := context.Background()
	fresh := func(t *testing.T, opts ...Option) *Store {
		t.Helper()
		return openStore(t, b.newDSN(t), opts...)
	}

	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		must(t, fresh(t).Ping(ctx))
	})

	t.Run("RegisterCharger", func(t *testing.T) {
		t.Parallel()
		clock := func() time.Time { return base }
		s := fresh(t, WithClock(clock))
		tests := []struct {
			name string
			reg  chargedesk.ChargerRegistration
			code string
		}{
			{"accepted", chargedesk.ChargerRegistration{ID: "CP-1", Description: "lot A", PasswordHash: "h1", BootStatus: chargedesk.RegistrationAccepted}, ""},
			{"pending", chargedesk.ChargerRegistration{ID: "CP-2", BootStatus: chargedesk.RegistrationPending}, ""},
			{"duplicate", chargedesk.ChargerRegistration{ID: "CP-1", BootStatus: chargedesk.RegistrationAccepted}, chargedesk.ECONFLICT},
			{"bad id", chargedesk.ChargerRegistration{ID: "CP 1", BootStatus: chargedesk.RegistrationAccepted}, chargedesk.EINVALID},
			{"bad boot status", chargedesk.ChargerRegistration{ID: "CP-3", BootStatus: "Maybe"}, chargedesk.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c, err := s.RegisterCharger(ctx, tt.reg)
				wantCode(t, err, tt.code)
				if err != nil {
					return
				}
				want := &chargedesk.Charger{ID: tt.reg.ID, Description: tt.reg.Description,
					RegisteredAt: micro(base), Connectors: []chargedesk.Connector{}}
				if diff := cmp.Diff(want, c); diff != "" {
					t.Errorf("returned charger (-want +got):\n%s", diff)
				}
				got, err := s.Charger(ctx, tt.reg.ID)
				must(t, err)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stored charger (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("ChargerCredentials", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		_, err := s.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: "CP-1", PasswordHash: "sha256$aa$bb", BootStatus: chargedesk.RegistrationPending})
		must(t, err)
		hash, boot, err := s.ChargerCredentials(ctx, "CP-1")
		must(t, err)
		if hash != "sha256$aa$bb" || boot != chargedesk.RegistrationPending {
			t.Errorf("credentials = %q, %q; want sha256$aa$bb, Pending", hash, boot)
		}
		_, _, err = s.ChargerCredentials(ctx, "CP-9")
		wantCode(t, err, chargedesk.ENOTFOUND)
	})

	t.Run("Charger", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		register(t, s, "CP-1")
		for _, id := range []int{2, 0, 1} {
			must(t, s.PutConnector(ctx, chargedesk.Connector{ChargerID: "CP-1", ID: id, Status: chargedesk.StatusAvailable, UpdatedAt: base}))
		}
		c, err := s.Charger(ctx, "CP-1")
		must(t, err)
		var ids []int
		for _, cn := range c.Connectors {
			ids = append(ids, cn.ID)
		}
		if diff := cmp.Diff([]int{0, 1, 2}, ids); diff != "" {
			t.Errorf("connector ids (-want +got):\n%s", diff)
		}
		_, err = s.Charger(ctx, "CP-9")
		wantCode(t, err, chargedesk.ENOTFOUND)
	})

	t.Run("Chargers", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		var all []string
		for i := range 105 {
			all = append(all, fmt.Sprintf("CP-%03d", i))
		}
		register(t, s, all...)
		must(t, s.PutConnector(ctx, chargedesk.Connector{ChargerID: "CP-001", ID: 1, Status: chargedesk.StatusCharging}))
		for _, id := range []string{"CP-001", "CP-003"} {
			_, err := s.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error { c.Connected = true; c.Node = "n1"; return nil })
			must(t, err)
		}
		yes, no := true, false
		tests := []struct {
			name string
			f    chargedesk.ChargerFilter
			want []string
		}{
			{"default limit", chargedesk.ChargerFilter{}, all[:100]},
			{"limit", chargedesk.ChargerFilter{Limit: 3}, all[:3]},
			{"after", chargedesk.ChargerFilter{AfterID: "CP-101"}, all[102:]},
			{"connected", chargedesk.ChargerFilter{Connected: &yes}, []string{"CP-001", "CP-003"}},
			{"disconnected", chargedesk.ChargerFilter{Connected: &no, Limit: 3}, []string{"CP-000", "CP-002", "CP-004"}},
			{"none", chargedesk.ChargerFilter{AfterID: "CP-999"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Chargers(ctx, tt.f)
				must(t, err)
				var ids []string
				for _, c := range got {
					ids = append(ids, c.ID)
					if c.Connectors == nil {
						t.Errorf("charger %s: Connectors is nil, want empty", c.ID)
					}
					if c.ID == "CP-001" && (len(c.Connectors) != 1 || c.Connectors[0].Status != chargedesk.StatusCharging) {
						t.Errorf("CP-001 connectors = %+v, want one Charging", c.Connectors)
					}
				}
				if diff := cmp.Diff(tt.want, ids); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("UpdateCharger", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		_, err := s.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: "CP-1", PasswordHash: "h", BootStatus: chargedesk.RegistrationPending})
		must(t, err)
		must(t, s.PutConnector(ctx, chargedesk.Connector{ChargerID: "CP-1", ID: 1, Status: chargedesk.StatusAvailable, UpdatedAt: base}))
		before, err := s.Charger(ctx, "CP-1")
		must(t, err)

		t.Run("applies fields", func(t *testing.T) {
			got, err := s.UpdateCharger(ctx, "CP-1", func(c *chargedesk.Charger) error {
				if len(c.Connectors) != 1 {
					t.Errorf("fn sees %d connectors, want 1", len(c.Connectors))
				}
				c.Description = "north"
				c.Protocol = chargedesk.OCPP201
				c.Vendor, c.Model, c.SerialNumber, c.FirmwareVersion = "V", "M", "S", "F"
				c.BootStatus = chargedesk.RegistrationAccepted
				c.FirmwareStatus, c.DiagnosticsStatus = "Installed", "Uploaded"
				c.Connected, c.Node = true, "node-a"
				c.ConnectedAt, c.LastBootAt = base, base.Add(time.Second)
				c.LastHeartbeatAt, c.LastSeenAt = base.Add(2*time.Second), base.Add(3*time.Second)
				c.DisconnectedAt = base.Add(-time.Hour)
				c.RegisteredAt = time.Time{} // ignored
				c.Connectors = nil           // ignored
				return nil
			})
			must(t, err)
			want := &chargedesk.Charger{
				ID: "CP-1", Description: "north", Protocol: chargedesk.OCPP201, Vendor: "V", Model: "M",
				SerialNumber: "S", FirmwareVersion: "F", BootStatus: chargedesk.RegistrationAccepted,
				FirmwareStatus: "Installed", DiagnosticsStatus: "Uploaded", Connected: true, Node: "node-a",
				ConnectedAt: micro(base), DisconnectedAt: micro(base.Add(-time.Hour)),
				LastBootAt: micro(base.Add(time.Second)), LastHeartbeatAt: micro(base.Add(2 * time.Second)),
				LastSeenAt: micro(base.Add(3 * time.Second)), RegisteredAt: before.RegisteredAt,
				Connectors: before.Connectors,
			}
			stored, err := s.Charger(ctx, "CP-1")
			must(t, err)
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
			got.Connectors = want.Connectors
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("returned (-want +got):\n%s", diff)
			}
			hash, boot, err := s.ChargerCredentials(ctx, "CP-1")
			must(t, err)
			if hash != "h" || boot != chargedesk.RegistrationPending {
				t.Errorf("credentials changed to %q, %q", hash, boot)
			}
		})

		tests := []struct {
			name string
			id   string
			fn   func(*chargedesk.Charger) error
			code string
		}{
			{"unknown charger", "CP-9", func(*chargedesk.Charger) error { return nil }, chargedesk.ENOTFOUND},
			{"fn error", "CP-1", func(c *chargedesk.Charger) error {
				c.Description = "lost"
				return chargedesk.Errorf(chargedesk.ECONFLICT, "no")
			}, chargedesk.ECONFLICT},
			{"id change", "CP-1", func(c *chargedesk.Charger) error { c.ID = "CP-2"; c.Description = "lost"; return nil }, chargedesk.EINVALID},
			{"bad protocol", "CP-1", func(c *chargedesk.Charger) error { c.Protocol = "ocpp1.5"; c.Description = "lost"; return nil }, chargedesk.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.UpdateCharger(ctx, tt.id, tt.fn)
				wantCode(t, err, tt.code)
				c, err := s.Charger(ctx, "CP-1")
				must(t, err)
				if c.Description == "lost" {
					t.Error("a failed update was written")
				}
			})
		}
	})

	t.Run("UpdateChargers", func(t *testing.T) { runUpdateChargers(t, fresh) })

	t.Run("UpdateRegistration", func(t *testing.T) {
		s := fresh(t)
		register(t, s, "CP-1")
		must(t, s.UpdateRegistration(ctx, "CP-1", func(r *chargedesk.ChargerRegistration) error {
			r.PasswordHash, r.BootStatus, r.Description = "sha256$00$11", chargedesk.RegistrationPending, "bay 4"
			return nil
		}))
		hash, boot, err := s.ChargerCredentials(ctx, "CP-1")
		must(t, err)
		if hash != "sha256$00$11" || boot != chargedesk.RegistrationPending {
			t.Fatalf("credentials after update: %q %q", hash, boot)
		}
		ch, err := s.Charger(ctx, "CP-1")
		must(t, err)
		if ch.Description != "bay 4" {
			t.Errorf("description %q", ch.Description)
		}
		wantCode(t, s.UpdateRegistration(ctx, "CP-1", func(r *chargedesk.ChargerRegistration) error {
			r.BootStatus = "Maybe"
			return nil
		}), chargedesk.EINVALID)
		wantCode(t, s.UpdateRegistration(ctx, "CP-1", func(r *chargedesk.ChargerRegistration) error {
			r.ID = "CP-2"
			return nil
		}), chargedesk.EINVALID)
		wantCode(t, s.UpdateRegistration(ctx, "NOPE", func(*chargedesk.ChargerRegistration) error { return nil }), chargedesk.ENOTFOUND)
		// A failed update changed nothing.
		if _, boot, _ := s.ChargerCredentials(ctx, "CP-1"); boot != chargedesk.RegistrationPending {
			t.Errorf("boot status %q after refused updates", boot)
		}
	})

	t.Run("TouchChargers", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		register(t, s, "CP-1", "CP-2", "CP-3")
		t0 := base
		must(t, s.TouchChargers(ctx,
			map[string]time.Time{"CP-1": t0, "CP-2": t0, "CP-unknown": t0},
			map[string]time.Time{"CP-2": t0.Add(time.Second), "CP-3": t0}))
		// An older time never moves a stamp backwards.
		must(t, s.TouchChargers(ctx,
			map[string]time.Time{"CP-1": t0.Add(-time.Minute)},
			map[string]time.Time{"CP-2": t0.Add(-time.Minute)}))
		must(t, s.TouchChargers(ctx, nil, nil))
		want := map[string][2]time.Time{ // seen, heartbeat
			"CP-1": {micro(t0), {}},
			"CP-2": {micro(t0.Add(time.Second)), micro(t0.Add(time.Second))},
			"CP-3": {micro(t0), micro(t0)},
		}
		for id, w := range want {
			c, err := s.Charger(ctx, id)
			must(t, err)
			if !c.LastSeenAt.Equal(w[0]) || !c.LastHeartbeatAt.Equal(w[1]) {
				t.Errorf("%s: seen %v heartbeat %v, want %v %v", id, c.LastSeenAt, c.LastHeartbeatAt, w[0], w[1])
			}
		}
		// A later time moves it forward.
		must(t, s.TouchChargers(ctx, map[string]time.Time{"CP-1": t0.Add(time.Hour)}, nil))
		c, err := s.Charger(ctx, "CP-1")
		must(t, err)
		if !c.LastSeenAt.Equal(micro(t0.Add(time.Hour))) {
			t.Errorf("CP-1 seen %v, want %v", c.LastSeenAt, t0.Add(time.Hour))
		}
	})

	t.Run("DisconnectNode", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		register(t, s, "CP-1", "CP-2", "CP-3")
		for id, node := range map[string]string{"CP-1": "a", "CP-2": "a", "CP-3": "b"} {
			_, err := s.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error {
				c.Connected, c.Node, c.ConnectedAt = true, node, base
				return nil
			})
			must(t, err)
		}
		at := base.Add(time.Minute)
		must(t, s.DisconnectNode(ctx, "a", at))
		wantCode(t, s.DisconnectNode(ctx, "", at), chargedesk.EINVALID)
		for _, tt := range []struct {
			id        string
			connected bool
			node      string
			disc      time.Time
		}{
			{"CP-1", false, "", micro(at)},
			{"CP-2", false, "", micro(at)},
			{"CP-3", true, "b", time.Time{}},
		} {
			c, err := s.Charger(ctx, tt.id)
			must(t, err)
			if c.Connected != tt.connected || c.Node != tt.node || !c.DisconnectedAt.Equal(tt.disc) {
				t.Errorf("%s: connected %v node %q disconnectedAt %v; want %v %q %v",
					tt.id, c.Connected, c.Node, c.DisconnectedAt, tt.connected, tt.node, tt.disc)
			}
		}
	})

	t.Run("PutConnector", func(t *testing.T) {
		t.Parallel()
		s := fresh(t, WithClock(func() time.Time { return base }))
		register(t, s, "CP-1")
		first := chargedesk.Connector{ChargerID: "CP-1", ID: 1, EVSEConnectorID: 1, Status: chargedesk.StatusFaulted,
			ErrorCode: "GroundFailure", Info: "i", VendorID: "v", VendorErrorCode: "E1",
			StatusAt: base.Add(-time.Second), UpdatedAt: base}
		second := chargedesk.Connector{ChargerID: "CP-1", ID: 1, Status: chargedesk.StatusAvailable, ErrorCode: "NoError"}
		tests := []struct {
			name string
			c    chargedesk.Connector
			code string
			want *chargedesk.Connector
		}{
			{"create", first, "", &chargedesk.Connector{ChargerID: "CP-1", ID: 1, EVSEConnectorID: 1,
				Status: chargedesk.StatusFaulted, ErrorCode: "GroundFailure", Info: "i", VendorID: "v",
				VendorErrorCode: "E1", StatusAt: micro(base.Add(-time.Second)), UpdatedAt: micro(base)}},
			{"replace", second, "", &chargedesk.Connector{ChargerID: "CP-1", ID: 1,
				Status: chargedesk.StatusAvailable, ErrorCode: "NoError", UpdatedAt: micro(base)}},
			{"unknown charger", chargedesk.Connector{ChargerID: "CP-9", ID: 1, Status: chargedesk.StatusAvailable}, chargedesk.ENOTFOUND, nil},
			{"negative id", chargedesk.Connector{ChargerID: "CP-1", ID: -1, Status: chargedesk.StatusAvailable}, chargedesk.EINVALID, nil},
			{"no status", chargedesk.Connector{ChargerID: "CP-1", ID: 2}, chargedesk.EINVALID, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, s.PutConnector(ctx, tt.c), tt.code)
				if tt.want == nil {
					return
				}
				c, err := s.Charger(ctx, "CP-1")
				must(t, err)
				if diff := cmp.Diff([]chargedesk.Connector{*tt.want}, c.Connectors); diff != "" {
					t.Errorf("connectors (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("StartTransaction", func(t *testing.T) {
		t.Parallel()
		s := fresh(t, WithClock(func() time.Time { return base.Add(time.Hour) }))
		register(t, s, "CP-1", "CP-2")
		v16 := func(charger string, conn int, tag string, at time.Time) *chargedesk.Transaction {
			return &chargedesk.Transaction{ChargerID: charger, ConnectorID: conn, IDTag: tag,
				AuthStatus: chargedesk.AuthAccepted, StartedAt: at, MeterStartWh: 1000}
		}
		first, err := s.StartTransaction(ctx, v16("CP-1", 1, "TAG", base))
		must(t, err)
		n1, err := strconv.ParseInt(first.ID, 10, 64)
		if err != nil || n1 <= 0 {
			t.Fatalf("1.6 id = %q, want a positive integer", first.ID)
		}
		want := &chargedesk.Transaction{ID: first.ID, ChargerID: "CP-1", ConnectorID: 1, IDTag: "TAG",
			AuthStatus: chargedesk.AuthAccepted, StartedAt: micro(base), MeterStartWh: 1000, EnergyAt: micro(base),
			UpdatedAt: micro(base.Add(time.Hour))}
		if diff := cmp.Diff(want, first); diff != "" {
			t.Errorf("1.6 start (-want +got):\n%s", diff)
		}

		t.Run("1.6 ids are new integers", func(t *testing.T) {
			seen := map[string]bool{first.ID: true}
			prev := n1
			for i, tx := range []*chargedesk.Transaction{
				v16("CP-1", 1, "TAG", base.Add(time.Microsecond)), // another start time
				v16("CP-1", 2, "TAG", base),                       // another connector
				v16("CP-1", 1, "OTHER", base),                     // another tag
				v16("CP-2", 1, "TAG", base),                       // another charger
			} {
				got, err := s.StartTransaction(ctx, tx)
				must(t, err)
				n, err := strconv.ParseInt(got.ID, 10, 64)
				if err != nil || n <= prev || seen[got.ID] {
					t.Errorf("start %d: id %q, want an integer above %d", i, got.ID, prev)
				}
				seen[got.ID] = true
				prev = n
			}
		})

		t.Run("1.6 repeat is idempotent", func(t *testing.T) {
			// Same key; other fields and sub-microsecond digits differ.
			again := v16("CP-1", 1, "TAG", base.Add(100*time.Nanosecond).UTC())
			again.MeterStartWh = 5
			got, err := s.StartTransaction(ctx, again)
			must(t, err)
			if diff := cmp.Diff(first, got); diff != "" {
				t.Errorf("repeat (-first +got):\n%s", diff)
			}
			list, err := s.Transactions(ctx, chargedesk.TransactionFilter{ChargerID: "CP-1", IDTag: "TAG"})
			must(t, err)
			count := 0
			for _, tx := range list {
				if tx.StartedAt.Equal(micro(base)) && tx.ConnectorID == 1 {
					count++
				}
			}
			if count != 1 {
				t.Errorf("%d rows for one 1.6 start, want 1", count)
			}
		})

		t.Run("1.6 same values after a stop start a new transaction", func(t *testing.T) {
			// A charger whose clock has whole seconds can stop a session and
			// start the next with the same card within one second.
			at := base.Add(time.Hour)
			one, err := s.StartTransaction(ctx, v16("CP-1", 2, "FAST", at))
			must(t, err)
			one.StoppedAt, one.StopReason = at, "Local"
			must(t, s.UpdateTransaction(ctx, one))
			two, err := s.StartTransaction(ctx, v16("CP-1", 2, "FAST", at))
			must(t, err)
			if two.ID == one.ID || !two.Active() {
				t.Fatalf("second start = %+v, want a new active transaction (first %s)", two, one.ID)
			}
		})

		t.Run("2.0.1 id kept and idempotent", func(t *testing.T) {
			tx := &chargedesk.Transaction{ID: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", ChargerID: "CP-1",
				ConnectorID: 2, StartedAt: base, ChargingState: "EVConnected", SeqNo: 0, RemoteStartID: 7}
			got, err := s.StartTransaction(ctx, tx)
			must(t, err)
			if got.ID != tx.ID || got.RemoteStartID != 7 || got.ChargingState != "EVConnected" {
				t.Errorf("2.0.1 start = %+v", got)
			}
			// The same id on another charger is another transaction.
			other := *tx
			other.ChargerID = "CP-2"
			o, err := s.StartTransaction(ctx, &other)
			must(t, err)
			if o.ChargerID != "CP-2" {
				t.Errorf("other charger's start = %+v", o)
			}
			again := *tx
			again.ChargingState = "Charging"
			again.StartedAt = base.Add(time.Minute)
			rep, err := s.StartTransaction(ctx, &again)
			must(t, err)
			if diff := cmp.Diff(got, rep); diff != "" {
				t.Errorf("repeat (-first +got):\n%s", diff)
			}
		})

		t.Run("errors", func(t *testing.T) {
			for _, tt := range []struct {
				name string
				tx   *chargedesk.Transaction
				code string
			}{
				{"unknown charger 1.6", v16("CP-9", 1, "TAG", base), chargedesk.ENOTFOUND},
				{"unknown charger 2.0.1", &chargedesk.Transaction{ID: "x", ChargerID: "CP-9", StartedAt: base}, chargedesk.ENOTFOUND},
				{"bad charger id", v16("", 1, "TAG", base), chargedesk.EINVALID},
				{"negative connector", v16("CP-1", -1, "TAG", base), chargedesk.EINVALID},
				{"no start time", v16("CP-1", 1, "TAG", time.Time{}), chargedesk.EINVALID},
				{"long id", &chargedesk.Transaction{ID: "0123456789012345678901234567890123456789", ChargerID: "CP-1", StartedAt: base}, chargedesk.EINVALID},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.StartTransaction(ctx, tt.tx)
					wantCode(t, err, tt.code)
				})
			}
		})
	})

	t.Run("StartTransactionConcurrent", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		register(t, s, "CP-1")
		const n = 8
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				tx, err := s.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 1, IDTag: "T", StartedAt: base})
				errs[i] = err
				if err == nil {
					ids[i] = tx.ID
				}
			})
		}
		wg.Wait()
		for i := range n {
			must(t, errs[i])
			if ids[i] != ids[0] {
				t.Errorf("concurrent identical starts got ids %v, want one id", ids)
				break
			}
		}
	})

	t.Run("UpdateTransaction", func(t *testing.T) {
		t.Parallel()
		now := base.Add(time.Hour)
		s := fresh(t, WithClock(func() time.Time { return now }))
		register(t, s, "CP-1")
		tx, err := s.StartTransaction(ctx, &chargedesk.Transaction{ID: "tx-1", ChargerID: "CP-1", ConnectorID: 1, StartedAt: base})
		must(t, err)
		tx.IDTag, tx.AuthStatus = "TAG", chargedesk.AuthAccepted
		tx.ChargingState, tx.SeqNo, tx.RemoteStartID = "Charging", 3, 9
		if !tx.EnergyAt.Equal(micro(base)) {
			t.Errorf("a new transaction's EnergyAt is %v, want its start %v", tx.EnergyAt, micro(base))
		}
		tx.LastMeterWh, tx.LastMeterAt, tx.EnergyAt = 1500, base.Add(time.Minute), base.Add(30*time.Second)
		tx.StoppedAt, tx.MeterStopWh, tx.StopReason, tx.StopIDTag = base.Add(2*time.Minute), 1600, "Local", "TAG"
		tx.StartedAt = base.Add(time.Hour) // not mutable
		tx.ConnectorID = 5                 // not mutable
		must(t, s.UpdateTransaction(ctx, tx))
		got, err := s.Transaction(ctx, "CP-1", "tx-1")
		must(t, err)
		want := &chargedesk.Transaction{ID: "tx-1", ChargerID: "CP-1", ConnectorID: 1, IDTag: "TAG",
			AuthStatus: chargedesk.AuthAccepted, StartedAt: micro(base), RemoteStartID: 9,
			ChargingState: "Charging", SeqNo: 3, LastMeterWh: 1500, LastMeterAt: micro(base.Add(time.Minute)),
			EnergyAt: micro(base.Add(30 * time.Second)), StoppedAt: micro(base.Add(2 * time.Minute)), MeterStopWh: 1600, StopReason: "Local",
			StopIDTag: "TAG", UpdatedAt: micro(now)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
		wantCode(t, s.UpdateTransaction(ctx, &chargedesk.Transaction{ID: "nope", ChargerID: "CP-1"}), chargedesk.ENOTFOUND)
		wantCode(t, s.UpdateTransaction(ctx, &chargedesk.Transaction{ID: "tx-1", ChargerID: "CP-2"}), chargedesk.ENOTFOUND)
	})

	t.Run("Transaction", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		register(t, s, "CP-1")
		started, err := s.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 1, IDTag: "T", StartedAt: base})
		must(t, err)
		got, err := s.Transaction(ctx, "CP-1", started.ID)
		must(t, err)
		if diff := cmp.Diff(started, got); diff != "" {
			t.Errorf("(-started +got):\n%s", diff)
		}
		for _, tt := range []struct{ name, charger, id string }{
			{"unknown id", "CP-1", "999999"},
			{"other charger", "CP-2", started.ID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Transaction(ctx, tt.charger, tt.id)
				wantCode(t, err, chargedesk.ENOTFOUND)
			})
		}
	})

	t.Run("Transactions", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		register(t, s, "CP-1", "CP-2")
		start := func(id, charger, tag string, at time.Duration, stopped bool) {
			t.Helper()
			tx, err := s.StartTransaction(ctx, &chargedesk.Transaction{ID: id, ChargerID: charger, ConnectorID: 1, IDTag: tag, StartedAt: base.Add(at)})
			must(t, err)
			if stopped {
				tx.StoppedAt = base.Add(at + time.Minute)
				must(t, s.UpdateTransaction(ctx, tx))
			}
		}
		start("a", "CP-1", "T1", 1*time.Second, true)
		start("b", "CP-1", "T2", 3*time.Second, false)
		start("c", "CP-2", "T1", 2*time.Second, false)
		start("d", "CP-2", "T1", 4*time.Second, true)
		tests := []struct {
			name string
			f    chargedesk.TransactionFilter
			want []string
		}{
			{"all newest first", chargedesk.TransactionFilter{}, []string{"d", "b", "c", "a"}},
			{"charger", chargedesk.TransactionFilter{ChargerID: "CP-1"}, []string{"b", "a"}},
			{"tag", chargedesk.TransactionFilter{IDTag: "T1"}, []string{"d", "c", "a"}},
			{"active", chargedesk.TransactionFilter{ActiveOnly: true}, []string{"b", "c"}},
			{"charger tag active", chargedesk.TransactionFilter{ChargerID: "CP-2", IDTag: "T1", ActiveOnly: true}, []string{"c"}},
			{"limit", chargedesk.TransactionFilter{Limit: 2}, []string{"d", "b"}},
			{"none", chargedesk.TransactionFilter{ChargerID: "CP-9"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Transactions(ctx, tt.f)
				must(t, err)
				var ids []string
				for _, tx := range got {
					ids = append(ids, tx.ID)
				}
				if diff := cmp.Diff(tt.want, ids); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("MeterValues", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		var samples []chargedesk.MeterSample
		// Stored out of time order on purpose.
		for _, i := range []int{3, 0, 4, 1, 2} {
			samples = append(samples, chargedesk.MeterSample{ChargerID: "CP-1", ConnectorID: 1, TransactionID: "7",
				At: base.Add(time.Duration(i) * time.Second), Value: float64(i) + 0.5, Unit: "Wh"})
		}
		samples = append(samples,
			chargedesk.MeterSample{ChargerID: "CP-1", ConnectorID: 1, TransactionID: "8", At: base, Measurand: "Power.Active.Import",
				Phase: "L1", Context: "Sample.Periodic", Location: "Outlet", Unit: "W", Value: 7200},
			chargedesk.MeterSample{ChargerID: "CP-2", ConnectorID: 1, TransactionID: "7", At: base, Value: 1})
		must(t, s.AppendMeterValues(ctx, samples))
		// The same message again (its node stopped before answering): no
		// sample twice.
		must(t, s.AppendMeterValues(ctx, samples[:3]))
		must(t, s.AppendMeterValues(ctx, nil))
		wantCode(t, s.AppendMeterValues(ctx, []chargedesk.MeterSample{{ConnectorID: 1}}), chargedesk.EINVALID)

		got, err := s.MeterValues(ctx, "CP-1", "7", 0)
		must(t, err)
		var values []float64
		for _, m := range got {
			values = append(values, m.Value)
			if m.Measurand != DefaultMeasurand || m.Unit != "Wh" || m.ChargerID != "CP-1" || m.TransactionID != "7" {
				t.Errorf("sample %+v", m)
			}
		}
		if diff := cmp.Diff([]float64{0.5, 1.5, 2.5, 3.5, 4.5}, values); diff != "" {
			t.Errorf("values in time order (-want +got):\n%s", diff)
		}
		got, err = s.MeterValues(ctx, "CP-1", "7", 2)
		must(t, err)
		if len(got) != 2 || got[0].Value != 3.5 || got[1].Value != 4.5 {
			t.Errorf("limit 2 = %+v, want the newest two in time order", got)
		}
		got, err = s.MeterValues(ctx, "CP-1", "8", 0)
		must(t, err)
		want := []chargedesk.MeterSample{{ChargerID: "CP-1", ConnectorID: 1, TransactionID: "8", At: micro(base),
			Measurand: "Power.Active.Import", Phase: "L1", Context: "Sample.Periodic", Location: "Outlet", Unit: "W", Value: 7200}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		now := base
		s := fresh(t, WithClock(func() time.Time { return now }))
		tok := &chargedesk.Token{IDTag: "AA11", Status: chargedesk.AuthAccepted, ExpiresAt: base.Add(24 * time.Hour),
			ParentIDTag: "GROUP", DriverID: "d1"}
		must(t, s.PutToken(ctx, tok))
		want := &chargedesk.Token{IDTag: "AA11", Type: "ISO14443", Status: chargedesk.AuthAccepted,
			ExpiresAt: micro(base.Add(24 * time.Hour)), ParentIDTag: "GROUP", DriverID: "d1",
			CreatedAt: micro(base), UpdatedAt: micro(base)}
		if diff := cmp.Diff(want, tok); diff != "" {
			t.Errorf("after put (-want +got):\n%s", diff)
		}
		got, err := s.Token(ctx, "AA11")
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}

		t.Run("delete", func(t *testing.T) {
			must(t, s.PutToken(ctx, &chargedesk.Token{IDTag: "GONE-SOON", Status: chargedesk.AuthAccepted}))
			must(t, s.DeleteToken(ctx, "GONE-SOON"))
			_, err := s.Token(ctx, "GONE-SOON")
			wantCode(t, err, chargedesk.ENOTFOUND)
			wantCode(t, s.DeleteToken(ctx, "GONE-SOON"), chargedesk.ENOTFOUND)
		})

		t.Run("replace keeps CreatedAt", func(t *testing.T) {
			now = base.Add(time.Hour)
			must(t, s.PutToken(ctx, &chargedesk.Token{IDTag: "AA11", Type: "KeyCode", Status: chargedesk.AuthBlocked}))
			got, err := s.Token(ctx, "AA11")
			must(t, err)
			want := &chargedesk.Token{IDTag: "AA11", Type: "KeyCode", Status: chargedesk.AuthBlocked,
				CreatedAt: micro(base), UpdatedAt: micro(base.Add(time.Hour))}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})

		t.Run("errors", func(t *testing.T) {
			for _, tt := range []struct {
				name string
				tok  chargedesk.Token
			}{
				{"empty tag", chargedesk.Token{Status: chargedesk.AuthAccepted}},
				{"bad status", chargedesk.Token{IDTag: "X", Status: chargedesk.AuthUnknown}},
				{"bad type", chargedesk.Token{IDTag: "X", Type: "Barcode", Status: chargedesk.AuthAccepted}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					wantCode(t, s.PutToken(ctx, &tt.tok), chargedesk.EINVALID)
				})
			}
			_, err := s.Token(ctx, "nope")
			wantCode(t, err, chargedesk.ENOTFOUND)
		})

		t.Run("list", func(t *testing.T) {
			for _, tag := range []string{"CC", "BB", "DD"} {
				must(t, s.PutToken(ctx, &chargedesk.Token{IDTag: tag, Status: chargedesk.AuthAccepted, DriverID: "d2"}))
			}
			for _, tt := range []struct {
				name string
				f    chargedesk.TokenFilter
				want []string
			}{
				{"all", chargedesk.TokenFilter{}, []string{"AA11", "BB", "CC", "DD"}},
				{"driver", chargedesk.TokenFilter{DriverID: "d2"}, []string{"BB", "CC", "DD"}},
				{"after", chargedesk.TokenFilter{AfterTag: "BB", Limit: 2}, []string{"CC", "DD"}},
				{"none", chargedesk.TokenFilter{DriverID: "d9"}, nil},
			} {
				t.Run(tt.name, func(t *testing.T) {
					got, err := s.Tokens(ctx, tt.f)
					must(t, err)
					var tags []string
					for _, tok := range got {
						tags = append(tags, tok.IDTag)
					}
					if diff := cmp.Diff(tt.want, tags); diff != "" {
						t.Errorf("(-want +got):\n%s", diff)
					}
				})
			}
		})
	})

	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		batch := []chargedesk.Event{
			{ChargerID: "CP-1", At: base, Direction: chargedesk.DirIn, Type: "CALL", MessageID: "m1", Action: "Heartbeat", Payload: json.RawMessage(`{ }`)},
			{ChargerID: "CP-2", At: base, Direction: chargedesk.DirIn, Type: chargedesk.EventConnected},
			{ChargerID: "CP-1", At: base.Add(time.Millisecond), Direction: chargedesk.DirOut, Type: "CALLRESULT", MessageID: "m1", Action: "Heartbeat",
				Payload: json.RawMessage(`{"currentTime":"2025-03-14T14:26:53Z"}`)},
		}
		must(t, s.AppendEvents(ctx, batch))
		if batch[0].Seq == 0 || batch[2].Seq <= batch[0].Seq {
			t.Errorf("seqs %d, %d: want increasing and set", batch[0].Seq, batch[2].Seq)
		}
		wantCode(t, s.AppendEvents(ctx, []chargedesk.Event{{Type: "CALL"}}), chargedesk.EINVALID)
		must(t, s.AppendEvents(ctx, nil))

		got, err := s.RecentEvents(ctx, "CP-1", 0)
		must(t, err)
		want := []chargedesk.Event{batch[2], batch[0]}
		want[0].At, want[1].At = micro(want[0].At), micro(want[1].At)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("recent (-want +got):\n%s", diff)
		}
		got, err = s.RecentEvents(ctx, "CP-1", 1)
		must(t, err)
		if len(got) != 1 || got[0].Seq != batch[2].Seq {
			t.Errorf("limit 1 = %+v, want the newest", got)
		}
		got, err = s.RecentEvents(ctx, "CP-9", 0)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("unknown charger has %d events", len(got))
		}
	})

	t.Run("EventTrimming", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		const total = chargedesk.MaxRecentEvents + 37
		var last int64
		for start := 0; start < total; start += 100 {
			var batch []chargedesk.Event
			for i := start; i < min(start+100, total); i++ {
				batch = append(batch, chargedesk.Event{ChargerID: "CP-1", At: base.Add(time.Duration(i) * time.Millisecond),
					Type: "CALL", MessageID: strconv.Itoa(i)})
				if i%50 == 0 {
					batch = append(batch, chargedesk.Event{ChargerID: "CP-2", At: base, Type: "CALL"})
				}
			}
			must(t, s.AppendEvents(ctx, batch))
			last = batch[len(batch)-1].Seq
		}
		var kept []chargedesk.Event
		for _, n := range []int{1000, 0} {
			got, err := s.RecentEvents(ctx, "CP-1", n)
			must(t, err)
			if n == 1000 {
				kept = got
			} else if len(got) != DefaultLimit {
				t.Errorf("default limit returned %d events", len(got))
			}
		}
		if len(kept) != chargedesk.MaxRecentEvents {
			t.Fatalf("kept %d events, want %d", len(kept), chargedesk.MaxRecentEvents)
		}
		if kept[0].Seq != last || kept[0].MessageID != strconv.Itoa(total-1) {
			t.Errorf("newest kept = %+v, want seq %d message %d", kept[0], last, total-1)
		}
		if oldest := kept[len(kept)-1].MessageID; oldest != strconv.Itoa(total-chargedesk.MaxRecentEvents) {
			t.Errorf("oldest kept message = %s, want %d", oldest, total-chargedesk.MaxRecentEvents)
		}
		other, err := s.RecentEvents(ctx, "CP-2", 1000)
		must(t, err)
		if len(other) != (total+49)/50 {
			t.Errorf("CP-2 kept %d events, want %d", len(other), (total+49)/50)
		}
	})

	t.Run("Audit", func(t *testing.T) {
		t.Parallel()
		s := fresh(t, WithClock(func() time.Time { return base }))
		entries := []*chargedesk.AuditEntry{
			{At: base.Add(time.Second), Actor: "agent:c1", CommandID: "cmd1", Kind: "Reset", ChargerID: "CP-1",
				Stage: chargedesk.AuditDecision, Allowed: true, Reason: "hung", Detail: json.RawMessage(`{"kind":"Reset", "x":1}`)},
			{Actor: "agent:c1", CommandID: "cmd1", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditOutcome,
				Allowed: true, Outcome: "Accepted"},
			{Actor: "op:alice", CommandID: "cmd2", Kind: "UnlockConnector", ChargerID: "CP-2", Stage: chargedesk.AuditDecision,
				Reason: "not the caller's transaction"},
		}
		prev := ""
		for i, e := range entries {
			must(t, s.AppendAudit(ctx, e))
			if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash == "" || e.Hash != e.ComputeHash() {
				t.Errorf("entry %d: seq %d prev %q hash %q", i, e.Seq, e.PrevHash, e.Hash)
			}
			prev = e.Hash
		}
		if !entries[1].At.Equal(micro(base)) {
			t.Errorf("zero At became %v, want the clock's %v", entries[1].At, micro(base))
		}
		wantCode(t, s.AppendAudit(ctx, nil), chargedesk.EINVALID)

		for _, tt := range []struct {
			name string
			f    chargedesk.AuditFilter
			want []int64
		}{
			{"all", chargedesk.AuditFilter{}, []int64{1, 2, 3}},
			{"charger", chargedesk.AuditFilter{ChargerID: "CP-1"}, []int64{1, 2}},
			{"command", chargedesk.AuditFilter{CommandID: "cmd2"}, []int64{3}},
			{"after", chargedesk.AuditFilter{AfterSeq: 1, Limit: 1}, []int64{2}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.AuditEntries(ctx, tt.f)
				must(t, err)
				var seqs []int64
				for _, e := range got {
					seqs = append(seqs, e.Seq)
					if want := entries[e.Seq-1]; !cmp.Equal(want, e) {
						t.Errorf("entry %d (-want +got):\n%s", e.Seq, cmp.Diff(want, e))
					}
				}
				if diff := cmp.Diff(tt.want, seqs); diff != "" {
					t.Errorf("seqs (-want +got):\n%s", diff)
				}
			})
		}
		must(t, s.VerifyAudit(ctx))

		t.Run("append-only", func(t *testing.T) {
			for _, q := range []string{`UPDATE audit SET reason = 'x' WHERE seq = 1`, `DELETE FROM audit WHERE seq = 1`} {
				if _, err := s.w.ExecContext(ctx, q); err == nil {
					t.Errorf("%s: succeeded, want the trigger to refuse it", q)
				}
			}
			must(t, s.VerifyAudit(ctx))
		})

		t.Run("tamper detected", func(t *testing.T) {
			must(t, execAll(ctx, s, b.dropAppendOnly, `UPDATE audit SET reason = 'benign' WHERE seq = 2`))
			err := s.VerifyAudit(ctx)
			wantCode(t, err, chargedesk.EINTERNAL)
			if msg := chargedesk.ErrorMessage(err); msg != "audit chain broken at entry 2: hash does not match" {
				t.Errorf("message = %q, want it to name entry 2", msg)
			}
		})
	})

	t.Run("AuditConcurrent", func(t *testing.T) {
		t.Parallel()
		dsn := b.newDSN(t)
		// Two stores on one database stand for two nodes.
		nodes := []*Store{openStore(t, dsn), openStore(t, dsn)}
		const workers, each = 6, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					e := &chargedesk.AuditEntry{Actor: fmt.Sprintf("w%d", w), CommandID: fmt.Sprintf("c%d-%d", w, i),
						Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditDecision}
					errs <- nodes[w%2].AppendAudit(ctx, e)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		must(t, nodes[0].VerifyAudit(ctx))
		got, err := nodes[1].AuditEntries(ctx, chargedesk.AuditFilter{Limit: 1000})
		must(t, err)
		if len(got) != workers*each || got[len(got)-1].Seq != workers*each {
			t.Errorf("%d entries, last seq %d; want %d", len(got), got[len(got)-1].Seq, workers*each)
		}
	})

	t.Run("Durability", func(t *testing.T) {
		t.Parallel()
		dsn := b.newDSN(t)
		first, err := Open(ctx, dsn)
		must(t, err)
		register(t, first, "CP-1")
		tx, err := first.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 1, IDTag: "T", StartedAt: base})
		must(t, err)
		e := &chargedesk.AuditEntry{Actor: "a", CommandID: "c", Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditDecision}
		must(t, first.AppendAudit(ctx, e))

		// A second store reads what the first acknowledged while the first
		// is still open, then again after the first has closed.
		second, err := Open(ctx, dsn)
		must(t, err)
		check := func(s *Store) {
			t.Helper()
			got, err := s.Transaction(ctx, "CP-1", tx.ID)
			must(t, err)
			if diff := cmp.Diff(tx, got); diff != "" {
				t.Errorf("(-written +read):\n%s", diff)
			}
			must(t, s.VerifyAudit(ctx))
		}
		check(second)
		must(t, first.Close())
		check(second)
		must(t, second.Close())
		// Migrations are not applied twice on reopen.
		check(openStore(t, dsn))
	})
}
