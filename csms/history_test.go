package csms

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// eventSink is an EventStore that keeps what it is given.
type eventSink struct {
	mu      sync.Mutex
	events  []chargedesk.Event
	batches int
	largest int
}

func (s *eventSink) AppendEvents(_ context.Context, evs []chargedesk.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, evs...)
	s.batches++
	s.largest = max(s.largest, len(evs))
	return nil
}

func (s *eventSink) RecentEvents(context.Context, string, int) ([]chargedesk.Event, error) {
	return nil, nil
}

func (s *eventSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// TestHistoryWriter: every event added is written, each producer's in
// order, in store calls of at most historyBatch; a full batch is written
// without waiting for the ticker; what is left is written when the writer
// ends.
func TestHistoryWriter(t *testing.T) {
	sink := &eventSink{}
	h := newHistoryWriter(sink, slog.New(slog.DiscardHandler), newMetrics(nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.run(ctx, time.Hour) }()

	const producers, each = 4, 3 * historyBatch
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				h.add(chargedesk.Event{ChargerID: fmt.Sprint("CP-", p), MessageID: fmt.Sprint(i)})
			}
		})
	}
	wg.Wait()
	// Full batches went without the (hour-long) ticker.
	eventually(t, "full batches written", func() bool { return sink.count() >= producers*each-historyBatch })
	h.add(chargedesk.Event{ChargerID: "CP-last"})
	cancel()
	<-done
	if got, want := sink.count(), producers*each+1; got != want {
		t.Fatalf("%d events written, want %d", got, want)
	}
	if sink.largest > historyBatch {
		t.Errorf("a store call of %d events, more than %d", sink.largest, historyBatch)
	}
	next := map[string]int{}
	for _, ev := range sink.events {
		if ev.ChargerID == "CP-last" {
			continue
		}
		if want := fmt.Sprint(next[ev.ChargerID]); ev.MessageID != want {
			t.Fatalf("%s: event %s written where %s was due", ev.ChargerID, ev.MessageID, want)
		}
		next[ev.ChargerID]++
	}
}

// TestHistoryWriterBounded: past historyQueue events waiting, events are
// dropped and counted.
func TestHistoryWriterBounded(t *testing.T) {
	m := newMetrics(nil)
	h := newHistoryWriter(&eventSink{}, slog.New(slog.DiscardHandler), m)
	for range historyQueue + 10 {
		h.add(chargedesk.Event{ChargerID: "CP-1"})
	}
	if got := testutil.ToFloat64(m.historyDropped); got != 10 {
		t.Errorf("%v events dropped, want 10", got)
	}
}
