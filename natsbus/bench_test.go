package natsbus

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/chargedesk/chargedesk"
)

// BenchmarkPublishEvent measures the cost to the caller (the csms read loop)
// of publishing one event, on an embedded server.
func BenchmarkPublishEvent(b *testing.B) {
	for _, sc := range []struct {
		name      string
		subscribe bool
	}{{"no subscriber", false}, {"one subscriber", true}} {
		b.Run(sc.name, func(b *testing.B) {
			// Drops by the subscriber, which a tight loop outpaces, are expected.
			bus := openBus(b, Config{Logger: slog.New(slog.DiscardHandler)})
			if sc.subscribe {
				if _, err := bus.SubscribeEvents("", func(chargedesk.Event) {}); err != nil {
					b.Fatal(err)
				}
			}
			ev := event("site.7_cp-12", "19223201")
			b.ReportAllocs()
			for b.Loop() {
				if err := bus.PublishEvent(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSend measures a command's round trip through the embedded server
// to a Commander that answers at once: one caller at a time, and many callers
// to many chargers at once.
func BenchmarkSend(b *testing.B) {
	bus := openBus(b, Config{})
	const chargers = 100
	for i := range chargers {
		if _, err := bus.ServeCharger(fmt.Sprintf("cp.%d", i), answer("x")); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		cmd := clearCache("cp.0")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bus.Send(b.Context(), cmd); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := bus.Send(b.Context(), clearCache(fmt.Sprintf("cp.%d", i%chargers))); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}
