package payments

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/chargedesk/chargedesk"
)

// The payment faults of the fault catalogue (FAULTS.md, payment_failure).
// Each names a root cause Builtin.InjectFault puts into a driver account.
//
// card_expired: the default card's expiry moves to last month, so every
// authorization of it is declined expired_card (not transient). Fixed by a
// new card (AddAppMethod, then SyncAccount), by authorizing another synced
// card, or by a paid pay link. Not fixed by retrying, nor by SyncAccount
// when the driver has added nothing.
//
// transient_decline: the next authorization of the account is declined
// processing_error (a network timeout, Transient true); after that,
// approvals resume. Fixed by retrying with a new idempotency key. Not
// fixed by repeating the request with the same key, which replays the
// decline.
//
// app_sync_delay: the driver replaced the default card in the app: the old
// card is gone from the account and the new one exists only in the app
// (Synced false) and never syncs by itself, so an authorization without a
// method id fails with ECONFLICT and one naming the new card fails with
// ECONFLICT too. Fixed by SyncAccount, then authorizing. Not fixed by
// retrying the authorization.
//
// duplicate_holds: repeated taps left three pending holds that belong to no
// session on the default card, and (unless FaultOptions.NoLiveSession) a
// fourth pending hold pays for a live session (SessionRef set). Fixed by
// releasing the holds HoldsWithoutSession lists. Releasing the live
// session's hold is possible at the processor level but wrong; the policy
// must forbid it. Retrying an authorization adds a hold and fixes nothing.
//
// hard_decline: every authorization of the default card is declined with an
// issuer's code (insufficient_funds unless FaultOptions.DeclineCode says
// do_not_honor, stolen_card or card_declined; not transient). Fixed only
// by another method: another synced card, a new card added in the app and
// synced, or a paid pay link. Retries never help.
const (
	FaultCardExpired      = "card_expired"
	FaultTransientDecline = "transient_decline"
	FaultAppSyncDelay     = "app_sync_delay"
	FaultDuplicateHolds   = "duplicate_holds"
	FaultHardDecline      = "hard_decline"
)

// Faults returns the names InjectFault accepts.
func Faults() []string {
	return []string{FaultCardExpired, FaultTransientDecline, FaultAppSyncDelay, FaultDuplicateHolds, FaultHardDecline}
}

// DuplicateHoldCents is the amount of each hold duplicate_holds leaves.
const DuplicateHoldCents = 5000

// FaultOptions parameterize InjectFaultWith. The zero value gives the
// defaults InjectFault uses.
type FaultOptions struct {
	// DeclineCode is hard_decline's code: insufficient_funds (the default),
	// do_not_honor, stolen_card or card_declined.
	DeclineCode string
	// SessionRef is the SessionRef of duplicate_holds' live-session hold
	// (default "live-session/<accountID>"); a simulation passes its own
	// charger and transaction reference.
	SessionRef string
	// NoLiveSession leaves duplicate_holds without a live-session hold.
	NoLiveSession bool
	// AppCard is the card app_sync_delay adds in the app; when zero it is a
	// card of the old card's brand with other last digits, valid three
	// more years.
	AppCard Card
}

// InjectFault puts the payment fault named fault into the account, with
// default options, and returns a function that undoes it. See the fault
// constants for what each does and what fixes it. Errors: EINVALID for an
// unknown fault; ENOTFOUND for an unknown account; ECONFLICT when the
// fault needs a default card the account does not have (card_expired,
// duplicate_holds, hard_decline).
func (b *Builtin) InjectFault(accountID, fault string) (restore func() error, err error) {
	return b.InjectFaultWith(accountID, fault, FaultOptions{})
}

// InjectFaultWith is InjectFault with options. Restore undoes only what
// the injection did; calling it again does nothing. Restore faults in the
// reverse order of their injection.
func (b *Builtin) InjectFaultWith(accountID, fault string, opts FaultOptions) (restore func() error, err error) {
	if !slices.Contains(Faults(), fault) {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "unknown payment fault %q (want one of %v)", fault, Faults())
	}
	if opts.DeclineCode != "" && !isHardDeclineCode(opts.DeclineCode) {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "decline code %q is not insufficient_funds, do_not_honor, stolen_card or card_declined", opts.DeclineCode)
	}
	if len(opts.SessionRef) > maxRefLen {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "session reference is longer than %d characters", maxRefLen)
	}
	if opts.AppCard != (Card{}) {
		if err := opts.AppCard.Validate(); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.account(accountID)
	if err != nil {
		return nil, err
	}
	now := b.now()
	var undo func()
	switch fault {
	case FaultCardExpired:
		undo, err = b.injectCardExpired(a, now)
	case FaultTransientDecline:
		a.transientLeft++
		undo = func() { a.transientLeft = max(0, a.transientLeft-1) }
	case FaultAppSyncDelay:
		undo = b.injectAppSyncDelay(a, now, opts.AppCard)
	case FaultDuplicateHolds:
		undo, err = b.injectDuplicateHolds(a, now, opts)
	case FaultHardDecline:
		undo, err = b.injectHardDecline(a, cmp.Or(opts.DeclineCode, DeclineInsufficientFunds))
	}
	if err != nil {
		return nil, fmt.Errorf("payments: inject %s into %s: %w", fault, accountID, err)
	}
	done := false
	return func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !done {
			done = true
			undo()
		}
		return nil
	}, nil
}

