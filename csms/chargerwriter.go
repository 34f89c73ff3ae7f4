package csms

import (
	"context"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// chargerUpdater is the store method chargerWriter falls back on.
type chargerUpdater interface {
	UpdateCharger(ctx context.Context, id string, fn func(*chargedesk.Charger) error) (*chargedesk.Charger, error)
}

// bulkChargerUpdater is the bulk update a store may offer (sqlstore.Store
// does): the updates that succeed share one transaction and one commit;
// each failure is reported under its id; the second result is an error of
// the database that wrote nothing.
type bulkChargerUpdater interface {
	UpdateChargers(ctx context.Context, updates map[string]func(*chargedesk.Charger) error) (map[string]error, error)
}

// maxGroupCommit bounds the charger updates committed together.
const maxGroupCommit = 200

// groupCommitTimeout bounds one group's store call.
const groupCommitTimeout = 30 * time.Second

// chargerWriter group-commits charger updates (connected, booted,
// disconnected): each caller still waits for its own update to be
// committed, but the updates that arrive while a commit is under way are
// committed together by the next one. So under load one commit (one fsync)
// serves many connections, while a lone update goes at once, with no
// waiting window. A goroutine runs only while updates wait.
//
// A store without UpdateChargers gets one UpdateCharger per update, in the
// caller's goroutine.
type chargerWriter struct {
	store chargerUpdater
	bulk  bulkChargerUpdater

	mu      sync.Mutex
	queue   []*chargerUpdate
	running bool
}

type chargerUpdate struct {
	id   string
	fn   func(*chargedesk.Charger) error
	done chan error // buffered, 1
}

func newChargerWriter(store chargerUpdater) *chargerWriter {
	w := &chargerWriter{store: store}
	w.bulk, _ = store.(bulkChargerUpdater)
	return w
}

// update applies fn to the stored charger id and returns once it is
// committed (or failed), like the store's UpdateCharger. ctx bounds the
// update only when the store has no bulk update: a queued update is always
// waited for, so that its result is known.
func (w *chargerWriter) update(ctx context.Context, id string, fn func(*chargedesk.Charger) error) error {
	if w.bulk == nil {
		_, err := w.store.UpdateCharger(ctx, id, fn)
		return err
	}
	u := &chargerUpdate{id: id, fn: fn, done: make(chan error, 1)}
	w.mu.Lock()
	w.queue = append(w.queue, u)
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go w.run()
	}
	return <-u.done
}

// run commits groups until no update waits.
func (w *chargerWriter) run() {
	for {
		group := w.take()
		if group == nil {
			return
		}
		w.commit(group)
	}
}

// take removes the next group from the queue: up to maxGroupCommit updates
// of distinct chargers, oldest first. A second update of a charger already
// in the group waits for the next group, so one charger's updates are
// applied in the order they came. take returns nil, and marks the writer
// idle, when nothing waits.
func (w *chargerWriter) take() []*chargerUpdate {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		w.running = false
		w.queue = nil // let a burst's backing array go
		return nil
	}
	n := min(len(w.queue), maxGroupCommit)
	group := make([]*chargerUpdate, 0, n)
	var ids map[string]bool
	rest := w.queue[:0]
	for i, u := range w.queue {
		if len(group) == maxGroupCommit {
			rest = append(rest, w.queue[i:]...)
			break
		}
		if len(group) > 0 && ids == nil {
			ids = map[string]bool{group[0].id: true}
		}
		if ids[u.id] {
			rest = append(rest, u)
			continue
		}
		group = append(group, u)
		if ids != nil {
			ids[u.id] = true
		}
	}
	clear(w.queue[len(rest):])
	w.queue = rest
	return group
}

// commit writes one group and wakes each waiter with its own result.
func (w *chargerWriter) commit(group []*chargerUpdate) {
	updates := make(map[string]func(*chargedesk.Charger) error, len(group))
	for _, u := range group {
		updates[u.id] = u.fn
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupCommitTimeout)
	failed, err := w.bulk.UpdateChargers(ctx, updates)
	cancel()
	for _, u := range group {
		if err != nil {
			u.done <- err
		} else {
			u.done <- failed[u.id]
		}
	}
}
