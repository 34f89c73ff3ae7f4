package sqlstore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// benchBackends runs fn against SQLite and, when CHARGEDESK_TEST_POSTGRES is
// set, PostgreSQL.
func benchBackends(b *testing.B, fn func(b *testing.B, s *Store)) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, openStore(b, sqliteBackend.newDSN(b)))
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(postgresEnv) == "" {
			b.Skipf("%s is not set", postgresEnv)
		}
		fn(b, openStore(b, postgresBackend(b).newDSN(b)))
	})
}

func BenchmarkStartTransaction(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		register(b, s, "CP-1")
		i := 0
		for b.Loop() {
			i++
			if _, err := s.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 1,
				IDTag: "TAG", StartedAt: base.Add(time.Duration(i) * time.Second)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTouchChargers1000(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fmt.Sprintf("CP-%04d", i)
		}
		register(b, s, ids...)
		seen := make(map[string]time.Time, len(ids))
		hb := map[string]time.Time{}
		i := 0
		for b.Loop() {
			i++
			at := base.Add(time.Duration(i) * time.Second)
			for j, id := range ids {
				seen[id] = at
				if j%10 == i%10 { // a tenth heartbeat each second
					hb[id] = at
				}
			}
			if err := s.TouchChargers(ctx, seen, hb); err != nil {
				b.Fatal(err)
			}
			clear(hb)
		}
	})
}

func BenchmarkAppendEvents100(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		payload := []byte(`{"connectorId":1,"errorCode":"NoError","status":"Charging","timestamp":"2025-03-14T14:26:53Z"}`)
		batch := make([]chargedesk.Event, 100)
		i := 0
		for b.Loop() {
			for j := range batch {
				i++
				// Ten chargers, so each is trimmed once it passes 500 events.
				batch[j] = chargedesk.Event{ChargerID: fmt.Sprintf("CP-%d", j%10), At: base.Add(time.Duration(i) * time.Millisecond),
					Direction: chargedesk.DirIn, Type: "CALL", MessageID: fmt.Sprint(i), Action: "StatusNotification", Payload: payload}
			}
			if err := s.AppendEvents(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendAudit(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := s.AppendAudit(ctx, &chargedesk.AuditEntry{Actor: "bench", CommandID: "c", Kind: "Reset",
				ChargerID: "CP-1", Stage: chargedesk.AuditDecision, Detail: []byte(`{"kind":"Reset"}`)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendAuditParallel measures appends from 16 callers at once
// (commands sent together): ns/op is the store's throughput, not one
// caller's latency.
func BenchmarkAppendAuditParallel(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		b.ReportAllocs()
		b.SetParallelism(8) // 16 callers on 2 CPUs
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.AppendAudit(ctx, &chargedesk.AuditEntry{Actor: "bench", CommandID: "c", Kind: "Reset",
					ChargerID: "CP-1", Stage: chargedesk.AuditDecision, Detail: []byte(`{"kind":"Reset"}`)}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		if err := s.VerifyAudit(ctx); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkAppendEventsFleet is one second of frame history at 10,000
// chargers sending 1,000 Heartbeats a second, as csms flushes it: 2,000
// events (each CALL and its answer) of 1,000 chargers, the next 1,000 of
// the fleet at each flush.
func BenchmarkAppendEventsFleet(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		const fleet, perFlush = 10000, 1000
		ids := make([]string, fleet)
		for i := range ids {
			ids[i] = fmt.Sprintf("CP-%05d", i)
		}
		batch := make([]chargedesk.Event, 2*perFlush)
		next, i := 0, 0
		b.ReportAllocs()
		for b.Loop() {
			for j := 0; j < perFlush; j++ {
				i++
				id := ids[next]
				next = (next + 1) % fleet
				at := base.Add(time.Duration(i) * time.Millisecond)
				batch[2*j] = chargedesk.Event{ChargerID: id, At: at, Direction: chargedesk.DirIn, Type: "CALL",
					MessageID: fmt.Sprint(i), Action: "Heartbeat", Payload: []byte(`{}`)}
				batch[2*j+1] = chargedesk.Event{ChargerID: id, At: at, Direction: chargedesk.DirOut, Type: "CALLRESULT",
					MessageID: fmt.Sprint(i), Action: "Heartbeat", Payload: []byte(`{"currentTime":"2025-03-14T14:26:53.000Z"}`)}
			}
			if err := s.AppendEvents(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTouchChargersFleet is one second of last-seen touches at 10,000
// chargers sending 1,000 Heartbeats a second: 1,000 chargers seen, each by
// its Heartbeat.
func BenchmarkTouchChargersFleet(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		const fleet, perFlush = 10000, 1000
		ids := make([]string, fleet)
		for i := range ids {
			ids[i] = fmt.Sprintf("CP-%05d", i)
		}
		register(b, s, ids...)
		seen := make(map[string]time.Time, perFlush)
		hb := make(map[string]time.Time, perFlush)
		next, i := 0, 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			at := base.Add(time.Duration(i) * time.Second)
			for range perFlush {
				seen[ids[next]], hb[ids[next]] = at, at
				next = (next + 1) % fleet
			}
			if err := s.TouchChargers(ctx, seen, hb); err != nil {
				b.Fatal(err)
			}
			clear(seen)
			clear(hb)
		}
	})
}
