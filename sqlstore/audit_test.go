package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// holdWriter takes the SQLite writer's only connection until release is
// called, so that appends queue behind it and go as one group.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	conn, err := s.w.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return func() { conn.Close() }
}

// queued returns how many appends wait for the next group.
func queued(s *Store) int {
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	return len(s.audit.queue)
}

func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); queued(s) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", queued(s), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitTaken waits until the writer has taken every queued append (and
// waits for the database).
func waitTaken(t *testing.T, s *Store) {
	t.Helper()
	taken := func() bool {
		s.audit.mu.Lock()
		defer s.audit.mu.Unlock()
		return s.audit.running && len(s.audit.queue) == 0
	}
	for deadline := time.Now().Add(10 * time.Second); !taken(); {
		if time.Now().After(deadline) {
			t.Fatal("the first append was not taken")
		}
		time.Sleep(time.Millisecond)
	}
}

func auditEntry(actor string) *chargedesk.AuditEntry {
	return &chargedesk.AuditEntry{Actor: actor, CommandID: "c-" + actor, Kind: "Reset", ChargerID: "CP-1", Stage: chargedesk.AuditDecision}
}

// TestAuditGroupCommit: appends made at once are committed together, each
// caller gets back its own entry as stored, and the chain verifies.
func TestAuditGroupCommit(t *testing.T) {
	s := openStore(t, sqliteBackend.newDSN(t))
	ctx := context.Background()
	release := holdWriter(t, s)
	const n = 150 // more than one group
	entries := make([]*chargedesk.AuditEntry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		entries[i] = auditEntry(fmt.Sprint("w", i))
		wg.Go(func() { errs[i] = s.AppendAudit(ctx, entries[i]) })
		if i == 0 {
			waitTaken(t, s) // taken alone, it waits for the writer
		}
	}
	waitQueued(t, s, n-1)
	release()
	wg.Wait()
	stored, err := s.AuditEntries(ctx, chargedesk.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != n {
		t.Fatalf("%d entries stored, want %d", len(stored), n)
	}
	for i, e := range entries {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		got := stored[e.Seq-1]
		if got.Actor != e.Actor || got.Hash != e.Hash || got.PrevHash != e.PrevHash || !got.At.Equal(e.At) {
			t.Errorf("append %d returned seq %d hash %s, stored %+v", i, e.Seq, e.Hash, got)
		}
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAuditGroupRefusedEntry: an entry the database refuses fails alone;
// the others of its group are stored, chained without it.
func TestAuditGroupRefusedEntry(t *testing.T) {
	s := openStore(t, sqliteBackend.newDSN(t))
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, `CREATE TRIGGER test_refuse BEFORE INSERT ON audit WHEN NEW.actor = 'bad'
		BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	actors := []string{"first", "a", "bad", "b", "c"}
	errs := make(map[string]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, actor := range actors {
		wg.Go(func() {
			err := s.AppendAudit(ctx, auditEntry(actor))
			mu.Lock()
			errs[actor] = err
			mu.Unlock()
		})
		if i == 0 {
			waitTaken(t, s)
		} else {
			waitQueued(t, s, i) // in this order, behind the first
		}
	}
	release()
	wg.Wait()
	for _, actor := range actors {
		if err := errs[actor]; (err != nil) != (actor == "bad") {
			t.Errorf("append %s: %v", actor, err)
		}
	}
	stored, err := s.AuditEntries(ctx, chargedesk.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range stored {
		got = append(got, e.Actor)
	}
	if fmt.Sprint(got) != "[first a b c]" {
		t.Errorf("stored %v, want [first a b c]", got)
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAuditQueuedCallerGone: an append whose context ends while it waits
// for its group is not written and returns the context's error.
func TestAuditQueuedCallerGone(t *testing.T) {
	s := openStore(t, sqliteBackend.newDSN(t))
	ctx := context.Background()
	release := holdWriter(t, s)
	first := make(chan error, 1)
	go func() { first <- s.AppendAudit(ctx, auditEntry("first")) }()
	waitTaken(t, s)
	gone, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() { second <- s.AppendAudit(gone, auditEntry("gone")) }()
	waitQueued(t, s, 1)
	cancel()
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("append of a caller gone: %v, want context.Canceled", err)
	}
	stored, err := s.AuditEntries(ctx, chargedesk.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].Actor != "first" {
		t.Fatalf("stored %d entries, want only the first", len(stored))
	}
}
