package console

import (
	"context"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// How long a computed uptime report is shown again before it is computed
// anew: a month still running changes with every status, a past month
// only with its exclusions (which clear the cache on this node; another
// node's change shows once the entry is that old).
const (
	uptimeFreshCurrent = time.Minute
	uptimeFreshPast    = 10 * time.Minute
	uptimeCacheMonths  = 24
)

// uptimeCache keeps recent months' uptime reports: computing one reads a
// month of port history (about half a second at 10,000 chargers), and the
// report page, its CSV and a reload ask for the same month. One
// computation per month at a time; others wait for it.
type uptimeCache struct {
	mu      sync.Mutex
	entries map[int64]*uptimeEntry
}

type uptimeEntry struct {
	mu     sync.Mutex // held while computing
	report *chargedesk.UptimeReport
	at     time.Time
}

// report returns the uptime of [from, to), computed now or at most its
// freshness ago.
func (u *uptimeCache) report(ctx context.Context, rs chargedesk.ReportStore, from, to, now time.Time) (*chargedesk.UptimeReport, error) {
	u.mu.Lock()
	if u.entries == nil {
		u.entries = map[int64]*uptimeEntry{}
	}
	e := u.entries[from.Unix()]
	if e == nil {
		if len(u.entries) >= uptimeCacheMonths {
			u.entries = map[int64]*uptimeEntry{}
		}
		e = &uptimeEntry{}
		u.entries[from.Unix()] = e
	}
	u.mu.Unlock()

	fresh := uptimeFreshPast
	if now.Before(to) {
		fresh = uptimeFreshCurrent
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.report != nil && now.Sub(e.at) < fresh && !now.Before(e.at) {
		return e.report, nil
	}
	r, err := chargedesk.ComputeUptime(ctx, rs, from, to)
	if err != nil {
		return nil, err
	}
	e.report, e.at = r, now
	return r, nil
}

// forget drops every cached report (an exclusion changed).
func (u *uptimeCache) forget() {
	u.mu.Lock()
	u.entries = nil
	u.mu.Unlock()
}
