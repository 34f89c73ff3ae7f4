package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestSQLiteFleetFilters(t *testing.T) { runFleetConformance(t, sqliteBackend) }

func TestPostgresFleetFilters(t *testing.T) { runFleetConformance(t, postgresBackend(t)) }

// runFleetConformance checks the filters the console's fleet and charger
// pages use: chargers by site, id search and connector status kind,
// transactions of many chargers at once, and a charger's newest audit
// entries.
func runFleetConformance(t *testing.T, b backend) {
	ctx := context.Background()

	t.Run("ChargerFilter", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t), WithClock(stepClock(base)))
		// In id order (ASCII: upper case first, 'Z' before '_').
		register(t, s, "CP-A1", "OFF-1", "XYZ1", "XY_1", "ab-CP-3", "cp-b2")
		for _, site := range []string{"s1", "s2", "empty"} {
			must(t, s.PutSite(ctx, &chargedesk.Site{ID: site, Name: "Site " + site}))
		}
		for id, site := range map[string]string{"CP-A1": "s1", "cp-b2": "s1", "XY_1": "s1", "OFF-1": "s2"} {
			must(t, s.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: id, SiteID: site}))
		}
		put := func(id string, conn int, st chargedesk.ConnectorStatus) {
			t.Helper()
			must(t, s.PutConnector(ctx, chargedesk.Connector{ChargerID: id, ID: conn, Status: st, ErrorCode: "NoError"}))
		}
		put("CP-A1", 0, chargedesk.StatusAvailable)
		put("CP-A1", 1, chargedesk.StatusCharging)
		put("cp-b2", 1, chargedesk.StatusFaulted)
		put("cp-b2", 2, chargedesk.StatusAvailable)
		put("XY_1", 0, chargedesk.StatusUnavailable)
		put("XY_1", 1, chargedesk.StatusAvailable)
		put("XYZ1", 1, chargedesk.StatusAvailable)
		put("ab-CP-3", 0, chargedesk.StatusAvailable) // only the charger as a whole
		put("OFF-1", 1, chargedesk.StatusOccupied)
		for _, id := range []string{"CP-A1", "XY_1", "ab-CP-3"} {
			_, err := s.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error {
				c.Connected, c.Node, c.ConnectedAt = true, "n1", base
				return nil
			})
			must(t, err)
		}
		yes, no := true, false
		tests := []struct {
			name string
			f    chargedesk.ChargerFilter
			want []string
		}{
			{"all", chargedesk.ChargerFilter{}, []string{"CP-A1", "OFF-1", "XYZ1", "XY_1", "ab-CP-3", "cp-b2"}},
			{"site", chargedesk.ChargerFilter{SiteID: "s1"}, []string{"CP-A1", "XY_1", "cp-b2"}},
			{"site without chargers", chargedesk.ChargerFilter{SiteID: "empty"}, nil},
			{"unknown site", chargedesk.ChargerFilter{SiteID: "nowhere"}, nil},
			{"search ignores case", chargedesk.ChargerFilter{IDContains: "cP"}, []string{"CP-A1", "ab-CP-3", "cp-b2"}},
			{"search: '_' is no wildcard", chargedesk.ChargerFilter{IDContains: "y_"}, []string{"XY_1"}},
			{"search: '.' matches itself", chargedesk.ChargerFilter{IDContains: "."}, nil},
			{"faulted", chargedesk.ChargerFilter{Status: chargedesk.KindFaulted}, []string{"cp-b2"}},
			{"unavailable as a whole", chargedesk.ChargerFilter{Status: chargedesk.KindUnavailable}, []string{"XY_1"}},
			{"in use: Charging or Occupied", chargedesk.ChargerFilter{Status: chargedesk.KindInUse}, []string{"CP-A1", "OFF-1"}},
			{"available: connector 0 does not count", chargedesk.ChargerFilter{Status: chargedesk.KindAvailable}, []string{"XYZ1", "XY_1", "cp-b2"}},
			{"connected", chargedesk.ChargerFilter{Connected: &yes}, []string{"CP-A1", "XY_1", "ab-CP-3"}},
			{"offline", chargedesk.ChargerFilter{Connected: &no}, []string{"OFF-1", "XYZ1", "cp-b2"}},
			{"site and status", chargedesk.ChargerFilter{SiteID: "s1", Status: chargedesk.KindAvailable}, []string{"XY_1", "cp-b2"}},
			{"site, status and connected", chargedesk.ChargerFilter{SiteID: "s1", Status: chargedesk.KindAvailable, Connected: &yes}, []string{"XY_1"}},
			{"search and site", chargedesk.ChargerFilter{SiteID: "s1", IDContains: "cp"}, []string{"CP-A1", "cp-b2"}},
			{"after", chargedesk.ChargerFilter{SiteID: "s1", AfterID: "CP-A1"}, []string{"XY_1", "cp-b2"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Chargers(ctx, tt.f)
				must(t, err)
				var ids []string
				for _, c := range got {
					ids = append(ids, c.ID)
				}
				if !slices.Equal(ids, tt.want) {
					t.Fatalf("Chargers(%+v) = %v, want %v", tt.f, ids, tt.want)
				}
			})
		}
		// The connectors come with the filtered chargers, all of them.
		got, err := s.Chargers(ctx, chargedesk.ChargerFilter{Status: chargedesk.KindFaulted})
		must(t, err)
		if len(got) != 1 || len(got[0].Connectors) != 2 {
			t.Fatalf("faulted charger's connectors: %+v", got)
		}
		// Paging one at a time through a filtered listing sees each once.
		var paged []string
		f := chargedesk.ChargerFilter{Status: chargedesk.KindAvailable, Limit: 1}
		for {
			page, err := s.Chargers(ctx, f)
			must(t, err)
			if len(page) == 0 {
				break
			}
			paged = append(paged, page[0].ID)
			f.AfterID = page[0].ID
		}
		if want := []string{"XYZ1", "XY_1", "cp-b2"}; !slices.Equal(paged, want) {
			t.Fatalf("paged %v, want %v", paged, want)
		}
		for _, bad := range []chargedesk.ChargerFilter{
			{IDContains: "50%"}, {IDContains: "a b"}, {IDContains: string(make([]byte, 49))},
			{Status: "broken"}, {AfterID: "x'--"}, {SiteID: string(make([]byte, 65))},
		} {
			if _, err := s.Chargers(ctx, bad); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Errorf("Chargers(%+v) = %v, want EINVALID", bad, err)
			}
		}
	})

	t.Run("TransactionsOfManyChargers", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t), WithClock(stepClock(base)))
		register(t, s, "CP-1", "CP-2", "CP-3")
		start := func(id string, conn int, at time.Time) *chargedesk.Transaction {
			t.Helper()
			tx, err := s.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: id, ConnectorID: conn,
				IDTag: fmt.Sprintf("TAG-%s-%d", id, conn), StartedAt: at})
			must(t, err)
			return tx
		}
		a := start("CP-1", 1, base)
		start("CP-1", 2, base.Add(time.Minute))
		c := start("CP-2", 1, base.Add(2*time.Minute))
		start("CP-3", 1, base.Add(3*time.Minute))
		c.StoppedAt, c.StopReason = base.Add(5*time.Minute), "Local"
		must(t, s.UpdateTransaction(ctx, c))
		got, err := s.Transactions(ctx, chargedesk.TransactionFilter{ChargerIDs: []string{"CP-1", "CP-2", "CP-9"}, ActiveOnly: true})
		must(t, err)
		var keys []string
		for _, tx := range got {
			keys = append(keys, fmt.Sprintf("%s/%d", tx.ChargerID, tx.ConnectorID))
		}
		if want := []string{"CP-1/2", "CP-1/1"}; !slices.Equal(keys, want) {
			t.Fatalf("active transactions of CP-1, CP-2 = %v, want %v", keys, want)
		}
		got, err = s.Transactions(ctx, chargedesk.TransactionFilter{ChargerIDs: []string{"CP-2", "CP-1"}, IDTag: a.IDTag})
		must(t, err)
		if len(got) != 1 || got[0].ID != a.ID {
			t.Fatalf("with an idTag too: %+v", got)
		}
		got, err = s.Transactions(ctx, chargedesk.TransactionFilter{ChargerIDs: []string{"CP-2"}})
		must(t, err)
		if len(got) != 1 || got[0].ID != c.ID || got[0].Active() {
			t.Fatalf("CP-2's transactions: %+v", got)
		}
		many := make([]string, chargedesk.MaxFilterChargerIDs+1)
		for i := range many {
			many[i] = fmt.Sprintf("CP-%d", i)
		}
		if _, err := s.Transactions(ctx, chargedesk.TransactionFilter{ChargerIDs: many}); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("too many charger ids: %v", err)
		}
	})

	t.Run("NewestAuditEntries", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t))
		for i := 1; i <= 6; i++ {
			ch := "CP-1"
			if i%2 == 0 {
				ch = "CP-2"
			}
			must(t, s.AppendAudit(ctx, &chargedesk.AuditEntry{Actor: "console:ada", CommandID: fmt.Sprint("c", i), Kind: "Reset",
				ChargerID: ch, Stage: chargedesk.AuditDecision, Allowed: true}))
		}
		seqs := func(f chargedesk.AuditFilter) []int64 {
			t.Helper()
			es, err := s.AuditEntries(ctx, f)
			must(t, err)
			var out []int64
			for _, e := range es {
				out = append(out, e.Seq)
			}
			return out
		}
		if got, want := seqs(chargedesk.AuditFilter{ChargerID: "CP-1", Newest: true, Limit: 2}), []int64{5, 3}; !slices.Equal(got, want) {
			t.Errorf("newest of CP-1 = %v, want %v", got, want)
		}
		if got, want := seqs(chargedesk.AuditFilter{Newest: true, Limit: 3}), []int64{6, 5, 4}; !slices.Equal(got, want) {
			t.Errorf("newest = %v, want %v", got, want)
		}
		if got, want := seqs(chargedesk.AuditFilter{ChargerID: "CP-2", Newest: true, AfterSeq: 2}), []int64{6, 4}; !slices.Equal(got, want) {
			t.Errorf("newest of CP-2 after 2 = %v, want %v", got, want)
		}
		if got, want := seqs(chargedesk.AuditFilter{ChargerID: "CP-1", Limit: 2}), []int64{1, 3}; !slices.Equal(got, want) {
			t.Errorf("oldest of CP-1 = %v, want %v", got, want)
		}
	})
}
