package agent

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/chargedesk/chargedesk"
)

// cardSep reports whether r may stand between the digits of a card
// number as people type them.
func cardSep(r rune) bool {
	switch r {
	case ' ', '-', '/', '_', '.', '\t', '\u00a0', '\u2009', '\u202f', '\u2013', '\u2014', '\u2010', '\u2011', '\u3000':
		return true
	}
	return false
}

// digitOf returns the value of an ASCII or full-width digit, or -1.
func digitOf(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '\uff10' && r <= '\uff19':
		return int(r - '\uff10')
	}
	return -1
}

// digitRun is a run of digits joined by separators.
type digitRun struct {
	start, end int    // runes [start, end)
	digits     []byte // the digits, ASCII
}

// digitRuns returns the runs of digits of rs; any number of separators
// (cardSep) may stand between two digits of a run.
func digitRuns(rs []rune) []digitRun {
	var out []digitRun
	for i := 0; i < len(rs); {
		if digitOf(rs[i]) < 0 {
			i++
			continue
		}
		run := digitRun{start: i}
		j := i
		for j < len(rs) {
			if d := digitOf(rs[j]); d >= 0 {
				run.digits = append(run.digits, byte('0'+d))
				j++
				run.end = j
				continue
			}
			k := j
			for k < len(rs) && cardSep(rs[k]) && k-j < 4 {
				k++
			}
			if k > j && k < len(rs) && digitOf(rs[k]) >= 0 {
				j = k
				continue
			}
			break
		}
		out = append(out, run)
		i = run.end
	}
	return out
}

