package console

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// countingReports counts the uptime computations (each reads the month's
// exclusions first).
type countingReports struct {
	chargedesk.ReportStore
	n atomic.Int32
}

func (c *countingReports) UptimeExclusions(ctx context.Context, from, to time.Time) ([]chargedesk.UptimeExclusion, error) {
	c.n.Add(1)
	return c.ReportStore.UptimeExclusions(ctx, from, to)
}

func TestUptimeCache(t *testing.T) {
	st, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs := &countingReports{ReportStore: st}
	ctx := context.Background()
	var u uptimeCache
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	get := func(from, to, at time.Time) {
		t.Helper()
		if _, err := u.report(ctx, rs, from, to, at); err != nil {
			t.Fatal(err)
		}
	}
	get(nov, dec, now)
	get(nov, dec, now.Add(9*time.Minute)) // a past month: kept 10 minutes
	if n := rs.n.Load(); n != 1 {
		t.Fatalf("past month computed %d times", n)
	}
	get(nov, dec, now.Add(11*time.Minute))
	if n := rs.n.Load(); n != 2 {
		t.Fatalf("stale past month not recomputed: %d", n)
	}
	// The month still running: kept a minute.
	get(dec, dec.AddDate(0, 1, 0), now)
	get(dec, dec.AddDate(0, 1, 0), now.Add(30*time.Second))
	get(dec, dec.AddDate(0, 1, 0), now.Add(61*time.Second))
	if n := rs.n.Load(); n != 4 {
		t.Fatalf("current month computed %d times, want 2 (4 in all)", n)
	}
	// An exclusion changed: everything is computed again.
	u.forget()
	get(nov, dec, now.Add(11*time.Minute))
	if n := rs.n.Load(); n != 5 {
		t.Fatalf("after forget: %d", n)
	}
}
