package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// The network of the uptime benchmark: 10,000 chargers of 2 connectors,
// each port used benchSessionsPerDay times a day.
const (
	benchChargers        = 10000
	benchConnectors      = 2
	benchSessionsPerDay  = 3
	benchFaultsPerMonth  = 1 // per port, 1 to 6 hours each
	benchOfflinePerMonth = 2 // per charger, 1 to 30 minutes each
)

// BenchmarkUptimeReport computes a month's NEVI uptime report for 10,000
// chargers × 2 connectors on SQLite, with a realistic month of port
// history: every session's status changes (Preparing, Charging, sometimes
// SuspendedEV, Finishing, Available; three sessions a port a day), a fault
// per port, two short disconnections per charger, a few hundred
// exclusions — 8.6 million rows from three days before the month to its
// end. "report" is what the console runs (ComputeUptime: the state at the
// month's start, then only the rows that change availability);
// "every-row" streams the month's whole history through the same
// calculation, for comparison.
//
//	go test -run '^$' -bench UptimeReport -benchtime 5x ./sqlstore/
func BenchmarkUptimeReport(b *testing.B) {
	ctx := context.Background()
	s := openStore(b, sqliteBackend.newDSN(b))
	from := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	rows := fillBenchHistory(b, s, from.AddDate(0, 0, -3), to)
	check := func(b *testing.B, r *chargedesk.UptimeReport) {
		if len(r.Ports) != benchChargers*benchConnectors {
			b.Fatalf("%d ports", len(r.Ports))
		}
		u, _ := r.Network()
		b.ReportMetric(float64(rows), "history-rows")
		b.ReportMetric(u, "network-uptime-%")
		b.ReportMetric(float64(len(r.NotCompliant())), "ports-not-above-97%")
	}
	var want *chargedesk.UptimeReport
	b.Run("report", func(b *testing.B) {
		var r *chargedesk.UptimeReport
		for b.Loop() {
			var err error
			if r, err = chargedesk.ComputeUptime(ctx, s, from, to); err != nil {
				b.Fatal(err)
			}
		}
		check(b, r)
		want = r
	})
	b.Run("every-row", func(b *testing.B) {
		excl, err := s.UptimeExclusions(ctx, from, to)
		must(b, err)
		var r *chargedesk.UptimeReport
		for b.Loop() {
			calc := chargedesk.NewUptimeCalc(from, to, excl)
			must(b, s.PortHistory(ctx, from, to, false, func(ev chargedesk.PortEvent) error {
				calc.Add(ev)
				return nil
			}))
			r = calc.Report()
		}
		check(b, r)
		// The rows among up statuses change nothing.
		if want != nil && !slices.EqualFunc(want.Ports, r.Ports, func(a, b chargedesk.PortUptime) bool {
			return a.ChargerID == b.ChargerID && a.ConnectorID == b.ConnectorID && a.Counted == b.Counted &&
				a.Outage == b.Outage && a.Excluded == b.Excluded
		}) {
			b.Fatal("every row and the availability rows give different reports")
		}
	})
}

type benchRow struct {
	charger   int
	connector int
	at        time.Time
	status    chargedesk.ConnectorStatus
	avail     bool
}

