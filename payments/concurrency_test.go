package payments

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestConcurrentSameIdempotencyKey(t *testing.T) {
	f := newFixture(t, Options{})
	const n = 64
	results := make([]*AuthResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = f.b.Authorize(t.Context(), AuthRequest{AccountID: "acct-1", AmountCents: 3000, IdempotencyKey: "tap"})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if !results[i].Approved || results[i].Hold.ID != results[0].Hold.ID {
			t.Fatalf("call %d = %+v, want hold %s", i, results[i], results[0].Hold.ID)
		}
	}
	hs, err := f.b.Holds(t.Context(), "acct-1", "")
	if err != nil || len(hs) != 1 {
		t.Fatalf("holds = %+v, %v; want exactly one", hs, err)
	}
}

func TestConcurrentMixedOperations(t *testing.T) {
	f := newFixture(t, Options{})
	const workers, each = 8, 24 // each even: as many releases as captures
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := t.Context()
			for i := range each {
				res, err := f.b.Authorize(ctx, AuthRequest{AccountID: "acct-1", AmountCents: 1000, IdempotencyKey: fmt.Sprintf("w%d-%d", w, i)})
				if err != nil || !res.Approved {
					t.Errorf("authorize: %+v, %v", res, err)
					return
				}
				if i%2 == 0 {
					_, err = f.b.Release(ctx, res.Hold.ID)
				} else {
					_, err = f.b.Capture(ctx, res.Hold.ID, 500)
				}
				if err != nil {
					t.Errorf("settle hold: %v", err)
				}
				if _, err := f.b.Holds(ctx, "acct-1", ""); err != nil {
					t.Error(err)
				}
				if _, err := f.b.Methods(ctx, "acct-1"); err != nil {
					t.Error(err)
				}
				if _, err := f.b.SyncAccount(ctx, "acct-1"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range each {
			restore, err := f.b.InjectFault("acct-1", FaultDuplicateHolds)
			if err != nil {
				t.Error(err)
				return
			}
			if err := restore(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	hs, _ := f.b.Holds(t.Context(), "acct-1", "")
	counts := map[HoldStatus]int{}
	for _, h := range hs {
		counts[h.Status]++
	}
	total := workers * each
	if counts[HoldReleased] != total/2 || counts[HoldCaptured] != total/2 || len(hs) != total {
		t.Errorf("holds by status = %v (of %d), want %d released and %d captured", counts, len(hs), total/2, total/2)
	}
}

// TestExpiryInBubble runs the processor on the real time.Now inside a
// synctest bubble, where time moves only when every goroutine waits.
func TestExpiryInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBuiltinWith(nil, Options{HoldTTL: 15 * time.Minute, SyncDelay: 5 * time.Minute, PayLinkTTL: 10 * time.Minute})
		if err := b.AddAccount("acct-1", CAD); err != nil {
			t.Fatal(err)
		}
		if _, err := b.AddAppMethod("acct-1", visa); err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if _, err := b.Authorize(ctx, AuthRequest{AccountID: "acct-1", AmountCents: 100}); err == nil {
			t.Fatal("authorized before the app card synced")
		}
		time.Sleep(5 * time.Minute)
		res, err := b.Authorize(ctx, AuthRequest{AccountID: "acct-1", AmountCents: 100})
		if err != nil || !res.Approved || res.Hold.Currency != CAD {
			t.Fatalf("after the sync delay = %+v, %v", res, err)
		}
		l, err := b.CreatePayLink(ctx, "acct-1", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		if _, err := b.MarkPayLinkPaid(ctx, l.ID); err == nil {
			t.Error("paid an expired pay link")
		}
		time.Sleep(5 * time.Minute)
		hs, err := b.Holds(ctx, "acct-1", HoldExpired)
		if err != nil || len(hs) != 1 || hs[0].ID != res.Hold.ID {
			t.Fatalf("expired holds = %+v, %v", hs, err)
		}
	})
}

func BenchmarkAuthorize(b *testing.B) {
	clk := newClock()
	p := NewBuiltin(clk.Now)
	if err := p.AddAccount("acct-1", USD); err != nil {
		b.Fatal(err)
	}
	if _, err := p.AddMethod("acct-1", visa); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	for b.Loop() {
		res, err := p.Authorize(ctx, AuthRequest{AccountID: "acct-1", AmountCents: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Release(ctx, res.Hold.ID); err != nil {
			b.Fatal(err)
		}
	}
}
