package payments

import (
	"slices"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// authReq is an authorization on acct-1's default card.
func authReq(key string) AuthRequest {
	return AuthRequest{AccountID: "acct-1", AmountCents: 3000, IdempotencyKey: key}
}

func TestInjectFaultErrors(t *testing.T) {
	tests := []struct {
		name    string
		account string
		fault   string
		opts    FaultOptions
		noCard  bool
		want    string
	}{
		{"unknown fault", "acct-1", "card_stolen", FaultOptions{}, false, chargedesk.EINVALID},
		{"charger fault", "acct-1", "stale_transaction", FaultOptions{}, false, chargedesk.EINVALID},
		{"empty fault", "acct-1", "", FaultOptions{}, false, chargedesk.EINVALID},
		{"unknown account", "nope", FaultCardExpired, FaultOptions{}, false, chargedesk.ENOTFOUND},
		{"soft decline code", "acct-1", FaultHardDecline, FaultOptions{DeclineCode: DeclineProcessingError}, false, chargedesk.EINVALID},
		{"bad app card", "acct-1", FaultAppSyncDelay, FaultOptions{AppCard: Card{Brand: "Visa", Last4: "12"}}, false, chargedesk.EINVALID},
		{"card_expired without a card", "bare", FaultCardExpired, FaultOptions{}, true, chargedesk.ECONFLICT},
		{"duplicate_holds without a card", "bare", FaultDuplicateHolds, FaultOptions{}, true, chargedesk.ECONFLICT},
		{"hard_decline without a card", "bare", FaultHardDecline, FaultOptions{}, true, chargedesk.ECONFLICT},
		{"transient_decline without a card", "bare", FaultTransientDecline, FaultOptions{}, true, ""},
		{"app_sync_delay without a card", "bare", FaultAppSyncDelay, FaultOptions{}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			if tt.noCard {
				if err := f.b.AddAccount("bare", CAD); err != nil {
					t.Fatal(err)
				}
			}
			restore, err := f.b.InjectFaultWith(tt.account, tt.fault, tt.opts)
			wantCode(t, err, tt.want)
			if (restore == nil) != (err != nil) {
				t.Errorf("restore nil = %v with err %v", restore == nil, err)
			}
		})
	}
	t.Run("Faults lists every name", func(t *testing.T) {
		want := []string{"card_expired", "transient_decline", "app_sync_delay", "duplicate_holds", "hard_decline"}
		if got := Faults(); !slices.Equal(got, want) {
			t.Errorf("Faults() = %v, want %v", got, want)
		}
	})
}

func TestFaultCardExpired(t *testing.T) {
	inject := func(t *testing.T) (*fixture, func() error) {
		f := newFixture(t, Options{})
		restore, err := f.b.InjectFault("acct-1", FaultCardExpired)
		if err != nil {
			t.Fatal(err)
		}
		return f, restore
	}
	t.Run("declines expired_card and names the card", func(t *testing.T) {
		f, _ := inject(t)
		res := mustAuthorize(t, f.b, authReq(""))
		if declineCode(res) != DeclineExpiredCard || res.Decline.Transient || res.Last4 != "4242" {
			t.Fatalf("result = %+v, want hard expired_card on 4242", res)
		}
		ms, _ := f.b.Methods(t.Context(), "acct-1")
		if !ms[0].Expired(f.clk.Now()) || ms[0].ExpMonth != 2 || ms[0].ExpYear != 2026 {
			t.Errorf("card = %+v, want expiry 2/2026 (last month)", ms[0])
		}
		last, _ := f.b.LastAuthorization(t.Context(), "acct-1")
		if last.Decline == nil || last.Decline.Code != DeclineExpiredCard || last.Last4 != "4242" {
			t.Errorf("LastAuthorization = %+v", last)
		}
	})
	t.Run("retry does not fix it", func(t *testing.T) {
		f, _ := inject(t)
		for i := range 3 {
			if res := mustAuthorize(t, f.b, authReq("")); res.Approved {
				t.Fatalf("retry %d approved an expired card", i)
			}
		}
	})
	t.Run("sync with nothing new does not fix it", func(t *testing.T) {
		f, _ := inject(t)
		if synced, err := f.b.SyncAccount(t.Context(), "acct-1"); err != nil || len(synced) != 0 {
			t.Fatalf("SyncAccount = %v, %v", synced, err)
		}
		if res := mustAuthorize(t, f.b, authReq("")); res.Approved {
			t.Fatal("approved after an empty sync")
		}
	})
	t.Run("new card in the app plus sync fixes it", func(t *testing.T) {
		f, _ := inject(t)
		if _, err := f.b.AddAppMethod("acct-1", Card{Brand: "Visa", Last4: "1881", ExpMonth: 3, ExpYear: 2030}); err != nil {
			t.Fatal(err)
		}
		if res := mustAuthorize(t, f.b, authReq("")); res.Approved {
			t.Fatal("approved before the new card was synced")
		}
		if _, err := f.b.SyncAccount(t.Context(), "acct-1"); err != nil {
			t.Fatal(err)
		}
		if res := mustAuthorize(t, f.b, authReq("")); !res.Approved || res.Last4 != "1881" {
			t.Fatalf("after update = %+v, want approved on 1881", res)
		}
	})
	t.Run("a paid pay link is the other way", func(t *testing.T) {
		f, _ := inject(t)
		l, err := f.b.CreatePayLink(t.Context(), "acct-1", 3000, "")
		if err != nil {
			t.Fatal(err)
		}
		if l, err = f.b.MarkPayLinkPaid(t.Context(), l.ID); err != nil || !l.Paid {
			t.Fatalf("MarkPayLinkPaid = %+v, %v", l, err)
		}
	})
	t.Run("restore brings the expiry back", func(t *testing.T) {
		f, restore := inject(t)
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		if err := restore(); err != nil {
			t.Fatalf("second restore: %v", err)
		}
		if res := mustAuthorize(t, f.b, authReq("")); !res.Approved {
			t.Fatalf("after restore = %+v", res)
		}
	})
}