// defaultMethod returns a's default card or an ECONFLICT error.
func (a *account) defaultMethod() (*method, error) {
	m := a.method(a.defaultID)
	if m == nil {
		return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "payment account %s has no default card", a.id)
	}
	return m, nil
}

// injectCardExpired moves the default card's expiry to last month.
func (b *Builtin) injectCardExpired(a *account, now time.Time) (func(), error) {
	m, err := a.defaultMethod()
	if err != nil {
		return nil, err
	}
	month, year := m.ExpMonth, m.ExpYear
	last := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	m.ExpMonth, m.ExpYear = int(last.Month()), last.Year()
	return func() { m.ExpMonth, m.ExpYear = month, year }, nil
}

// injectAppSyncDelay replaces the default card by one that exists only in
// the app and does not sync by itself.
func (b *Builtin) injectAppSyncDelay(a *account, now time.Time, card Card) func() {
	old := a.method(a.defaultID)
	oldIdx := slices.Index(a.methods, old)
	if card == (Card{}) {
		card = Card{Brand: "Visa", Last4: "4242"}
		if old != nil {
			card.Brand = old.Brand
			card.Last4 = fmt.Sprintf("%04d", (atoi4(old.Last4)+1111)%10000)
		}
		exp := now.UTC().AddDate(3, 0, 0)
		card.ExpMonth, card.ExpYear = int(exp.Month()), exp.Year()
	}
	if old != nil {
		a.methods = slices.Delete(a.methods, oldIdx, oldIdx+1)
		a.defaultID = ""
	}
	added := b.newMethod(a, card, now, false) // syncAt zero: only SyncAccount syncs it
	return func() {
		if i := slices.Index(a.methods, added); i >= 0 {
			a.methods = slices.Delete(a.methods, i, i+1)
		}
		if a.defaultID == added.ID {
			a.defaultID = ""
		}
		if old != nil && a.method(old.ID) == nil {
			a.methods = slices.Insert(a.methods, min(oldIdx, len(a.methods)), old)
			a.defaultID = old.ID
		}
	}
}

// injectDuplicateHolds leaves three session-less holds from repeated taps
// on the default card and, unless opts.NoLiveSession, one of a live
// session.
func (b *Builtin) injectDuplicateHolds(a *account, now time.Time, opts FaultOptions) (func(), error) {
	m, err := a.defaultMethod()
	if err != nil {
		return nil, err
	}
	var holds []*Hold
	var attempts []*Authorization
	tap := func(at time.Time, ref string) {
		req := AuthRequest{AccountID: a.id, MethodID: m.ID, AmountCents: DuplicateHoldCents, Currency: a.currency, SessionRef: ref}
		res := b.attempt(a, m, req, nil, at)
		holds = append(holds, b.holds[res.Hold.ID])
		attempts = append(attempts, a.attempts[len(a.attempts)-1])
	}
	if !opts.NoLiveSession {
		tap(now.Add(-20*time.Minute), cmp.Or(opts.SessionRef, "live-session/"+a.id))
	}
	for i := 3; i >= 1; i-- {
		tap(now.Add(-time.Duration(i)*time.Minute), "")
	}
	return func() {
		for _, h := range holds {
			delete(b.holds, h.ID)
			a.holdIDs = slices.DeleteFunc(a.holdIDs, func(id string) bool { return id == h.ID })
		}
		a.attempts = slices.DeleteFunc(a.attempts, func(x *Authorization) bool { return slices.Contains(attempts, x) })
	}, nil
}

// injectHardDecline makes the default card decline every authorization
// with code.
func (b *Builtin) injectHardDecline(a *account, code string) (func(), error) {
	m, err := a.defaultMethod()
	if err != nil {
		return nil, err
	}
	prev := m.hardDecline
	m.hardDecline = code
	return func() { m.hardDecline = prev }, nil
}

// atoi4 parses four ASCII digits.
func atoi4(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
