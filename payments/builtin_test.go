package payments

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestAddAccount(t *testing.T) {
	b := NewBuiltin(newClock().Now)
	if err := b.AddAccount("dup", USD); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		id       string
		currency Currency
		want     string
	}{
		{"usd", "a-usd", USD, ""},
		{"cad", "a-cad", CAD, ""},
		{"duplicate", "dup", CAD, chargedesk.ECONFLICT},
		{"empty id", "", USD, chargedesk.EINVALID},
		{"bad currency", "a-eur", "EUR", chargedesk.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, b.AddAccount(tt.id, tt.currency), tt.want)
		})
	}
}

func TestAddMethodAndMethods(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := t.Context()
	if !f.card.Synced || !f.card.Default || f.card.AccountID != "acct-1" || f.card.Last4 != "4242" {
		t.Fatalf("first card = %+v, want synced default on acct-1", f.card)
	}
	second, err := f.b.AddMethod("acct-1", Card{Brand: "Mastercard", Last4: "4444", ExpMonth: 5, ExpYear: 2030})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Synced || second.Default {
		t.Errorf("second synced card = %+v, want synced, not default", second)
	}
	f.clk.Advance(time.Minute)
	app, err := f.b.AddAppMethod("acct-1", Card{Brand: "Amex", Last4: "0005", ExpMonth: 7, ExpYear: 2031})
	if err != nil {
		t.Fatal(err)
	}
	if app.Synced || app.Default {
		t.Errorf("app card = %+v, want not synced, not default", app)
	}
	ms, err := f.b.Methods(ctx, "acct-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Last4)
	}
	if strings.Join(got, ",") != "4242,4444,0005" {
		t.Errorf("Methods last4 = %v, want oldest first 4242,4444,0005", got)
	}

	errs := []struct {
		name string
		err  error
		want string
	}{
		{"add to unknown account", second2(f.b.AddMethod("nope", visa)), chargedesk.ENOTFOUND},
		{"add bad card", second2(f.b.AddMethod("acct-1", Card{Brand: "Visa", Last4: "1"})), chargedesk.EINVALID},
		{"app add to unknown account", second2(f.b.AddAppMethod("nope", visa)), chargedesk.ENOTFOUND},
		{"methods of unknown account", second2(f.b.Methods(ctx, "nope")), chargedesk.ENOTFOUND},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err, tt.want) })
	}
}

