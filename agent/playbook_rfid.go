package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/diagnose"
)

// rfidPlaybook handles "my card is not accepted": a token the backend
// refuses (explain, route to the account team, never authorize it), a
// charger whose local list or cache is out of date (push the update, clear
// the cache, then start), a broken reader (start for the verified account
// and ticket the reader).
func (a *Agent) rfidPlaybook(ctx context.Context, s *session, v diagnose.View, cause diagnose.Cause) error {
	if ok, err := a.requireIdentity(ctx, s); !ok || err != nil {
		return err
	}
	code := cause.Code
	if (code == diagnose.CodeLocalListStale || code == diagnose.CodeNoFaultSeen) && s.d.ReaderSilent {
		// A 2.0.1 charger cannot report a dead reader in its status; the
		// driver's "nothing happens when I tap" tells it from a refusal.
		code = diagnose.CodeReaderFault
		s.d.Cause = code
	}
	switch code {
	case diagnose.CodeTokenBlocked, diagnose.CodeTokenExpired, diagnose.CodeTokenUnknown:
		return a.tokenProblem(ctx, s)
	case diagnose.CodeReaderFault:
		if err := a.startSession(ctx, s, false); err != nil {
			return err
		}
		if _, err := a.openTicket(ctx, s, TicketFieldService, fmt.Sprintf("RFID reader of %s does not read cards", s.c.ChargerID), nil); err != nil {
			return err
		}
		s.say(keyReaderTicket)
		return nil
	}
	tok, err := a.usableToken(ctx, s)
	if err != nil {
		return err
	}
	if tok == nil {
		return a.tokenProblem(ctx, s)
	}
	if err := a.refreshAuthorization(ctx, s, tok); err != nil {
		return err
	}
	if s.c.Status != chargedesk.ConversationOpen {
		return nil
	}
	// With the card's data put right, a start the charger still refuses
	// or ignores is the charger's controller: startSession may reset once.
	return a.startSession(ctx, s, true)
}

// refreshAuthorization brings the charger's own authorization data in line
// with the backend for a token the backend accepts: a differential local
// list update one version above the charger's, and a cleared cache.
func (a *Agent) refreshAuthorization(ctx context.Context, s *session, tok *chargedesk.Token) error {
	res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdGetLocalListVersion}, "read the local list version before updating it")
	if err != nil {
		return err
	}
	switch res.Status {
	case chargedesk.ResultChargerOffline, chargedesk.ResultTimeout:
		return a.commDrop(ctx, s)
	case chargedesk.ResultAccepted:
		// Every valid card of the caller's, not only the one a start would
		// use: the card they tapped may be another.
		toks, err := a.usableTokens(ctx, s)
		if err != nil {
			return err
		}
		if len(toks) == 0 {
			toks = []*chargedesk.Token{tok}
		}
		var entries []chargedesk.LocalListEntry
		for _, t := range toks {
			if len(t.IDTag) > 20 && len(toks[0].IDTag) <= 20 {
				continue // longer than an OCPP 1.6 idTag; the shorter ones go
			}
			entries = append(entries, chargedesk.LocalListEntry{IDTag: t.IDTag, Status: chargedesk.AuthAccepted, ExpiresAt: t.ExpiresAt, ParentIDTag: t.ParentIDTag})
		}
		version := max(res.ListVersion, 0) + 1
		if _, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdSendLocalList, UpdateType: chargedesk.UpdateDifferential,
			ListVersion: version, LocalList: entries}, "the charger's local list may hold the caller's valid tokens as invalid"); err != nil {
			return err
		}
	}
	if _, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdClearCache}, "the charger's cache may hold the caller's valid token as invalid"); err != nil {
		return err
	}
	return nil
}

// tokenProblem explains why the caller's card is refused, never authorizes
// it, and routes the account to the people who can fix it.
func (a *Agent) tokenProblem(ctx context.Context, s *session) error {
	toks, err := a.store.Tokens(ctx, chargedesk.TokenFilter{DriverID: s.c.DriverID, Limit: 100})
	if err != nil {
		return fmt.Errorf("agent: tokens: %w", err)
	}
	now := a.now()
	key, tag, verdict := keyTokenUnknown, "", chargedesk.AuthUnknown
	for _, t := range toks {
		switch t.Verdict(now) {
		case chargedesk.AuthBlocked:
			key, tag, verdict = keyTokenBlocked, t.IDTag, chargedesk.AuthBlocked
		case chargedesk.AuthExpired:
			if verdict != chargedesk.AuthBlocked {
				key, tag, verdict = keyTokenExpired, t.IDTag, chargedesk.AuthExpired
			}
		case chargedesk.AuthInvalid:
			if verdict == chargedesk.AuthUnknown {
				key, tag, verdict = keyTokenBlocked, t.IDTag, chargedesk.AuthInvalid
			}
		}
	}
	if s.d.Cause == "" || s.d.Cause == diagnose.CodeNoFaultSeen {
		s.d.Cause = map[chargedesk.AuthStatus]string{chargedesk.AuthBlocked: diagnose.CodeTokenBlocked, chargedesk.AuthInvalid: diagnose.CodeTokenBlocked,
			chargedesk.AuthExpired: diagnose.CodeTokenExpired, chargedesk.AuthUnknown: diagnose.CodeTokenUnknown}[verdict]
	}
	t, err := a.openTicket(ctx, s, TicketAccount, fmt.Sprintf("Driver's card %s is %s in the backend", orDash(tag), verdict),
		map[string]any{"idTag": tag, "verdict": verdict})
	if err != nil {
		return err
	}
	s.escalated()
	if tag == "" {
		s.say(key, t.ID)
	} else {
		s.say(key, tag, t.ID)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readerWords reports whether the driver describes a reader that does not
// react at all, rather than a card refused.
func readerWords(text string) bool {
	t := fold(text)
	for _, w := range []string{"invalid", "refus", "reject", "declin", "rechaz", "not accepted", "pas accepte", "no acepta",
		"credit", "debit", "bank card", "visa", "mastercard", "amex", "interac", "carte bancaire", "tarjeta bancaria"} {
		if strings.Contains(t, w) {
			// The reader read the card and said no, or it is the payment
			// terminal, not the charging-card reader.
			return false
		}
	}
	for _, w := range []string{"reader", "nothing happens", "does nothing", "no beep", "doesn't beep", "not reading", "doesn't react",
		"lecteur", "rien ne se passe", "ne lit pas", "ne reagit pas", "aucune reaction", "lector", "no pasa nada", "no lee",
		"no hace nada", "no reacciona"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}
