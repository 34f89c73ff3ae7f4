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

// runUpdateChargers checks UpdateChargers: the updates that succeed are
// written together, each failure is reported under its id and writes
// nothing.
func runUpdateChargers(t *testing.T, fresh func(t *testing.T, opts ...Option) *Store) {
	ctx := context.Background()
	errOwn := errors.New("fn refused")
	tests := []struct {
		name string
		ids  []string // updated, each setting Description to "new-<id>"
		// fail maps ids to how their fn misbehaves
		fail       map[string]string
		wantFailed map[string]string // id -> domain code, or "own" for errOwn
	}{
		{name: "all written", ids: []string{"CP-1", "CP-2", "CP-3"}},
		{name: "one", ids: []string{"CP-2"}},
		{
			name: "unknown charger fails alone", ids: []string{"CP-1", "CP-9", "CP-3"},
			wantFailed: map[string]string{"CP-9": chargedesk.ENOTFOUND},
		},
		{
			name: "fn and check errors fail alone", ids: []string{"CP-1", "CP-2", "CP-3"},
			fail:       map[string]string{"CP-1": "own", "CP-3": "id"},
			wantFailed: map[string]string{"CP-1": "own", "CP-3": chargedesk.EINVALID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fresh(t)
			register(t, s, "CP-1", "CP-2", "CP-3")
			must(t, s.PutConnector(ctx, chargedesk.Connector{ChargerID: "CP-2", ID: 1, Status: chargedesk.StatusAvailable}))
			updates := map[string]func(*chargedesk.Charger) error{}
			for _, id := range tt.ids {
				mode := tt.fail[id]
				updates[id] = func(c *chargedesk.Charger) error {
					if c.ID != id {
						t.Errorf("fn of %s sees charger %s", id, c.ID)
					}
					if id == "CP-2" && len(c.Connectors) != 1 {
						t.Errorf("fn of CP-2 sees %d connectors, want 1", len(c.Connectors))
					}
					c.Description = "new-" + id
					c.Connected, c.Node, c.ConnectedAt = true, "node-b", base
					switch mode {
					case "own":
						return errOwn
					case "id":
						c.ID = "CP-X"
					}
					return nil
				}
			}
			failed, err := s.UpdateChargers(ctx, updates)
			must(t, err)
			if len(failed) != len(tt.wantFailed) {
				t.Errorf("failed = %v, want %v", failed, tt.wantFailed)
			}
			for id, code := range tt.wantFailed {
				got := failed[id]
				if code == "own" {
					if !errors.Is(got, errOwn) {
						t.Errorf("%s failed with %v, want the fn's own error", id, got)
					}
					continue
				}
				wantCode(t, got, code)
			}
			for _, id := range []string{"CP-1", "CP-2", "CP-3"} {
				c, err := s.Charger(ctx, id)
				must(t, err)
				_, updated := updates[id]
				written := updated && tt.wantFailed[id] == ""
				if got := c.Description == "new-"+id; got != written {
					t.Errorf("%s written = %v, want %v (stored %+v)", id, got, written, c)
				}
				if written && (!c.Connected || c.Node != "node-b" || !c.ConnectedAt.Equal(micro(base))) {
					t.Errorf("%s stored %+v, want connected to node-b at %v", id, c, micro(base))
				}
			}
		})
	}

	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		failed, err := fresh(t).UpdateChargers(ctx, nil)
		if failed != nil || err != nil {
			t.Errorf("UpdateChargers(nil) = %v, %v", failed, err)
		}
	})

	t.Run("concurrent batches", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		ids := make([]string, 20)
		for i := range ids {
			ids[i] = fmt.Sprintf("CP-%02d", i)
		}
		register(t, s, ids...)
		// Overlapping batches, each bumping a counter kept in the serial
		// number: none may lose another's increment.
		const batches = 8
		var wg sync.WaitGroup
		for b := range batches {
			wg.Go(func() {
				updates := map[string]func(*chargedesk.Charger) error{}
				for i, id := range ids {
					if (i+b)%2 == 0 {
						updates[id] = func(c *chargedesk.Charger) error {
							c.SerialNumber += "x"
							return nil
						}
					}
				}
				failed, err := s.UpdateChargers(ctx, updates)
				if err != nil || failed != nil {
					t.Errorf("batch %d: %v, %v", b, failed, err)
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			c, err := s.Charger(ctx, id)
			must(t, err)
			if len(c.SerialNumber) != batches/2 {
				t.Errorf("%s has %d increments, want %d", id, len(c.SerialNumber), batches/2)
			}
		}
	})
}

func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, sqliteBackend.newDSN(t))
	register(t, s, "CP-1")
	update := func(desc string) {
		t.Helper()
		_, err := s.UpdateCharger(ctx, "CP-1", func(c *chargedesk.Charger) error { c.Description = desc; return nil })
		must(t, err)
	}
	cached := func(c *stmtCache) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.stmts)
	}

	t.Run("writes prepared after first use", func(t *testing.T) {
		update("one")
		n := cached(s.wc)
		if n == 0 {
			t.Fatal("no statement cached after an update")
		}
		update("two")
		if got := cached(s.wc); got != n {
			t.Errorf("cached statements %d -> %d on a repeated update", n, got)
		}
	})
	t.Run("reads prepared", func(t *testing.T) {
		c, err := s.Charger(ctx, "CP-1")
		must(t, err)
		if c.Description != "two" {
			t.Errorf("description %q, want two", c.Description)
		}
		if cached(s.rc) == 0 {
			t.Error("no read statement cached")
		}
	})
	t.Run("survives a schema change", func(t *testing.T) {
		must(t, execAll(ctx, s, `CREATE INDEX chargers_test_desc ON chargers (description)`))
		update("three")
		c, err := s.Charger(ctx, "CP-1")
		must(t, err)
		if c.Description != "three" {
			t.Errorf("description %q, want three", c.Description)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		for i := range maxCachedStmts + 10 {
			var n int
			must(t, s.read.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n))
			if n != i {
				t.Fatalf("SELECT %d gave %d", i, n)
			}
		}
		if got := cached(s.rc); got > maxCachedStmts {
			t.Errorf("%d statements cached, bound %d", got, maxCachedStmts)
		}
	})
	t.Run("closed with the store", func(t *testing.T) {
		s2 := openStore(t, sqliteBackend.newDSN(t))
		register(t, s2, "CP-1")
		_, err := s2.Charger(ctx, "CP-1")
		must(t, err)
		must(t, s2.wc.close())
		must(t, s2.rc.close())
		if cached(s2.wc)+cached(s2.rc) != 0 {
			t.Error("statements left after close")
		}
		// A closed cache runs queries unprepared.
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := s2.Charger(ctx, "CP-1"); err != nil {
			t.Errorf("read after the cache closed: %v", err)
		}
	})
}

func BenchmarkUpdateChargers(b *testing.B) {
	for _, n := range []int{1, 50, 200} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			benchBackends(b, func(b *testing.B, s *Store) {
				ctx := context.Background()
				ids := make([]string, n)
				for i := range ids {
					ids[i] = fmt.Sprintf("CP-%04d", i)
				}
				register(b, s, ids...)
				for b.Loop() {
					updates := make(map[string]func(*chargedesk.Charger) error, n)
					for _, id := range ids {
						updates[id] = func(c *chargedesk.Charger) error { c.Connected = !c.Connected; return nil }
					}
					if failed, err := s.UpdateChargers(ctx, updates); err != nil || failed != nil {
						b.Fatal(failed, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/charger")
			})
		})
	}
}