// second2 returns the error of a two-valued call.
func second2[T any](_ T, err error) error { return err }

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, f *fixture) AuthRequest
		wantErr     string
		wantDecline string // "" = approved
	}{
		{"default card approved", func(t *testing.T, f *fixture) AuthRequest {
			return AuthRequest{AccountID: "acct-1", AmountCents: 3000, SessionRef: "CHG-1/9"}
		}, "", ""},
		{"named card approved", func(t *testing.T, f *fixture) AuthRequest {
			m, err := f.b.AddMethod("acct-1", Card{Brand: "Discover", Last4: "1117", ExpMonth: 1, ExpYear: 2030})
			if err != nil {
				t.Fatal(err)
			}
			return AuthRequest{AccountID: "acct-1", MethodID: m.ID, AmountCents: 3000, Currency: USD}
		}, "", ""},
		{"unknown account", func(t *testing.T, f *fixture) AuthRequest {
			return AuthRequest{AccountID: "nope", AmountCents: 3000}
		}, chargedesk.ENOTFOUND, ""},
		{"unknown method", func(t *testing.T, f *fixture) AuthRequest {
			return AuthRequest{AccountID: "acct-1", MethodID: "pm_999", AmountCents: 3000}
		}, chargedesk.ENOTFOUND, ""},
		{"another account's method", func(t *testing.T, f *fixture) AuthRequest {
			if err := f.b.AddAccount("acct-2", USD); err != nil {
				t.Fatal(err)
			}
			m, err := f.b.AddMethod("acct-2", visa)
			if err != nil {
				t.Fatal(err)
			}
			return AuthRequest{AccountID: "acct-1", MethodID: m.ID, AmountCents: 3000}
		}, chargedesk.ENOTFOUND, ""},
		{"unsynced app card", func(t *testing.T, f *fixture) AuthRequest {
			m, err := f.b.AddAppMethod("acct-1", visa)
			if err != nil {
				t.Fatal(err)
			}
			return AuthRequest{AccountID: "acct-1", MethodID: m.ID, AmountCents: 3000}
		}, chargedesk.ECONFLICT, ""},
		{"account without cards", func(t *testing.T, f *fixture) AuthRequest {
			if err := f.b.AddAccount("empty", USD); err != nil {
				t.Fatal(err)
			}
			return AuthRequest{AccountID: "empty", AmountCents: 3000}
		}, chargedesk.ECONFLICT, ""},
		{"other currency", func(t *testing.T, f *fixture) AuthRequest {
			return AuthRequest{AccountID: "acct-1", AmountCents: 3000, Currency: CAD}
		}, chargedesk.EINVALID, ""},
		{"malformed", func(t *testing.T, f *fixture) AuthRequest {
			return AuthRequest{AccountID: "acct-1", AmountCents: 0}
		}, chargedesk.EINVALID, ""},
		{"expired card declined", func(t *testing.T, f *fixture) AuthRequest {
			f.clk.Set(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))
			return AuthRequest{AccountID: "acct-1", AmountCents: 3000}
		}, "", DeclineExpiredCard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			req := tt.setup(t, f)
			res, err := f.b.Authorize(t.Context(), req)
			wantCode(t, err, tt.wantErr)
			if err != nil {
				if holds, _ := f.b.Holds(t.Context(), "acct-1", ""); len(holds) != 0 {
					t.Errorf("failed request left holds %+v", holds)
				}
				return
			}
			if got := declineCode(res); got != tt.wantDecline {
				t.Fatalf("decline = %q, want %q (%+v)", got, tt.wantDecline, res)
			}
			last, err := f.b.LastAuthorization(t.Context(), req.AccountID)
			if err != nil {
				t.Fatal(err)
			}
			if last.Approved != res.Approved || last.MethodID != res.MethodID || last.Last4 != res.Last4 || last.AmountCents != req.AmountCents {
				t.Errorf("LastAuthorization = %+v, does not match result %+v", last, res)
			}
			holds, err := f.b.Holds(t.Context(), req.AccountID, HoldPending)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Approved {
				if res.Hold != nil || len(holds) != 0 || res.Decline.Transient {
					t.Errorf("declined result %+v left holds %+v", res, holds)
				}
				return
			}
			h := res.Hold
			if h == nil || h.Status != HoldPending || h.AmountCents != req.AmountCents || h.Currency != USD ||
				h.SessionRef != req.SessionRef || h.MethodID != res.MethodID || last.HoldID != h.ID {
				t.Fatalf("hold = %+v for request %+v", h, req)
			}
			if len(holds) != 1 || holds[0].ID != h.ID {
				t.Errorf("pending holds = %+v, want only %s", holds, h.ID)
			}
		})
	}
}

func TestAuthorizeIdempotency(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := t.Context()
	req := AuthRequest{AccountID: "acct-1", AmountCents: 2500, IdempotencyKey: "tap-1"}
	first := mustAuthorize(t, f.b, req)

	t.Run("same key returns the first result", func(t *testing.T) {
		again := mustAuthorize(t, f.b, req)
		if !again.Approved || again.Hold.ID != first.Hold.ID {
			t.Errorf("repeat = %+v, want hold %s", again, first.Hold.ID)
		}
		if holds, _ := f.b.Holds(ctx, "acct-1", ""); len(holds) != 1 {
			t.Errorf("holds = %d, want 1", len(holds))
		}
	})
	t.Run("same key with explicit default currency", func(t *testing.T) {
		r := req
		r.Currency = USD
		again := mustAuthorize(t, f.b, r)
		if again.Hold.ID != first.Hold.ID {
			t.Errorf("repeat hold %s, want %s", again.Hold.ID, first.Hold.ID)
		}
	})
	t.Run("same key other amount conflicts", func(t *testing.T) {
		r := req
		r.AmountCents = 9999
		_, err := f.b.Authorize(ctx, r)
		wantCode(t, err, chargedesk.ECONFLICT)
	})
	t.Run("new key makes a new hold", func(t *testing.T) {
		r := req
		r.IdempotencyKey = "tap-2"
		res := mustAuthorize(t, f.b, r)
		if res.Hold.ID == first.Hold.ID {
			t.Error("new key reused the first hold")
		}
	})
	t.Run("keys are per account", func(t *testing.T) {
		if err := f.b.AddAccount("acct-2", USD); err != nil {
			t.Fatal(err)
		}
		if _, err := f.b.AddMethod("acct-2", visa); err != nil {
			t.Fatal(err)
		}
		r := req
		r.AccountID = "acct-2"
		res := mustAuthorize(t, f.b, r)
		if res.Hold.AccountID != "acct-2" {
			t.Errorf("hold %+v not on acct-2", res.Hold)
		}
	})
	t.Run("no key never replays", func(t *testing.T) {
		r := AuthRequest{AccountID: "acct-1", AmountCents: 100}
		a, b := mustAuthorize(t, f.b, r), mustAuthorize(t, f.b, r)
		if a.Hold.ID == b.Hold.ID {
			t.Error("two unkeyed authorizations share a hold")
		}
	})
	t.Run("result is a copy", func(t *testing.T) {
		first.Hold.AmountCents = 1
		again := mustAuthorize(t, f.b, req)
		if again.Hold.AmountCents != 2500 {
			t.Errorf("caller's edit leaked into the stored result: %+v", again.Hold)
		}
	})
}

