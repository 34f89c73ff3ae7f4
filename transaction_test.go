package chargedesk_test

import (
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestTransactionMeter(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	tx := &chargedesk.Transaction{ID: "1", StartedAt: t0, MeterStartWh: 5000}
	steps := []struct {
		wh       int64
		at       time.Duration
		taken    bool
		energyAt time.Duration // -1: still zero
	}{
		{5000, 0, true, -1},                // the start reading: nothing rose
		{5000, time.Minute, true, -1},      // flat
		{5400, 2 * time.Minute, true, 2},   // rose
		{5400, 3 * time.Minute, true, 2},   // flat again
		{5900, 90 * time.Second, false, 2}, // older than the latest: ignored
		{5500, 4 * time.Minute, true, 4},
	}
	for i, st := range steps {
		if got := tx.Meter(st.wh, t0.Add(st.at)); got != st.taken {
			t.Fatalf("step %d: taken %v, want %v", i, got, st.taken)
		}
		want := time.Time{}
		if st.energyAt >= 0 {
			want = t0.Add(st.energyAt * time.Minute)
		}
		if !tx.EnergyAt.Equal(want) {
			t.Fatalf("step %d: EnergyAt %v, want %v", i, tx.EnergyAt, want)
		}
	}
	if tx.LastMeterWh != 5500 || !tx.LastMeterAt.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("latest reading %d at %v", tx.LastMeterWh, tx.LastMeterAt)
	}
}