func TestFaultTransientDecline(t *testing.T) {
	inject := func(t *testing.T) (*fixture, func() error) {
		f := newFixture(t, Options{})
		restore, err := f.b.InjectFault("acct-1", FaultTransientDecline)
		if err != nil {
			t.Fatal(err)
		}
		return f, restore
	}
	t.Run("one transient processing_error, then a retry with a new key approves", func(t *testing.T) {
		f, _ := inject(t)
		res := mustAuthorize(t, f.b, authReq("try-1"))
		if declineCode(res) != DeclineProcessingError || !res.Decline.Transient {
			t.Fatalf("first = %+v, want transient processing_error", res)
		}
		last, _ := f.b.LastAuthorization(t.Context(), "acct-1")
		if last.Decline == nil || !last.Decline.Transient {
			t.Errorf("LastAuthorization = %+v, want the transient decline", last)
		}
		if res := mustAuthorize(t, f.b, authReq("try-2")); !res.Approved {
			t.Fatalf("retry = %+v, want approved", res)
		}
		if res := mustAuthorize(t, f.b, authReq("try-3")); !res.Approved {
			t.Fatalf("later = %+v, want approvals to resume", res)
		}
	})
	t.Run("repeating the same key replays the decline", func(t *testing.T) {
		f, _ := inject(t)
		mustAuthorize(t, f.b, authReq("try-1"))
		if res := mustAuthorize(t, f.b, authReq("try-1")); declineCode(res) != DeclineProcessingError {
			t.Fatalf("same key = %+v, want the replayed decline", res)
		}
		if hs, _ := f.b.Holds(t.Context(), "acct-1", ""); len(hs) != 0 {
			t.Errorf("holds = %+v, want none", hs)
		}
	})
	t.Run("errors before the network do not consume it", func(t *testing.T) {
		f, _ := inject(t)
		if _, err := f.b.Authorize(t.Context(), AuthRequest{AccountID: "acct-1", MethodID: "pm_404", AmountCents: 100}); err == nil {
			t.Fatal("unknown method accepted")
		}
		if res := mustAuthorize(t, f.b, authReq("")); declineCode(res) != DeclineProcessingError {
			t.Fatalf("first network attempt = %+v, want the transient decline", res)
		}
	})
	t.Run("restore before use clears it", func(t *testing.T) {
		f, restore := inject(t)
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		if res := mustAuthorize(t, f.b, authReq("")); !res.Approved {
			t.Fatalf("after restore = %+v", res)
		}
	})
}