func TestCapture(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, f *fixture, holdID string)
		amount  int64
		want    string
	}{
		{"full", nil, 4000, ""},
		{"partial", nil, 1234, ""},
		{"above hold", nil, 4001, chargedesk.EINVALID},
		{"zero", nil, 0, chargedesk.EINVALID},
		{"twice", func(t *testing.T, f *fixture, id string) {
			if _, err := f.b.Capture(t.Context(), id, 100); err != nil {
				t.Fatal(err)
			}
		}, 100, chargedesk.ECONFLICT},
		{"released", func(t *testing.T, f *fixture, id string) {
			if _, err := f.b.Release(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}, 100, chargedesk.ECONFLICT},
		{"expired", func(t *testing.T, f *fixture, id string) { f.clk.Advance(DefaultHoldTTL) }, 100, chargedesk.ECONFLICT},
		{"just before expiry", func(t *testing.T, f *fixture, id string) { f.clk.Advance(DefaultHoldTTL - time.Second) }, 100, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			res := mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 4000})
			if tt.prepare != nil {
				tt.prepare(t, f, res.Hold.ID)
			}
			h, err := f.b.Capture(t.Context(), res.Hold.ID, tt.amount)
			wantCode(t, err, tt.want)
			if err == nil && (h.Status != HoldCaptured || h.CapturedCents != tt.amount || h.AmountCents != 4000) {
				t.Errorf("captured hold = %+v", h)
			}
		})
	}
	t.Run("unknown hold", func(t *testing.T) {
		f := newFixture(t, Options{})
		_, err := f.b.Capture(t.Context(), "hold_404", 100)
		wantCode(t, err, chargedesk.ENOTFOUND)
	})
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, f *fixture, holdID string)
		want    string
	}{
		{"pending", nil, ""},
		{"released again is a no-op", func(t *testing.T, f *fixture, id string) {
			if _, err := f.b.Release(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"captured", func(t *testing.T, f *fixture, id string) {
			if _, err := f.b.Capture(t.Context(), id, 100); err != nil {
				t.Fatal(err)
			}
		}, chargedesk.ECONFLICT},
		{"expired", func(t *testing.T, f *fixture, id string) { f.clk.Advance(8 * 24 * time.Hour) }, chargedesk.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			res := mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 4000})
			if tt.prepare != nil {
				tt.prepare(t, f, res.Hold.ID)
			}
			h, err := f.b.Release(t.Context(), res.Hold.ID)
			wantCode(t, err, tt.want)
			if err == nil && h.Status != HoldReleased {
				t.Errorf("released hold = %+v", h)
			}
		})
	}
	t.Run("unknown hold", func(t *testing.T) {
		f := newFixture(t, Options{})
		_, err := f.b.Release(t.Context(), "hold_404")
		wantCode(t, err, chargedesk.ENOTFOUND)
	})
}

