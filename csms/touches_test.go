package csms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// touchStore records TouchChargers calls; the rest of the Store is absent.
type touchStore struct {
	chargedesk.Store
	calls     int
	seen, hbs map[string]time.Time
	fail      bool
}

func (s *touchStore) TouchChargers(_ context.Context, seen, hbs map[string]time.Time) error {
	s.calls++
	if len(seen) > touchBatchMax {
		return fmt.Errorf("%d chargers in one call", len(seen))
	}
	for id := range hbs {
		if _, ok := seen[id]; !ok {
			return fmt.Errorf("heartbeat of %s without its last-seen time", id)
		}
	}
	if s.fail {
		return errors.New("store down")
	}
	maps.Copy(s.seen, seen)
	maps.Copy(s.hbs, hbs)
	return nil
}

// TestFlushTouchesChunks: touches go to the store in transactions of at
// most touchBatchMax chargers, each heartbeat with its charger, all of
// them; a failed flush keeps them for the next.
func TestFlushTouchesChunks(t *testing.T) {
	st := &touchStore{seen: map[string]time.Time{}, hbs: map[string]time.Time{}}
	s := &Server{cfg: Config{Store: st}, log: slog.New(slog.DiscardHandler), touches: newTouchBatch()}
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	const n = 2*touchBatchMax + 17
	for i := range n {
		if i%3 == 0 {
			s.touches.heartbeat(fmt.Sprint("CP-", i), at)
		} else {
			s.touches.seen(fmt.Sprint("CP-", i), at)
		}
	}
	st.fail = true
	s.flushTouches(context.Background())
	if st.calls != 3 || len(st.seen) != 0 {
		t.Fatalf("failing store: %d calls, %d stored", st.calls, len(st.seen))
	}
	st.fail, st.calls = false, 0
	s.flushTouches(context.Background())
	if st.calls != 3 || len(st.seen) != n || len(st.hbs) != (n+2)/3 {
		t.Fatalf("%d calls stored %d seen and %d heartbeats, want 3 calls, %d and %d", st.calls, len(st.seen), len(st.hbs), n, (n+2)/3)
	}
	st.calls = 0
	s.flushTouches(context.Background())
	if st.calls != 0 {
		t.Errorf("%d calls with nothing to flush", st.calls)
	}
}