// luhn reports whether digits pass the Luhn check of card numbers.
func luhn(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// cardLast4 returns the last four digits of the card number in a run of
// 13 or more digits: of the first 13 to 19 digit window that passes Luhn
// (a number followed by its expiry and CVC), else of its first 19.
func cardLast4(d []byte) string {
	for off := 0; off+13 <= len(d); off++ {
		for n := min(19, len(d)-off); n >= 13; n-- {
			if luhn(d[off : off+n]) {
				return string(d[off+n-4 : off+n])
			}
		}
	}
	n := min(19, len(d))
	return string(d[n-4 : n])
}

// attachedToWord reports whether the run is part of an identifier such as
// a charger id ("CDA-FRE-0042", "TAG00001").
func attachedToWord(rs []rune, r digitRun) bool {
	i := r.start - 1
	if i >= 0 && (rs[i] == '-' || rs[i] == '_') {
		i--
	}
	if i >= 0 && unicode.IsLetter(rs[i]) {
		return true
	}
	return r.end < len(rs) && unicode.IsLetter(rs[r.end])
}

// isPhoneRun reports whether a run reads as a phone number.
func isPhoneRun(rs []rune, r digitRun) bool {
	if r.start > 0 && rs[r.start-1] == '+' {
		return true
	}
	return phoneInText(string(rs[r.start:r.end])) != ""
}

// maskCardNumbers removes card numbers from a driver's message before it
// is understood or stored anywhere (turns, understanding, conversation
// data, ticket transcripts):
//   - any run of 13 or more digits, separators allowed (spaces, -, /, _,
//     ., repeated), is replaced by "[card ending NNNN]", NNNN the last
//     four of the Luhn-valid card number in it: a number within a longer
//     run (followed by its expiry and CVC) is found too. full reports it;
//   - a run of 8 to 12 digits that is not a phone number nor part of an
//     identifier is a partial card number: "[card digits removed]", and
//     partial reports it;
//   - when the driver's previous message had a full or partial number
//     (cardCtx), the rest of a number split across messages is masked
//     too: every group of four digits or more becomes "[card ending
//     NNNN]" (a bare last four stays readable that way), and one of five
//     digits or more counts as full;
//   - in a message with a full number, every other group of three digits
//     or more (an expiry date, a security code) is removed too.
func maskCardNumbers(text string, cardCtx bool) (masked string, full, partial bool) {
	rs := []rune(text)
	runs := digitRuns(rs)
	for _, r := range runs {
		if n := len(r.digits); n >= 13 || cardCtx && n >= 5 && !attachedToWord(rs, r) {
			full = true
		}
	}
	var b strings.Builder
	last := 0
	for _, r := range runs {
		n := len(r.digits)
		var repl string
		switch {
		case n >= 13:
			repl = "[card ending " + cardLast4(r.digits) + "]"
		case cardCtx && n >= 4 && !attachedToWord(rs, r):
			repl = "[card ending " + string(r.digits[n-4:]) + "]"
		case full && n >= 3 && !attachedToWord(rs, r):
			// The expiry date and security code that go with a card number.
			repl = "[card details removed]"
		case n >= 8 && !attachedToWord(rs, r) && !isPhoneRun(rs, r):
			repl, partial = "[card digits removed]", true
		default:
			continue
		}
		b.WriteString(string(rs[last:r.start]))
		b.WriteString(repl)
		last = r.end
	}
	b.WriteString(string(rs[last:]))
	return b.String(), full, partial
}

// phoneInText returns the first phone number in text as E.164 (North
// American numbers without a country code get +1), or "".
func phoneInText(text string) string {
	var cur []rune
	plus := false
	flush := func() string {
		d := string(cur)
		cur, plus = cur[:0], false
		switch {
		case len(d) == 10 && d[0] != '0' && d[0] != '1':
			return "+1" + d
		case len(d) == 11 && d[0] == '1':
			return "+" + d
		case plus && len(d) >= 8 && len(d) <= 15:
			return "+" + d
		}
		return ""
	}
	rs := []rune(text)
	for i, r := range rs {
		switch {
		case unicode.IsDigit(r):
			cur = append(cur, r)
		case r == '+' && len(cur) == 0:
			plus = true
		case (r == ' ' || r == '-' || r == '.' || r == '(' || r == ')') && len(cur) > 0 && i+1 < len(rs):
			// separators inside a number
		case r == '(' && len(cur) == 0:
		default:
			if len(cur) > 0 {
				if p := flush(); p != "" {
					return p
				}
			}
			plus = false
		}
	}
	if len(cur) > 0 {
		return flush()
	}
	return ""
}

// last4InText returns four digits the driver gave as the end of a card,
// from the understanding or a bare four-digit number.
func last4InText(s *session) string {
	if l := s.u.Slots.CardLast4; len(l) == 4 {
		return l
	}
	rs := []rune(s.text)
	for _, r := range digitRuns(rs) {
		if len(r.digits) == 4 && !attachedToWord(rs, r) {
			return string(r.digits)
		}
	}
	return ""
}

// Identity rule. A caller is bound to a driver account in one of two
// ways:
//   - an SMS from the phone number on file (at Start); a call from it
//     only names the account (a caller ID is easily made up), and the
//     last four digits below are still asked;
//   - the phone number on file, given in the conversation (the claim),
//     confirmed by the last four digits of a payment card on file (the
//     proof). A charging card's printed id is not accepted as a claim: it
//     is on the card, on receipts and once was in the agent's own answers,
//     so it proves nothing. The answer to a phone number is the same
//     whether or not it belongs to a customer (the last four are asked),
//     so that the agent does not tell who is one.
//
// Failed proofs are counted per driver in the audit log
// (verifyFailureKind, CommandID "verify:<driver>"), across conversations:
// after maxVerifyFailures within verifyWindow the agent does not check
// digits for that driver any more and hands the caller to a person. A
// conversation that was escalated stops checking digits too.
//
// A third, narrower binding serves only to release a cable after a
// session ended: the connector and the start time of its last session
// (see bindSession). It does not verify the caller for anything else.

// Verification limits.
const (
	maxVerifyFailures = 3
	verifyWindow      = 24 * time.Hour
	verifyFailureKind = "verify.failed"
	// noDriver is the pending driver of a caller whose phone number is not
	// a customer's: the dialogue goes on as for one, and never matches.
	noDriver = "-"
)

// identify binds the caller to a driver account (see the identity rule).
func (a *Agent) identify(ctx context.Context, s *session) error {
	noteHolds(s)
	if s.verified() || s.d.VerifyLocked || s.prev == chargedesk.ConversationEscalated {
		return nil
	}
	if s.d.PendingDriver == "" {
		p := phoneInText(s.text)
		if p == "" || !chargedesk.ValidPhone(p) {
			return nil
		}
		id := noDriver
		d, err := a.store.DriverByPhone(ctx, p)
		switch {
		case err == nil:
			id = d.ID
		case !notFound(err):
			return fmt.Errorf("agent: driver by phone: %w", err)
		}
		s.d.PendingDriver = id
		if s.d.Ask == askIdentity {
			s.d.Ask, s.d.Asked = "", 0
		}
		// The digits of the phone number are not an answer to the last
		// four; a card's end named as such ("my card ends in 4242") in
		// the same message is.
		if l := s.u.Slots.CardLast4; len(l) != 4 || strings.HasSuffix(p, l) {
			return nil
		}
	}
	if s.d.Ask != askLast4 && s.d.Ask != askIdentity && s.u.Slots.CardLast4 == "" {
		// Bare digits answer the question asked (a charger's "0041"), not
		// a card check nobody asked for.
		return nil
	}
	l4 := last4InText(s)
	if l4 == "" {
		return nil
	}
	pending := s.d.PendingDriver
	if pending != noDriver {
		n, err := a.verifyFailures(ctx, pending)
		if err != nil {
			return err
		}
		if n >= maxVerifyFailures {
			s.d.VerifyLocked = true
			return nil
		}
	}
	ok := false
	if pending != noDriver {
		var err error
		if ok, err = a.cardOnFile(ctx, pending, l4); err != nil {
			return err
		}
		if !ok {
			// A card just added in the app is not on file until the
			// account syncs: pull it (audited) and compare again.
			if ok, err = a.cardAfterSync(ctx, s, pending, l4); err != nil {
				return err
			}
		}
	}
	if !ok {
		tries := s.try("verify_failed") + 1
		n := tries
		if pending != noDriver {
			if err := a.recordVerifyFailure(ctx, s, pending, "card_last4"); err != nil {
				return err
			}
			var err error
			if n, err = a.verifyFailures(ctx, pending); err != nil {
				return err
			}
		}
		s.say(keyLast4NoMatch)
		if n >= maxVerifyFailures || tries >= maxVerifyFailures {
			s.d.VerifyLocked = true
		}
		return nil
	}
	s.c.DriverID, s.c.Verified = pending, chargedesk.VerifiedCard
	s.d.PendingDriver = ""
	if s.d.Ask == askLast4 || s.d.Ask == askIdentity {
		s.d.Ask, s.d.Asked = "", 0
	}
	return nil
}

// verifyKey is the audit CommandID under which a driver's failed
// verifications are recorded.
func verifyKey(driverID string) string { return "verify:" + driverID }

// recordVerifyFailure appends a failed verification of driverID to the
// audit log.
func (a *Agent) recordVerifyFailure(ctx context.Context, s *session, driverID, method string) error {
	e := &chargedesk.AuditEntry{At: a.now(), Actor: chargedesk.AgentActorPrefix + s.c.ID, CommandID: verifyKey(driverID),
		Kind: verifyFailureKind, Stage: chargedesk.AuditOutcome, Outcome: "mismatch", Reason: method}
	if err := a.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		return fmt.Errorf("agent: record failed verification: %w", err)
	}
	a.log.WarnContext(ctx, "verification failed", "conversation_id", s.c.ID, "method", method)
	return nil
}