func TestHolds(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := t.Context()
	// One hold per status, an hour apart, oldest first; the oldest is the
	// one left to expire.
	start := f.clk.Now()
	ids := map[HoldStatus]string{}
	for _, st := range []HoldStatus{HoldExpired, HoldCaptured, HoldReleased, HoldPending} {
		res := mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 1000})
		ids[st] = res.Hold.ID
		f.clk.Advance(time.Hour)
	}
	if _, err := f.b.Capture(ctx, ids[HoldCaptured], 500); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.Release(ctx, ids[HoldReleased]); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(start.Add(DefaultHoldTTL))
	tests := []struct {
		status HoldStatus
		want   []string
		err    string
	}{
		{HoldPending, []string{ids[HoldPending]}, ""},
		{HoldCaptured, []string{ids[HoldCaptured]}, ""},
		{HoldReleased, []string{ids[HoldReleased]}, ""},
		{HoldExpired, []string{ids[HoldExpired]}, ""},
		{"", []string{ids[HoldExpired], ids[HoldCaptured], ids[HoldReleased], ids[HoldPending]}, ""},
		{"voided", nil, chargedesk.EINVALID},
	}
	for _, tt := range tests {
		t.Run(cmpName(string(tt.status), "all"), func(t *testing.T) {
			hs, err := f.b.Holds(ctx, "acct-1", tt.status)
			wantCode(t, err, tt.err)
			var got []string
			for _, h := range hs {
				got = append(got, h.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Holds(%q) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
	t.Run("unknown account", func(t *testing.T) {
		_, err := f.b.Holds(ctx, "nope", "")
		wantCode(t, err, chargedesk.ENOTFOUND)
	})
}

// cmpName returns s, or def when s is empty.
func cmpName(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestLastAuthorization(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := t.Context()
	_, err := f.b.LastAuthorization(ctx, "acct-1")
	wantCode(t, err, chargedesk.ENOTFOUND)
	_, err = f.b.LastAuthorization(ctx, "nope")
	wantCode(t, err, chargedesk.ENOTFOUND)

	mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 1000, SessionRef: "CHG-1/1", IdempotencyKey: "k"})
	f.clk.Set(time.Date(2029, 2, 1, 0, 0, 0, 0, time.UTC))
	// A request refused before reaching the network is not an attempt.
	if _, err := f.b.Authorize(ctx, AuthRequest{AccountID: "acct-1", AmountCents: 1000, Currency: CAD}); err == nil {
		t.Fatal("CAD on a USD account was accepted")
	}
	mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 2000})
	last, err := f.b.LastAuthorization(ctx, "acct-1")
	if err != nil {
		t.Fatal(err)
	}
	if last.Approved || last.Decline == nil || last.Decline.Code != DeclineExpiredCard || last.AmountCents != 2000 ||
		last.Last4 != "4242" || last.Brand != "Visa" || last.HoldID != "" || !last.At.Equal(f.clk.Now()) {
		t.Errorf("LastAuthorization = %+v, want the expired_card decline of 2000 cents on 4242", last)
	}
}

func TestSyncAccount(t *testing.T) {
	t.Run("manual sync makes the app card the default", func(t *testing.T) {
		f := newFixture(t, Options{})
		ctx := t.Context()
		app, err := f.b.AddAppMethod("acct-1", Card{Brand: "Amex", Last4: "0005", ExpMonth: 7, ExpYear: 2031})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(365 * 24 * time.Hour) // without a sync delay, time alone syncs nothing
		res := mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 100})
		if res.MethodID != f.card.ID {
			t.Errorf("before sync the default is %s, want %s", res.MethodID, f.card.ID)
		}
		synced, err := f.b.SyncAccount(ctx, "acct-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(synced) != 1 || synced[0].ID != app.ID || !synced[0].Synced || !synced[0].Default {
			t.Fatalf("SyncAccount = %+v, want the app card synced and default", synced)
		}
		res = mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 100})
		if !res.Approved || res.MethodID != app.ID || res.Last4 != "0005" {
			t.Errorf("after sync = %+v, want approved on the app card", res)
		}
		again, err := f.b.SyncAccount(ctx, "acct-1")
		if err != nil || len(again) != 0 {
			t.Errorf("second SyncAccount = %+v, %v; want nothing new", again, err)
		}
		ms, _ := f.b.Methods(ctx, "acct-1")
		defaults := 0
		for _, m := range ms {
			if m.Default {
				defaults++
			}
		}
		if defaults != 1 {
			t.Errorf("%d default methods, want 1: %+v", defaults, ms)
		}
	})
	t.Run("sync delay syncs by itself", func(t *testing.T) {
		f := newFixture(t, Options{SyncDelay: 10 * time.Minute})
		app, err := f.b.AddAppMethod("acct-1", Card{Brand: "Amex", Last4: "0005", ExpMonth: 7, ExpYear: 2031})
		if err != nil {
			t.Fatal(err)
		}
		req := AuthRequest{AccountID: "acct-1", MethodID: app.ID, AmountCents: 100}
		f.clk.Advance(10*time.Minute - time.Second)
		_, err = f.b.Authorize(t.Context(), req)
		wantCode(t, err, chargedesk.ECONFLICT)
		f.clk.Advance(time.Second)
		if res := mustAuthorize(t, f.b, req); !res.Approved {
			t.Errorf("after the sync delay = %+v, want approved", res)
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		f := newFixture(t, Options{})
		_, err := f.b.SyncAccount(t.Context(), "nope")
		wantCode(t, err, chargedesk.ENOTFOUND)
	})
}