func TestFaultAppSyncDelay(t *testing.T) {
	inject := func(t *testing.T, opts Options) (*fixture, func() error) {
		f := newFixture(t, opts)
		restore, err := f.b.InjectFault("acct-1", FaultAppSyncDelay)
		if err != nil {
			t.Fatal(err)
		}
		return f, restore
	}
	t.Run("the new card exists only in the app", func(t *testing.T) {
		f, _ := inject(t, Options{})
		ms, _ := f.b.Methods(t.Context(), "acct-1")
		if len(ms) != 1 || ms[0].Synced || ms[0].Default || ms[0].Brand != "Visa" || ms[0].Last4 != "5353" || ms[0].Expired(f.clk.Now()) {
			t.Fatalf("methods = %+v, want one unsynced valid Visa 5353", ms)
		}
		_, err := f.b.Authorize(t.Context(), authReq(""))
		wantCode(t, err, chargedesk.ECONFLICT)
		_, err = f.b.Authorize(t.Context(), AuthRequest{AccountID: "acct-1", MethodID: ms[0].ID, AmountCents: 100})
		wantCode(t, err, chargedesk.ECONFLICT)
	})
	t.Run("retrying and waiting do not fix it", func(t *testing.T) {
		f, _ := inject(t, Options{SyncDelay: time.Minute})
		f.clk.Advance(24 * time.Hour)
		_, err := f.b.Authorize(t.Context(), authReq(""))
		wantCode(t, err, chargedesk.ECONFLICT)
	})
	t.Run("sync then retry fixes it", func(t *testing.T) {
		f, _ := inject(t, Options{})
		synced, err := f.b.SyncAccount(t.Context(), "acct-1")
		if err != nil || len(synced) != 1 || !synced[0].Default {
			t.Fatalf("SyncAccount = %+v, %v", synced, err)
		}
		if res := mustAuthorize(t, f.b, authReq("")); !res.Approved || res.Last4 != "5353" {
			t.Fatalf("after sync = %+v, want approved on 5353", res)
		}
	})
	t.Run("chosen app card", func(t *testing.T) {
		f := newFixture(t, Options{})
		card := Card{Brand: "Mastercard", Last4: "0004", ExpMonth: 9, ExpYear: 2032}
		if _, err := f.b.InjectFaultWith("acct-1", FaultAppSyncDelay, FaultOptions{AppCard: card}); err != nil {
			t.Fatal(err)
		}
		ms, _ := f.b.Methods(t.Context(), "acct-1")
		if len(ms) != 1 || ms[0].Last4 != "0004" || ms[0].Brand != "Mastercard" {
			t.Fatalf("methods = %+v", ms)
		}
	})
	t.Run("restore puts the old card back", func(t *testing.T) {
		f, restore := inject(t, Options{})
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		ms, _ := f.b.Methods(t.Context(), "acct-1")
		if len(ms) != 1 || ms[0].ID != f.card.ID || !ms[0].Default {
			t.Fatalf("methods after restore = %+v", ms)
		}
		if res := mustAuthorize(t, f.b, authReq("")); !res.Approved || res.MethodID != f.card.ID {
			t.Fatalf("after restore = %+v", res)
		}
	})
}

