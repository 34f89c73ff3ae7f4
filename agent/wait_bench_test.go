package agent

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// BenchmarkVerifyWait measures how long after a charger sends the status
// that confirms a fix the agent's wait for it ends: polling the store every
// DefaultPoll, and woken by the charger's events from an embedded bus
// (safety poll DefaultSafetyPoll), with the central system on SQLite over
// a loopback WebSocket. Each iteration is one wait; the charger reports
// at a random moment within DefaultPoll of the wait's first look, as a
// confirmation comes whenever the charger is done. Run it with
// -benchtime=200x. Reported: the delay's p50 and p99, the charger's own
// round trip (StatusNotification sent → answered, the store written in
// between), and how often each wait read the store.
func BenchmarkVerifyWait(b *testing.B) {
	st := newStack(b)
	e := newEnv(b, st, chargedesk.OCPP16, envOpts{})
	e.ctx = b.Context() // 200 polled waits outlast a test's deadline
	modes := []struct {
		name   string
		events EventSource
	}{
		{"poll", nil},
		{"events", st.bus},
	}
	plugged := false
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			cfg := st.cfg
			cfg.Events, cfg.Poll, cfg.SafetyPoll = m.events, DefaultPoll, DefaultSafetyPoll
			a, err := New(cfg)
			must(b, err)
			var delays, trips []time.Duration
			reads := 0
			rnd := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				done := waitForStatus(e, a, nextStatus(plugged))
				time.Sleep(time.Duration(rnd.Int64N(int64(DefaultPoll))))
				sent := time.Now()
				toggle(e, plugged)
				trips = append(trips, time.Since(sent))
				plugged = !plugged
				w := <-done
				if w.err != nil {
					b.Fatal(w.err)
				}
				delays = append(delays, w.at.Sub(sent))
				reads += w.reads
			}
			ms := func(ds []time.Duration, q float64) float64 {
				ds = slices.Clone(ds)
				slices.Sort(ds)
				return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(ms(delays, 0.5), "p50-ms")
			b.ReportMetric(ms(delays, 0.99), "p99-ms")
			b.ReportMetric(ms(trips, 0.5), "round-trip-p50-ms")
			b.ReportMetric(float64(reads)/float64(len(delays)), "reads/wait")
		})
	}
}
