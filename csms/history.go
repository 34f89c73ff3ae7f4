package csms

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// historyQueue bounds the events waiting to be written. Past it, events are
// dropped and counted: the history is evidence for support, while what was
// acknowledged to a charger is written synchronously by the handlers.
const historyQueue = 65536

// historyBatch is the most events written in one store call (one
// transaction). SQLite has a single writer: a command's audit entries wait
// for the transaction in progress, so the history goes in transactions of
// a few milliseconds (one commit per 256 events) rather than one long one.
const historyBatch = 256

// historyWriter writes the frame history to the store in batches.
type historyWriter struct {
	store   chargedesk.EventStore
	log     *slog.Logger
	metrics *metrics
	ch      chan chargedesk.Event
}

func newHistoryWriter(store chargedesk.EventStore, log *slog.Logger, m *metrics) *historyWriter {
	return &historyWriter{store: store, log: log, metrics: m, ch: make(chan chargedesk.Event, historyQueue)}
}

func (h *historyWriter) add(ev chargedesk.Event) {
	select {
	case h.ch <- ev:
	default:
		h.metrics.historyDropped.Inc()
	}
}

// run writes batches every interval (or sooner when a batch fills) until ctx
// ends, then writes what is left.
func (h *historyWriter) run(ctx context.Context, interval time.Duration) {
	batch := make([]chargedesk.Event, 0, historyBatch)
	t := time.NewTicker(interval)
	defer t.Stop()
	flush := func(ctx context.Context) {
		if len(batch) == 0 {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := h.store.AppendEvents(wctx, batch); err != nil {
			h.log.Error("write frame history", "events", len(batch), "err", err)
			h.metrics.historyDropped.Add(float64(len(batch)))
		}
		cancel()
		batch = batch[:0]
	}
	for {
		select {
		case ev := <-h.ch:
			batch = append(batch, ev)
			if len(batch) == historyBatch {
				flush(context.WithoutCancel(ctx))
			}
		case <-t.C:
			flush(context.WithoutCancel(ctx))
		case <-ctx.Done():
			ctx := context.WithoutCancel(ctx)
			for {
				select {
				case ev := <-h.ch:
					batch = append(batch, ev)
					if len(batch) == historyBatch {
						flush(ctx)
					}
				default:
					flush(ctx)
					return
				}
			}
		}
	}
}

// record publishes an event on the bus and queues it for the history.
func (s *Server) record(ev chargedesk.Event) {
	if s.cfg.Bus != nil {
		if err := s.cfg.Bus.PublishEvent(ev); err != nil {
			s.log.Warn("publish event", "charger_id", ev.ChargerID, "err", err)
		}
	}
	s.history.add(ev)
}

func (s *Server) recordConnEvent(chargerID string, at time.Time, typ string, details map[string]any) {
	raw, _ := json.Marshal(details)
	s.record(chargedesk.Event{ChargerID: chargerID, At: at, Direction: chargedesk.DirIn, Type: typ, Payload: raw})
}

// touchBatch collects last-seen and heartbeat times between flushes.
type touchBatch struct {
	mu     sync.Mutex
	seenAt map[string]time.Time
	beats  map[string]time.Time
}

func newTouchBatch() *touchBatch {
	return &touchBatch{seenAt: make(map[string]time.Time), beats: make(map[string]time.Time)}
}

func (b *touchBatch) seen(id string, at time.Time) {
	b.mu.Lock()
	b.seenAt[id] = at
	b.mu.Unlock()
}

func (b *touchBatch) heartbeat(id string, at time.Time) {
	b.mu.Lock()
	b.beats[id] = at
	b.seenAt[id] = at
	b.mu.Unlock()
}

// take returns and resets what was collected.
func (b *touchBatch) take() (seen, beats map[string]time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen, beats = b.seenAt, b.beats
	b.seenAt, b.beats = make(map[string]time.Time, len(seen)), make(map[string]time.Time, len(beats))
	return seen, beats
}

// restore puts back what a failed flush took, keeping newer times.
func (b *touchBatch) restore(seen, beats map[string]time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, t := range seen {
		if cur, ok := b.seenAt[id]; !ok || t.After(cur) {
			b.seenAt[id] = t
		}
	}
	for id, t := range beats {
		if cur, ok := b.beats[id]; !ok || t.After(cur) {
			b.beats[id] = t
		}
	}
}