// fillBenchHistory registers the network and writes its port history from
// start to end, day by day in time order (as csms writes it), with raw
// multi-row inserts. It returns the number of rows.
func fillBenchHistory(b *testing.B, s *Store, start, end time.Time) int {
	b.Helper()
	ctx := context.Background()
	id := func(i int) string { return fmt.Sprintf("CP-%05d", i) }
	insert := func(table, cols string, n int, arg func(i int) []any) {
		const batch = 400
		for i := 0; i < n; i += batch {
			m := min(batch, n-i)
			var args []any
			for j := range m {
				args = append(args, arg(i+j)...)
			}
			per := strings.Count(cols, ",") + 1
			values := strings.TrimSuffix(strings.Repeat("("+placeholders(per)+"), ", m), ", ")
			if _, err := s.w.ExecContext(ctx, `INSERT INTO `+table+` (`+cols+`) VALUES `+values, args...); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The fixture is thrown away: no need to survive a power cut while it
	// is written.
	must(b, execAll(ctx, s, "PRAGMA synchronous = OFF", "PRAGMA cache_size = -524288", "BEGIN"))
	insert("chargers", "id, registration_status, registered_at, connected", benchChargers, func(i int) []any {
		return []any{id(i), "Accepted", start.UnixMicro(), 1}
	})
	insert("connectors", "charger_id, id, status, updated_at", benchChargers*(benchConnectors+1), func(i int) []any {
		return []any{id(i / (benchConnectors + 1)), i % (benchConnectors + 1), "Available", start.UnixMicro()}
	})
	must(b, execAll(ctx, s, "COMMIT"))

	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	write := func(rows []benchRow) {
		slices.SortFunc(rows, func(a, b benchRow) int { return a.at.Compare(b.at) })
		must(b, execAll(ctx, s, "BEGIN"))
		insert("port_history", "charger_id, connector_id, at, status, avail_change", len(rows), func(i int) []any {
			r := rows[i]
			return []any{id(r.charger), r.connector, r.at.UnixMicro(), string(r.status), r.avail}
		})
		must(b, execAll(ctx, s, "COMMIT"))
		total += len(rows)
	}
	// The state at the start: online, every connector available.
	var rows []benchRow
	for c := range benchChargers {
		rows = append(rows, benchRow{c, chargedesk.PortHistoryConnection, start, chargedesk.ConnectionOnline, true})
		for k := range benchConnectors + 1 {
			rows = append(rows, benchRow{c, k, start, chargedesk.StatusAvailable, true})
		}
	}
	write(rows)
	days := int(end.Sub(start) / (24 * time.Hour))
	perDay := func(n int) bool { return rng.IntN(days*1000) < n*1000 } // n a month, spread over the days
	// A day is one slot per session; a fault takes a session's slot.
	slot := 24 * time.Hour / benchSessionsPerDay
	for d := range days {
		day := start.AddDate(0, 0, d)
		rows = rows[:0]
		for c := range benchChargers {
			if perDay(benchOfflinePerMonth) {
				off := day.Add(time.Duration(rng.IntN(86000)) * time.Second)
				rows = append(rows, benchRow{c, chargedesk.PortHistoryConnection, off, chargedesk.ConnectionOffline, true},
					benchRow{c, chargedesk.PortHistoryConnection, off.Add(time.Duration(1+rng.IntN(30)) * time.Minute), chargedesk.ConnectionOnline, true})
			}
			for k := 1; k <= benchConnectors; k++ {
				fault := -1
				if perDay(benchFaultsPerMonth) {
					fault = rng.IntN(benchSessionsPerDay)
				}
				for n := range benchSessionsPerDay {
					t := day.Add(time.Duration(n)*slot + time.Duration(rng.Int64N(int64(slot/4))))
					if n == fault {
						rows = append(rows, benchRow{c, k, t, chargedesk.StatusFaulted, true},
							benchRow{c, k, t.Add(time.Duration(60+rng.IntN(300)) * time.Minute), chargedesk.StatusAvailable, true})
						continue
					}
					rows = append(rows, benchRow{c, k, t, chargedesk.StatusPreparing, false})
					t = t.Add(time.Duration(30+rng.IntN(90)) * time.Second)
					rows = append(rows, benchRow{c, k, t, chargedesk.StatusCharging, false})
					if rng.IntN(3) == 0 {
						t = t.Add(time.Duration(10+rng.IntN(30)) * time.Minute)
						rows = append(rows, benchRow{c, k, t, chargedesk.StatusSuspendedEV, false})
					}
					t = t.Add(time.Duration(10+rng.IntN(40)) * time.Minute)
					rows = append(rows, benchRow{c, k, t, chargedesk.StatusFinishing, false})
					t = t.Add(time.Duration(1+rng.IntN(5)) * time.Minute)
					rows = append(rows, benchRow{c, k, t, chargedesk.StatusAvailable, false})
				}
			}
		}
		write(rows)
	}
	// A few hundred exclusions, as operators record them.
	for i := range 300 {
		t := start.Add(time.Duration(rng.Int64N(int64(end.Sub(start)))))
		must(b, s.AddUptimeExclusion(ctx, &chargedesk.UptimeExclusion{ChargerID: id(rng.IntN(benchChargers)), ConnectorID: i % 3,
			From: t, To: t.Add(time.Duration(1+rng.IntN(12)) * time.Hour), Cause: chargedesk.ExclusionCauses[i%len(chargedesk.ExclusionCauses)],
			Note: "bench", CreatedBy: "bench"}))
	}
	must(b, execAll(ctx, s, "ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA synchronous = FULL", "PRAGMA cache_size = -2000"))
	return total
}