func TestFaultDuplicateHolds(t *testing.T) {
	inject := func(t *testing.T, opts FaultOptions) (*fixture, func() error) {
		f := newFixture(t, Options{})
		restore, err := f.b.InjectFaultWith("acct-1", FaultDuplicateHolds, opts)
		if err != nil {
			t.Fatal(err)
		}
		return f, restore
	}
	t.Run("three session-less holds and one live session's", func(t *testing.T) {
		f, _ := inject(t, FaultOptions{SessionRef: "CHG-7/1234"})
		hs, err := f.b.Holds(t.Context(), "acct-1", HoldPending)
		if err != nil || len(hs) != 4 {
			t.Fatalf("pending holds = %+v, %v; want 4", hs, err)
		}
		if hs[0].SessionRef != "CHG-7/1234" {
			t.Errorf("oldest hold = %+v, want the live session's", hs[0])
		}
		safe := HoldsWithoutSession(hs)
		if len(safe) != 3 {
			t.Fatalf("HoldsWithoutSession = %+v, want 3", safe)
		}
		for _, h := range safe {
			if h.MethodID != f.card.ID || h.AmountCents != DuplicateHoldCents || h.SessionRef != "" {
				t.Errorf("duplicate hold = %+v", h)
			}
		}
	})
	t.Run("default live session reference", func(t *testing.T) {
		f, _ := inject(t, FaultOptions{})
		hs, _ := f.b.Holds(t.Context(), "acct-1", HoldPending)
		if len(hs) != 4 || hs[0].SessionRef != "live-session/acct-1" {
			t.Fatalf("holds = %+v", hs)
		}
	})
	t.Run("without a live session", func(t *testing.T) {
		f, _ := inject(t, FaultOptions{NoLiveSession: true})
		hs, _ := f.b.Holds(t.Context(), "acct-1", HoldPending)
		if len(hs) != 3 || len(HoldsWithoutSession(hs)) != 3 {
			t.Fatalf("holds = %+v, want 3 without session", hs)
		}
	})
	t.Run("releasing the safe holds fixes it and keeps the live one", func(t *testing.T) {
		f, _ := inject(t, FaultOptions{SessionRef: "CHG-7/1234"})
		hs, _ := f.b.Holds(t.Context(), "acct-1", HoldPending)
		for _, h := range HoldsWithoutSession(hs) {
			if _, err := f.b.Release(t.Context(), h.ID); err != nil {
				t.Fatal(err)
			}
		}
		left, _ := f.b.Holds(t.Context(), "acct-1", HoldPending)
		if len(left) != 1 || left[0].SessionRef != "CHG-7/1234" {
			t.Fatalf("pending after release = %+v, want only the live session's", left)
		}
		if rel, _ := f.b.Holds(t.Context(), "acct-1", HoldReleased); len(rel) != 3 {
			t.Errorf("released = %d, want 3", len(rel))
		}
		if len(HoldsWithoutSession(left)) != 0 {
			t.Error("nothing safe should be left to release")
		}
	})
	t.Run("the processor does not stop a wrong release", func(t *testing.T) {
		f, _ := inject(t, FaultOptions{SessionRef: "CHG-7/1234"})
		hs, _ := f.b.Holds(t.Context(), "acct-1", HoldPending)
		if h, err := f.b.Release(t.Context(), hs[0].ID); err != nil || h.Status != HoldReleased {
			t.Fatalf("release of the live hold = %+v, %v; the processor allows it, the policy must not", h, err)
		}
	})
	t.Run("another authorization adds a hold and fixes nothing", func(t *testing.T) {
		f, _ := inject(t, FaultOptions{})
		if res := mustAuthorize(t, f.b, authReq("")); !res.Approved {
			t.Fatalf("authorization = %+v", res)
		}
		hs, _ := f.b.Holds(t.Context(), "acct-1", HoldPending)
		if len(HoldsWithoutSession(hs)) != 4 {
			t.Fatalf("session-less holds = %d, want 4", len(HoldsWithoutSession(hs)))
		}
	})
	t.Run("the holds lapse by themselves after the hold TTL", func(t *testing.T) {
		f, _ := inject(t, FaultOptions{})
		f.clk.Advance(DefaultHoldTTL)
		if hs, _ := f.b.Holds(t.Context(), "acct-1", HoldPending); len(hs) != 0 {
			t.Fatalf("pending after the TTL = %+v", hs)
		}
	})
	t.Run("restore removes the injected holds", func(t *testing.T) {
		f, restore := inject(t, FaultOptions{})
		if err := restore(); err != nil {
			t.Fatal(err)
		}
		if hs, _ := f.b.Holds(t.Context(), "acct-1", ""); len(hs) != 0 {
			t.Fatalf("holds after restore = %+v", hs)
		}
		_, err := f.b.LastAuthorization(t.Context(), "acct-1")
		wantCode(t, err, chargedesk.ENOTFOUND)
	})
}

func TestFaultHardDecline(t *testing.T) {
	codes := []string{"", DeclineInsufficientFunds, DeclineDoNotHonor, DeclineStolenCard, DeclineCardDeclined}
	for _, code := range codes {
		t.Run(cmpName(code, "default"), func(t *testing.T) {
			f := newFixture(t, Options{})
			restore, err := f.b.InjectFaultWith("acct-1", FaultHardDecline, FaultOptions{DeclineCode: code})
			if err != nil {
				t.Fatal(err)
			}
			want := cmpName(code, DeclineInsufficientFunds)
			for i := range 5 {
				res := mustAuthorize(t, f.b, authReq(""))
				if declineCode(res) != want || res.Decline.Transient {
					t.Fatalf("attempt %d = %+v, want hard %s", i, res, want)
				}
				f.clk.Advance(time.Hour)
			}
			if _, err := f.b.SyncAccount(t.Context(), "acct-1"); err != nil {
				t.Fatal(err)
			}
			if res := mustAuthorize(t, f.b, authReq("")); res.Approved {
				t.Fatal("a sync fixed a hard decline")
			}
			if hs, _ := f.b.Holds(t.Context(), "acct-1", ""); len(hs) != 0 {
				t.Errorf("declines left holds %+v", hs)
			}
			other, err := f.b.AddMethod("acct-1", Card{Brand: "Mastercard", Last4: "4444", ExpMonth: 5, ExpYear: 2030})
			if err != nil {
				t.Fatal(err)
			}
			res := mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", MethodID: other.ID, AmountCents: 3000})
			if !res.Approved {
				t.Fatalf("another card = %+v, want approved", res)
			}
			if err := restore(); err != nil {
				t.Fatal(err)
			}
			if res := mustAuthorize(t, f.b, authReq("")); !res.Approved {
				t.Fatalf("after restore = %+v", res)
			}
		})
	}
}
