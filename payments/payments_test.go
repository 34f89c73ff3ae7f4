package payments

import (
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestCardValidate(t *testing.T) {
	tests := []struct {
		name string
		card Card
		want string
	}{
		{"valid", visa, ""},
		{"brand with space", Card{Brand: "American Express", Last4: "0005", ExpMonth: 1, ExpYear: 2030}, ""},
		{"empty brand", Card{Last4: "4242", ExpMonth: 1, ExpYear: 2030}, chargedesk.EINVALID},
		{"brand with digits", Card{Brand: "Visa1", Last4: "4242", ExpMonth: 1, ExpYear: 2030}, chargedesk.EINVALID},
		{"long brand", Card{Brand: strings.Repeat("a", 21), Last4: "4242", ExpMonth: 1, ExpYear: 2030}, chargedesk.EINVALID},
		{"full card number refused", Card{Brand: "Visa", Last4: "4242424242424242", ExpMonth: 1, ExpYear: 2030}, chargedesk.EINVALID},
		{"three digits", Card{Brand: "Visa", Last4: "424", ExpMonth: 1, ExpYear: 2030}, chargedesk.EINVALID},
		{"letters in last4", Card{Brand: "Visa", Last4: "42a2", ExpMonth: 1, ExpYear: 2030}, chargedesk.EINVALID},
		{"month 0", Card{Brand: "Visa", Last4: "4242", ExpMonth: 0, ExpYear: 2030}, chargedesk.EINVALID},
		{"month 13", Card{Brand: "Visa", Last4: "4242", ExpMonth: 13, ExpYear: 2030}, chargedesk.EINVALID},
		{"two-digit year", Card{Brand: "Visa", Last4: "4242", ExpMonth: 1, ExpYear: 30}, chargedesk.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.card.Validate(), tt.want)
		})
	}
}

func TestAuthRequestValidate(t *testing.T) {
	ok := AuthRequest{AccountID: "acct-1", AmountCents: 100}
	tests := []struct {
		name string
		edit func(r *AuthRequest)
		want string
	}{
		{"minimal", func(r *AuthRequest) {}, ""},
		{"all fields", func(r *AuthRequest) {
			r.MethodID, r.Currency, r.SessionRef, r.IdempotencyKey = "pm_1", CAD, "CHG-1/42", "k1"
		}, ""},
		{"max amount", func(r *AuthRequest) { r.AmountCents = MaxAmountCents }, ""},
		{"empty account", func(r *AuthRequest) { r.AccountID = "" }, chargedesk.EINVALID},
		{"account with space", func(r *AuthRequest) { r.AccountID = "a b" }, chargedesk.EINVALID},
		{"long account", func(r *AuthRequest) { r.AccountID = strings.Repeat("a", 101) }, chargedesk.EINVALID},
		{"bad method id", func(r *AuthRequest) { r.MethodID = "pm\n1" }, chargedesk.EINVALID},
		{"zero amount", func(r *AuthRequest) { r.AmountCents = 0 }, chargedesk.EINVALID},
		{"negative amount", func(r *AuthRequest) { r.AmountCents = -5 }, chargedesk.EINVALID},
		{"amount above limit", func(r *AuthRequest) { r.AmountCents = MaxAmountCents + 1 }, chargedesk.EINVALID},
		{"euro", func(r *AuthRequest) { r.Currency = "EUR" }, chargedesk.EINVALID},
		{"long session ref", func(r *AuthRequest) { r.SessionRef = strings.Repeat("s", 201) }, chargedesk.EINVALID},
		{"long idempotency key", func(r *AuthRequest) { r.IdempotencyKey = strings.Repeat("k", 201) }, chargedesk.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			wantCode(t, r.Validate(), tt.want)
		})
	}
}

func TestMethodExpired(t *testing.T) {
	m := Method{ExpMonth: 2, ExpYear: 2026}
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"mid expiry month", time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), false},
		{"last instant of expiry month", time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), false},
		{"first instant after", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"a year later", time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Expired(tt.now); got != tt.want {
				t.Errorf("Expired(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
	t.Run("december rolls into january", func(t *testing.T) {
		d := Method{ExpMonth: 12, ExpYear: 2026}
		if got, want := d.ExpiresAt(), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v", got, want)
		}
	})
}

func TestNewDecline(t *testing.T) {
	tests := []struct {
		code          string
		wantCode      string
		wantTransient bool
	}{
		{DeclineExpiredCard, DeclineExpiredCard, false},
		{DeclineProcessingError, DeclineProcessingError, true},
		{DeclineInsufficientFunds, DeclineInsufficientFunds, false},
		{DeclineDoNotHonor, DeclineDoNotHonor, false},
		{DeclineStolenCard, DeclineStolenCard, false},
		{DeclineCardDeclined, DeclineCardDeclined, false},
		{"something_new", DeclineCardDeclined, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			d := NewDecline(tt.code)
			if d.Code != tt.wantCode || d.Transient != tt.wantTransient || d.Message == "" {
				t.Errorf("NewDecline(%q) = %+v, want code %q transient %v and a message", tt.code, d, tt.wantCode, tt.wantTransient)
			}
			if strings.Contains(d.Message, "stolen") {
				t.Errorf("message %q tells the driver the card is stolen", d.Message)
			}
		})
	}
}

func TestHoldsWithoutSession(t *testing.T) {
	holds := []Hold{
		{ID: "h1", Status: HoldPending},
		{ID: "h2", Status: HoldPending, SessionRef: "CHG-1/7"},
		{ID: "h3", Status: HoldCaptured},
		{ID: "h4", Status: HoldReleased},
		{ID: "h5", Status: HoldExpired},
		{ID: "h6", Status: HoldPending},
	}
	var got []string
	for _, h := range HoldsWithoutSession(holds) {
		got = append(got, h.ID)
	}
	if strings.Join(got, ",") != "h1,h6" {
		t.Errorf("HoldsWithoutSession = %v, want [h1 h6]", got)
	}
	if len(HoldsWithoutSession(nil)) != 0 {
		t.Error("HoldsWithoutSession(nil) is not empty")
	}
}

func TestEnumsValid(t *testing.T) {
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"USD", USD.Valid(), true},
		{"CAD", CAD.Valid(), true},
		{"EUR", Currency("EUR").Valid(), false},
		{"lower usd", Currency("usd").Valid(), false},
		{"pending", HoldPending.Valid(), true},
		{"captured", HoldCaptured.Valid(), true},
		{"released", HoldReleased.Valid(), true},
		{"expired", HoldExpired.Valid(), true},
		{"voided", HoldStatus("voided").Valid(), false},
		{"empty status", HoldStatus("").Valid(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("Valid() = %v, want %v", tt.got, tt.want)
			}
		})
	}
}