func TestPayLinks(t *testing.T) {
	f := newFixture(t, Options{PayLinkTTL: 30 * time.Minute, PayLinkBaseURL: "https://pay.test/x/"})
	ctx := t.Context()
	l, err := f.b.CreatePayLink(ctx, "acct-1", 2500, "")
	if err != nil {
		t.Fatal(err)
	}
	if l.Paid || l.Currency != USD || l.AmountCents != 2500 || l.URL != "https://pay.test/x/"+l.ID ||
		!l.ExpiresAt.Equal(f.clk.Now().Add(30*time.Minute)) {
		t.Fatalf("pay link = %+v", l)
	}
	other, err := f.b.CreatePayLink(ctx, "acct-1", 2500, USD)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == l.ID {
		t.Error("two pay links share an id")
	}

	createErrs := []struct {
		name     string
		account  string
		amount   int64
		currency Currency
		want     string
	}{
		{"unknown account", "nope", 100, "", chargedesk.ENOTFOUND},
		{"zero amount", "acct-1", 0, "", chargedesk.EINVALID},
		{"other currency", "acct-1", 100, CAD, chargedesk.EINVALID},
		{"bad currency", "acct-1", 100, "XYZ", chargedesk.EINVALID},
	}
	for _, tt := range createErrs {
		t.Run("create "+tt.name, func(t *testing.T) {
			_, err := f.b.CreatePayLink(ctx, tt.account, tt.amount, tt.currency)
			wantCode(t, err, tt.want)
		})
	}

	t.Run("unpaid until marked", func(t *testing.T) {
		got, err := f.b.PayLink(ctx, l.ID)
		if err != nil || got.Paid {
			t.Fatalf("PayLink = %+v, %v; want unpaid", got, err)
		}
	})
	t.Run("mark paid", func(t *testing.T) {
		f.clk.Advance(29 * time.Minute)
		paid, err := f.b.MarkPayLinkPaid(ctx, l.ID)
		if err != nil || !paid.Paid || !paid.PaidAt.Equal(f.clk.Now()) {
			t.Fatalf("MarkPayLinkPaid = %+v, %v", paid, err)
		}
		got, _ := f.b.PayLink(ctx, l.ID)
		if !got.Paid {
			t.Error("PayLink does not show the payment")
		}
	})
	t.Run("paying twice is a no-op after expiry", func(t *testing.T) {
		f.clk.Advance(time.Hour)
		paid, err := f.b.MarkPayLinkPaid(ctx, l.ID)
		if err != nil || !paid.Paid {
			t.Errorf("MarkPayLinkPaid again = %+v, %v", paid, err)
		}
	})
	t.Run("expired unpaid link cannot be paid", func(t *testing.T) {
		_, err := f.b.MarkPayLinkPaid(ctx, other.ID)
		wantCode(t, err, chargedesk.ECONFLICT)
	})
	t.Run("unknown link", func(t *testing.T) {
		_, err := f.b.PayLink(ctx, "pl_nope")
		wantCode(t, err, chargedesk.ENOTFOUND)
		_, err = f.b.MarkPayLinkPaid(ctx, "pl_nope")
		wantCode(t, err, chargedesk.ENOTFOUND)
	})
}

