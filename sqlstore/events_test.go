package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// TestEventTrimDeferred: a charger's history is trimmed every trimEvery of
// its events, not at every append; in between the store holds a few more
// than MaxRecentEvents, and RecentEvents still shows only the newest
// MaxRecentEvents, in order, whatever the batch sizes.
func TestEventTrimDeferred(t *testing.T) {
	s := openStore(t, sqliteBackend.newDSN(t))
	ctx := context.Background()
	rows := func(id string) int {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE charger_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	total := 0
	sizes := []int{1, 3, 7, 60, 1, 1, 255, 256, 257, 2, 1}
	for round := 0; total < 3*chargedesk.MaxRecentEvents; round++ {
		n := sizes[round%len(sizes)]
		batch := make([]chargedesk.Event, n)
		for i := range batch {
			batch[i] = chargedesk.Event{ChargerID: "CP-1", At: base.Add(time.Duration(total) * time.Millisecond), Type: "CALL", MessageID: strconv.Itoa(total)}
			total++
		}
		if err := s.AppendEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(batch); i++ {
			if batch[i].Seq <= batch[i-1].Seq {
				t.Fatalf("seqs out of order in a batch of %d: %d then %d", n, batch[i-1].Seq, batch[i].Seq)
			}
		}
		if got, most := rows("CP-1"), chargedesk.MaxRecentEvents+trimEvery; got > most && total > most {
			// A batch of more than trimEvery is trimmed in its own transaction.
			t.Fatalf("after %d events the store holds %d, want at most %d", total, got, most)
		}
		got, err := s.RecentEvents(ctx, "CP-1", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(total, chargedesk.MaxRecentEvents); len(got) != want {
			t.Fatalf("after %d events RecentEvents returns %d, want %d", total, len(got), want)
		}
		for i, ev := range got {
			if want := strconv.Itoa(total - 1 - i); ev.MessageID != want {
				t.Fatalf("after %d events, event %d is %s, want %s", total, i, ev.MessageID, want)
			}
		}
	}
	if got := rows("CP-1"); got < chargedesk.MaxRecentEvents {
		t.Fatalf("store holds %d events, fewer than kept", got)
	}
}

// TestTrimCountsBounded: past maxTrimPending chargers counted, a new
// charger is trimmed at once instead of being counted.
func TestTrimCountsBounded(t *testing.T) {
	var tc trimCounts
	full := make(map[string]int, maxTrimPending)
	for i := range maxTrimPending {
		full[fmt.Sprint("CP-", i)] = 1
	}
	tc.done(full, nil)
	if due := tc.due(map[string]int{"CP-0": 1}); len(due) != 0 {
		t.Errorf("a counted charger below trimEvery is due: %v", due)
	}
	if due := tc.due(map[string]int{"CP-new": 1}); len(due) != 1 {
		t.Errorf("a new charger past the bound is not due: %v", due)
	}
	tc.done(map[string]int{"CP-new": 1}, nil)
	if len(tc.n) != maxTrimPending {
		t.Errorf("counted %d chargers, want the bound %d", len(tc.n), maxTrimPending)
	}
	if due := tc.due(map[string]int{"CP-0": trimEvery - 1}); len(due) != 1 {
		t.Errorf("a charger reaching trimEvery is not due: %v", due)
	}
}
