package agent

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/chargedesk/chargedesk"
)

// maskCardNumbers replaces every run of 13 to 19 digits (spaces and dashes
// allowed between them) with a mask that keeps only the last four, and
// reports whether it found one. A full card number must never be stored.
func maskCardNumbers(text string) (string, bool) {
	rs := []rune(text)
	var b strings.Builder
	found := false
	for i := 0; i < len(rs); {
		if !unicode.IsDigit(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		// Extend the run over digits and single separators.
		j, digits, end := i, 0, i
		for j < len(rs) {
			if unicode.IsDigit(rs[j]) {
				digits++
				j++
				end = j
				continue
			}
			if (rs[j] == ' ' || rs[j] == '-' || rs[j] == '.') && j+1 < len(rs) && unicode.IsDigit(rs[j+1]) {
				j++
				continue
			}
			break
		}
		run := string(rs[i:end])
		if digits >= 13 && digits <= 19 {
			found = true
			var ds []rune
			for _, r := range run {
				if unicode.IsDigit(r) {
					ds = append(ds, r)
				}
			}
			b.WriteString("[card ending " + string(ds[len(ds)-4:]) + "]")
		} else {
			b.WriteString(run)
		}
		i = end
	}
	return b.String(), found
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
	fields := strings.FieldsFunc(s.text, func(r rune) bool { return !unicode.IsDigit(r) })
	for _, f := range fields {
		if len(f) == 4 {
			return f
		}
	}
	return ""
}

// identify binds the caller to a driver account: by the phone number on
// file (at Start for SMS and voice), or by a driver found from a phone
// number or a token the caller gives, confirmed by the last four digits of
// a card on file.
func (a *Agent) identify(ctx context.Context, s *session) error {
	if s.verified() {
		return nil
	}
	if s.d.PendingDriver == "" {
		id, err := a.findDriver(ctx, s)
		if err != nil {
			return err
		}
		if id == "" {
			return nil
		}
		s.d.PendingDriver = id
		if s.d.Ask == askIdentity {
			s.d.Ask, s.d.Asked = "", 0
		}
	}
	l4 := last4InText(s)
	if l4 == "" {
		return nil
	}
	ok, err := a.cardOnFile(ctx, s.d.PendingDriver, l4)
	if err != nil {
		return err
	}
	if !ok {
		s.say(keyLast4NoMatch)
		return nil
	}
	s.c.DriverID, s.c.Verified = s.d.PendingDriver, chargedesk.VerifiedCard
	s.d.PendingDriver = ""
	if s.d.Ask == askLast4 || s.d.Ask == askIdentity {
		s.d.Ask, s.d.Asked = "", 0
	}
	return nil
}

// findDriver returns the driver a caller names by a phone number or a token
// id in their message, or "".
func (a *Agent) findDriver(ctx context.Context, s *session) (string, error) {
	if p := phoneInText(s.text); p != "" && chargedesk.ValidPhone(p) {
		d, err := a.store.DriverByPhone(ctx, p)
		if err == nil {
			return d.ID, nil
		}
		if !notFound(err) {
			return "", fmt.Errorf("agent: driver by phone: %w", err)
		}
	}
	for _, w := range strings.FieldsFunc(s.text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_')
	}) {
		if len(w) < 6 || len(w) > chargedesk.MaxIDTagLen || !strings.ContainsAny(w, "0123456789") {
			continue
		}
		for _, cand := range []string{w, strings.ToUpper(w)} {
			t, err := a.store.Token(ctx, cand)
			if err == nil && t.DriverID != "" {
				return t.DriverID, nil
			}
			if err != nil && !notFound(err) {
				return "", fmt.Errorf("agent: token: %w", err)
			}
		}
	}
	return "", nil
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