// verifyFailures counts a driver's failed verifications within
// verifyWindow, across all conversations.
func (a *Agent) verifyFailures(ctx context.Context, driverID string) (int, error) {
	since := a.now().Add(-verifyWindow)
	n := 0
	var after int64
	for {
		es, err := a.store.AuditEntries(ctx, chargedesk.AuditFilter{CommandID: verifyKey(driverID), AfterSeq: after, Limit: 1000})
		if err != nil {
			return 0, fmt.Errorf("agent: read failed verifications: %w", err)
		}
		for _, e := range es {
			if e.Kind == verifyFailureKind && e.At.After(since) {
				n++
			}
		}
		if len(es) < 1000 {
			return n, nil
		}
		after = es[len(es)-1].Seq
	}
}

// cardOnFile reports whether the driver has a payment card ending in last4.
func (a *Agent) cardOnFile(ctx context.Context, driverID, last4 string) (bool, error) {
	if a.pay == nil {
		return false, nil
	}
	d, err := a.store.Driver(ctx, driverID)
	if err != nil {
		return false, fmt.Errorf("agent: driver: %w", err)
	}
	if d.PaymentAccountID == "" {
		return false, nil
	}
	ms, err := a.pay.Methods(ctx, d.PaymentAccountID)
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("agent: payment methods: %w", err)
	}
	for _, m := range ms {
		if m.Last4 == last4 {
			return true, nil
		}
	}
	return false, nil
}

// cardAfterSync syncs the driver's payment account through the audited
// payment gate when it holds a card not yet synced from the app, then
// reports whether a card ending in last4 is on file. It does nothing while
// the agent is switched off.
func (a *Agent) cardAfterSync(ctx context.Context, s *session, driverID, last4 string) (bool, error) {
	if a.pay == nil || !a.on() {
		return false, nil
	}
	d, err := a.store.Driver(ctx, driverID)
	if err != nil {
		return false, fmt.Errorf("agent: driver: %w", err)
	}
	if d.PaymentAccountID == "" {
		return false, nil
	}
	ms, err := a.pay.Methods(ctx, d.PaymentAccountID)
	if err != nil {
		return false, nil
	}
	pending := false
	for _, m := range ms {
		pending = pending || !m.Synced
	}
	if !pending {
		return false, nil
	}
	ran, err := a.payGate(ctx, s, paySync, d.PaymentAccountID, "pull cards added in the app before checking the card's last 4", func() (string, error) {
		synced, err := a.pay.SyncAccount(ctx, d.PaymentAccountID)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d synced", len(synced)), nil
	})
	if !ran {
		return false, err
	}
	if err != nil {
		a.log.WarnContext(ctx, "account sync before verification failed", "conversation_id", s.c.ID, "err", err)
		return false, nil
	}
	return a.cardOnFile(ctx, driverID, last4)
}
