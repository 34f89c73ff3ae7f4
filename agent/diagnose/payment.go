package diagnose

import (
	"fmt"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
)

// paymentRules judges the caller's payment state: the last decline, the
// cards, and holds that pay for no session.
func (d *diag) paymentRules() {
	p := d.v.Payment
	if p == nil {
		return
	}
	now := d.now
	rel := 0.5
	switch d.v.Category {
	case chargedesk.CategoryPaymentFailure:
		rel = 1
	case chargedesk.CategorySessionWontStart, "", chargedesk.CategoryOther:
		rel = 0.85
	case chargedesk.CategoryRFIDFailure, chargedesk.CategoryBillingDispute:
		rel = 0.7
	}
	card := func(brand, last4 string) string {
		if brand == "" {
			return "the card ending " + last4
		}
		return brand + " ending " + last4
	}
	healthy := true
	if a := p.LastAuthorization; a != nil && !a.Approved && a.Decline != nil {
		healthy = false
		aw := 0.5
		switch age := now.Sub(a.At); {
		case age <= 2*time.Hour:
			aw = 1
		case age <= 24*time.Hour:
			aw = 0.8
		}
		ev := fmt.Sprintf("the last authorization, %s on %s, was declined %s at %s",
			money(a.AmountCents), card(a.Brand, a.Last4), a.Decline.Code, at(a.At, now))
		switch {
		case a.Decline.Code == payments.DeclineExpiredCard:
			d.add(CodeCardExpired, 0.9*rel*aw, true, ev)
		case a.Decline.Transient || a.Decline.Code == payments.DeclineProcessingError:
			d.add(CodeTransientDecline, 0.85*rel*aw, true, ev, "a processing error is not the issuer's verdict: a retry may pass")
		default:
			d.add(CodeHardDecline, 0.85*rel*aw, false, ev, "the issuer refused: retrying the same card will not help")
		}
	}
	hasDefault := false
	for i := range p.Methods {
		m := &p.Methods[i]
		switch {
		case !m.Synced:
			healthy = false
			d.add(CodeAppSyncDelay, 0.85*rel, true, fmt.Sprintf("%s was added in the app at %s and is not synced to the account yet",
				card(m.Brand, m.Last4), at(m.AddedAt, now)))
		case m.Default:
			hasDefault = true
			if m.Expired(now) {
				healthy = false
				d.add(CodeCardExpired, 0.8*rel, true, fmt.Sprintf("the default card, %s, expired at the end of %02d/%d", card(m.Brand, m.Last4), m.ExpMonth, m.ExpYear))
			}
		}
	}
	if !hasDefault && len(p.Methods) == 0 {
		d.note("the caller's account has no payment card")
	}
	stray := payments.HoldsWithoutSession(p.Holds)
	if n := len(stray); n > 0 {
		var sum int64
		for _, h := range stray {
			sum += h.AmountCents
		}
		live := 0
		for _, h := range p.Holds {
			if h.Status == payments.HoldPending && h.SessionRef != "" {
				live++
			}
		}
		hr := rel
		if d.v.Category == chargedesk.CategoryBillingDispute {
			hr = 1
		}
		c := 0.85
		if n == 1 {
			c = 0.45
		}
		ev := []string{fmt.Sprintf("%d pending hold(s) totalling %s belong to no session", n, money(sum))}
		if live > 0 {
			ev = append(ev, fmt.Sprintf("%d more pay(s) for a live session and must stay", live))
		}
		healthy = false
		d.add(CodeDuplicateHolds, c*hr, true, ev...)
	}
	if healthy && hasDefault {
		d.note("the caller's default card is valid and the last authorization was not declined")
	}
}
