package policy

import (
	"context"
	"testing"

	"github.com/chargedesk/chargedesk"
)

// instantCommander answers every command at once.
type instantCommander struct{}

func (instantCommander) Send(context.Context, chargedesk.Command) (chargedesk.Result, error) {
	return chargedesk.Result{Status: chargedesk.ResultAccepted}, nil
}

// BenchmarkGatewaySend measures what the gateway adds to a command: the
// policy check and the two audit entries (SQLite, synchronous=FULL), with a
// charger that answers at once; one caller, and 16 at a time.
func BenchmarkGatewaySend(b *testing.B) {
	_, g, _ := setup(b)
	g.Next = instantCommander{}
	cmd := chargedesk.Command{Kind: chargedesk.CmdGetLocalListVersion, ChargerID: "CP-1", Actor: "op:bench"}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if res, err := g.Send(context.Background(), cmd); err != nil || res.Status != chargedesk.ResultAccepted {
				b.Fatal(res, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if res, err := g.Send(context.Background(), cmd); err != nil || res.Status != chargedesk.ResultAccepted {
					b.Error(res, err)
					return
				}
			}
		})
	})
}
