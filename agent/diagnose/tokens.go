package diagnose

import (
	"fmt"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// refused reports whether an authorization verdict refuses the token.
func refused(status string) bool {
	switch chargedesk.AuthStatus(status) {
	case chargedesk.AuthInvalid, chargedesk.AuthBlocked, chargedesk.AuthExpired, chargedesk.AuthUnknown:
		return true
	}
	return false
}

// tokenRules judges the caller's cards against the backend and against what
// the charger did with them. ch is nil when the charger is unknown.
func (d *diag) tokenRules(ch *chargedesk.Charger) {
	now := d.now
	cat := d.v.Category
	rel := 0.5
	switch cat {
	case chargedesk.CategoryRFIDFailure:
		rel = 1
	case chargedesk.CategorySessionWontStart, "", chargedesk.CategoryOther:
		rel = 0.9
	case chargedesk.CategoryPaymentFailure:
		rel = 0.7
	}
	authFor := func(tag string) *exchange {
		return d.ev.find(now.Add(-EventWindow), func(x *exchange) bool {
			return x.action == "Authorize" && x.in && strings.EqualFold(x.tag, tag)
		})
	}
	used := func(tag string) bool {
		if authFor(tag) != nil {
			return true
		}
		for _, tx := range d.v.Active {
			if tx != nil && strings.EqualFold(tx.IDTag, tag) {
				return true
			}
		}
		return false
	}
	hasAccepted := false
	for _, t := range d.v.Tokens {
		if t == nil {
			continue
		}
		tw := 0.6 // the caller may have used another of their cards
		if len(d.v.Tokens) == 1 || used(t.IDTag) {
			tw = 1
		}
		au := authFor(t.IDTag)
		seen := ""
		if au != nil && au.answered {
			seen = fmt.Sprintf("this charger's Authorize for %s at %s was answered %s", t.IDTag, clock(au.at, now), au.status)
		}
		with := func(ev ...string) []string {
			if seen != "" {
				ev = append(ev, seen)
			}
			return ev
		}
		switch v := t.Verdict(now); v {
		case chargedesk.AuthBlocked:
			d.add(CodeTokenBlocked, 0.9*rel*tw, false, with(fmt.Sprintf("card %s is Blocked in the backend", t.IDTag))...)
		case chargedesk.AuthExpired:
			ev := fmt.Sprintf("card %s is Expired in the backend", t.IDTag)
			if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
				ev = fmt.Sprintf("card %s expired on %s", t.IDTag, t.ExpiresAt.In(now.Location()).Format("Jan 2, 2006"))
			}
			d.add(CodeTokenExpired, 0.9*rel*tw, false, with(ev)...)
		case chargedesk.AuthAccepted:
			hasAccepted = true
			if au != nil && refused(au.status) {
				d.add(CodeLocalListStale, 0.75*rel*tw, true,
					fmt.Sprintf("the last Authorize for %s returned %s at %s while the account says Accepted", t.IDTag, au.status, at(au.at, now)))
			}
		default:
			d.add(CodeTokenUnknown, 0.85*rel*tw, false, with(fmt.Sprintf("card %s is %s in the backend: it was never activated", t.IDTag, v))...)
		}
	}
	if len(d.v.Tokens) > 0 {
		if hasAccepted {
			d.note("the caller has a card Accepted in the backend")
		}
	} else if d.v.DriverID != "" && cat == chargedesk.CategoryRFIDFailure {
		d.add(CodeTokenUnknown, 0.7, false, fmt.Sprintf("the caller's account %s has no card registered", d.v.DriverID))
	} else if d.v.DriverID == "" {
		// Unverified: the latest refusal at this charger is probably theirs.
		if x := d.ev.find(now.Add(-AuthorizeWindow), func(x *exchange) bool {
			return x.action == "Authorize" && x.in && refused(x.status)
		}); x != nil {
			code := CodeTokenUnknown
			switch chargedesk.AuthStatus(x.status) {
			case chargedesk.AuthBlocked:
				code = CodeTokenBlocked
			case chargedesk.AuthExpired:
				code = CodeTokenExpired
			}
			d.add(code, 0.5*rel, false, fmt.Sprintf("a card was refused (%s) by this charger at %s; the caller is not verified yet", x.status, at(x.at, now)))
		}
	}

	// A refused card the charger never asked about: its local list or
	// cache refused it, or its reader did not read it.
	if ch == nil || !hasAccepted || !(cat == chargedesk.CategoryRFIDFailure || d.waitingForAuth) || !d.healthy(ch) {
		return
	}
	for _, tx := range d.v.Active {
		if tx != nil && d.callerTag(tx.IDTag) {
			return
		}
	}
	recent := now.Add(-AuthorizeWindow)
	if d.ev.find(recent, func(x *exchange) bool { return x.action == "Authorize" && x.in && d.callerTag(x.tag) }) != nil {
		return
	}
	w := 1.0
	if cat != chargedesk.CategoryRFIDFailure {
		w = 0.8
	}
	reader := ""
	for _, cn := range ch.Connectors {
		if cn.ErrorCode == "ReaderFailure" {
			reader = fmt.Sprintf("connector %d reports ReaderFailure", cn.ID)
		}
	}
	if reader == "" {
		for id := range len(ch.Connectors) + 1 {
			if p, t := d.ev.problem(id); p == "ReaderFailure" {
				reader = fmt.Sprintf("the charger reported a token reader problem at %s", clock(t, now))
			}
		}
	}
	none := fmt.Sprintf("the caller's card is Accepted in the backend but this charger sent no Authorize for it in the last %s while connected and healthy", dur(AuthorizeWindow))
	if reader != "" {
		d.add(CodeReaderFault, 0.9*w, true, reader, none)
		return
	}
	other := d.ev.find(recent, func(x *exchange) bool { return x.action == "Authorize" && x.in })
	listed := d.ev.find(recent, func(x *exchange) bool {
		return (x.action == "SendLocalList" || x.action == "ClearCache") && x.status == "Accepted"
	})
	ll, rf := 0.6, 0.5
	rfEv := "no Authorize at all came from this charger in the last " + dur(AuthorizeWindow) + ": its reader may not read cards"
	if other != nil {
		ll, rf = 0.7, 0.3
		rfEv = fmt.Sprintf("the reader read %s at %s, so it works", d.cardName(other.tag), clock(other.at, now))
	}
	llEv := []string{none, "a charger refusing from its local list or cache sends no Authorize"}
	if listed != nil {
		ll -= 0.2
		llEv = append(llEv, fmt.Sprintf("a %s was accepted at %s", listed.action, clock(listed.at, now)))
	}
	d.add(CodeLocalListStale, ll*w, true, llEv...)
	d.add(CodeReaderFault, rf*w, true, none, rfEv)
}