// processorCalls calls every Processor method once on acct-1, with hold
// and link ids that exist.
func processorCalls(ctx context.Context, p Processor, holdID, linkID string) map[string]error {
	return map[string]error{
		"Methods":           second2(p.Methods(ctx, "acct-1")),
		"Authorize":         second2(p.Authorize(ctx, AuthRequest{AccountID: "acct-1", AmountCents: 100})),
		"Capture":           second2(p.Capture(ctx, holdID, 100)),
		"Release":           second2(p.Release(ctx, holdID)),
		"Holds":             second2(p.Holds(ctx, "acct-1", "")),
		"LastAuthorization": second2(p.LastAuthorization(ctx, "acct-1")),
		"SyncAccount":       second2(p.SyncAccount(ctx, "acct-1")),
		"CreatePayLink":     second2(p.CreatePayLink(ctx, "acct-1", 100, "")),
		"PayLink":           second2(p.PayLink(ctx, linkID)),
		"MarkPayLinkPaid":   second2(p.MarkPayLinkPaid(ctx, linkID)),
	}
}

func TestUnavailableAndCanceled(t *testing.T) {
	setup := func(t *testing.T) (*fixture, string, string) {
		f := newFixture(t, Options{})
		res := mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 1000})
		l, err := f.b.CreatePayLink(t.Context(), "acct-1", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		return f, res.Hold.ID, l.ID
	}
	t.Run("outage", func(t *testing.T) {
		f, holdID, linkID := setup(t)
		f.b.SetUnavailable(true)
		for name, err := range processorCalls(t.Context(), f.b, holdID, linkID) {
			t.Run(name, func(t *testing.T) { wantCode(t, err, chargedesk.EUNAVAILABLE) })
		}
		f.b.SetUnavailable(false)
		h, err := f.b.Holds(t.Context(), "acct-1", "")
		if err != nil || len(h) != 1 || h[0].Status != HoldPending {
			t.Errorf("after the outage holds = %+v, %v; want the one pending hold unchanged", h, err)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		f, holdID, linkID := setup(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for name, err := range processorCalls(ctx, f.b, holdID, linkID) {
			t.Run(name, func(t *testing.T) {
				if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
					t.Errorf("err = %v, want context canceled", err)
				}
			})
		}
	})
	t.Run("all succeed when up", func(t *testing.T) {
		f, holdID, linkID := setup(t)
		for name, err := range processorCalls(t.Context(), f.b, holdID, linkID) {
			// Release after Capture (or the reverse) conflicts; map order
			// is random, so only those two may fail, and only with
			// ECONFLICT.
			if (name == "Capture" || name == "Release") && chargedesk.ErrorCode(err) == chargedesk.ECONFLICT {
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

func TestHoldExpiryByClock(t *testing.T) {
	f := newFixture(t, Options{HoldTTL: 2 * time.Hour})
	ctx := t.Context()
	res := mustAuthorize(t, f.b, AuthRequest{AccountID: "acct-1", AmountCents: 1000})
	if want := f.clk.Now().Add(2 * time.Hour); !res.Hold.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", res.Hold.ExpiresAt, want)
	}
	f.clk.Advance(2*time.Hour - time.Nanosecond)
	if hs, _ := f.b.Holds(ctx, "acct-1", HoldPending); len(hs) != 1 {
		t.Fatalf("pending holds just before expiry = %+v", hs)
	}
	f.clk.Advance(time.Nanosecond)
	hs, err := f.b.Holds(ctx, "acct-1", HoldExpired)
	if err != nil || len(hs) != 1 || !hs[0].UpdatedAt.Equal(hs[0].ExpiresAt) {
		t.Fatalf("expired holds = %+v, %v", hs, err)
	}
}

func TestCardExpiryByClock(t *testing.T) {
	f := newFixture(t, Options{})
	req := AuthRequest{AccountID: "acct-1", AmountCents: 100}
	f.clk.Set(time.Date(2028, 12, 31, 23, 59, 59, 0, time.UTC))
	if res := mustAuthorize(t, f.b, req); !res.Approved {
		t.Fatalf("on the last day of the expiry month = %+v, want approved", res)
	}
	f.clk.Set(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))
	res := mustAuthorize(t, f.b, req)
	if declineCode(res) != DeclineExpiredCard || res.Decline.Transient {
		t.Fatalf("after the expiry month = %+v, want a hard expired_card decline", res)
	}
}
