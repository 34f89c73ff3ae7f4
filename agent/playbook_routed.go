package agent

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/diagnose"
	"github.com/chargedesk/chargedesk/payments"
)

// slowFraction is the share of a connector's rating below which a charging
// session counts as far too slow (a ticket); above it, the car or the site
// explains the power.
const slowFraction = 0.25

// slowCharging answers from meter values and the connector's rating, and
// opens a ticket only when the charger delivers far below its rating while
// the car takes energy.
func (a *Agent) slowCharging(ctx context.Context, s *session, v diagnose.View) error {
	var tx *chargedesk.Transaction
	for _, t := range v.Active {
		if t.ConnectorID == s.c.ConnectorID {
			tx = t
		}
	}
	if tx == nil {
		s.say(keySlowNoSession, s.c.ConnectorID)
		s.resolved()
		return nil
	}
	rating := 0.0
	for _, sp := range v.Specs {
		if sp.ID == s.c.ConnectorID {
			rating = sp.MaxPowerKW
		}
	}
	power, soc, ok, err := a.latestPower(ctx, s, tx.ID)
	if err != nil {
		return err
	}
	if !ok {
		t0 := a.now()
		res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ConnectorID: s.c.ConnectorID, Trigger: "TransactionEvent"}, "read the session's power")
		if err != nil {
			return err
		}
		if res.Status == chargedesk.ResultAccepted {
			_, _ = a.waitOK(ctx, s.c.ChargerID, a.verify, func() (bool, error) {
				ms, err := a.store.MeterValues(ctx, s.c.ChargerID, tx.ID, 1)
				return err == nil && len(ms) > 0 && !ms[len(ms)-1].At.Before(t0.Add(-a.verify)), err
			})
		}
		if power, soc, ok, err = a.latestPower(ctx, s, tx.ID); err != nil {
			return err
		}
	}
	if !ok {
		return a.fieldService(ctx, s, fmt.Sprintf("slow charging reported on %s connector %d; no power reading", s.c.ChargerID, s.c.ConnectorID), keySlowTicket)
	}
	switch {
	case soc >= 80:
		s.resolved()
		s.say(keySlowTaper, power, soc)
	case rating > 0 && power < slowFraction*rating:
		t, err := a.openTicket(ctx, s, TicketFieldService,
			fmt.Sprintf("%s connector %d delivers %.1f kW of a %.0f kW rating", s.c.ChargerID, s.c.ConnectorID, power, rating),
			map[string]any{"powerKW": power, "ratingKW": rating, "transactionId": tx.ID})
		if err != nil {
			return err
		}
		s.escalated()
		s.say(keySlowLow, power, rating, t.ID)
	case rating <= 0:
		// The connector's rating is not on record: no comparison to make.
		s.resolved()
		s.say(keySlowNormalUnrated, power)
	default:
		s.resolved()
		s.say(keySlowNormal, power, rating)
	}
	return nil
}

// latestPower returns the newest power sample of a transaction in kW and
// the newest state of charge (-1 when unknown).
func (a *Agent) latestPower(ctx context.Context, s *session, txID string) (kw, soc float64, ok bool, err error) {
	ms, err := a.store.MeterValues(ctx, s.c.ChargerID, txID, 500)
	if err != nil {
		return 0, 0, false, fmt.Errorf("agent: meter values: %w", err)
	}
	soc = -1
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		switch m.Measurand {
		case "Power.Active.Import":
			if !ok {
				kw, ok = m.Value, true
				if !strings.EqualFold(m.Unit, "kW") {
					kw /= 1000
				}
			}
		case "SoC":
			if soc < 0 {
				soc = m.Value
			}
		}
	}
	return kw, soc, ok, nil
}

// billingDispute opens a billing ticket with the driver's recent
// transactions and holds. It never promises a refund.
func (a *Agent) billingDispute(ctx context.Context, s *session) error {
	if acct, err := a.paymentAccount(ctx, s); err == nil && acct != "" {
		// Several pending holds from repeated taps read as double charges:
		// releasing the ones without a session is the fix.
		if holds, err := a.pay.Holds(ctx, acct, payments.HoldPending); err == nil && len(payments.HoldsWithoutSession(holds)) > 0 {
			return a.paymentPlaybook(ctx, s, diagnose.CodeDuplicateHolds)
		}
	}
	var txs []map[string]any
	for tag := range a.driverTags(ctx, s.c.DriverID) {
		list, err := a.store.Transactions(ctx, chargedesk.TransactionFilter{IDTag: tag, Limit: 10})
		if err != nil {
			return fmt.Errorf("agent: transactions: %w", err)
		}
		for _, tx := range list {
			e := map[string]any{"id": tx.ID, "chargerId": tx.ChargerID, "connectorId": tx.ConnectorID, "idTag": tx.IDTag,
				"startedAt": tx.StartedAt, "meterStartWh": tx.MeterStartWh}
			if !tx.Active() {
				e["stoppedAt"], e["energyWh"] = tx.StoppedAt, tx.MeterStopWh-tx.MeterStartWh
			}
			txs = append(txs, e)
		}
	}
	extra := map[string]any{"transactions": txs}
	if acct, err := a.paymentAccount(ctx, s); err == nil && acct != "" {
		if holds, err := a.pay.Holds(ctx, acct, ""); err == nil {
			extra["holds"] = holds
		}
		if last, err := a.pay.LastAuthorization(ctx, acct); err == nil {
			extra["lastAuthorization"] = last
		}
	}
	t, err := a.openTicket(ctx, s, TicketBilling, fmt.Sprintf("Billing dispute from driver %s (%d recent transactions attached)", s.c.DriverID, len(txs)), extra)
	if err != nil {
		return err
	}
	s.escalated()
	s.say(keyBillingTicket, t.ID)
	return nil
}

// hardwareDamage handles reported damage: a field-service ticket, and the
// driver sent to the nearest alternative. Only a clear hazard description
// (clearHazard) takes the connector out of service at once
// (ChangeAvailability Inoperative), and the agent does that once per
// charger a day: after that, or for anything less clear, people decide.
func (a *Agent) hardwareDamage(ctx context.Context, s *session) error {
	hazard := s.d.Hazard || clearHazard(s.text) || visibleWires(s.text)
	s.d.Hazard = s.d.Hazard || hazard
	extra := map[string]any{"hazard": hazard, "report": s.text}
	outOfService := false
	if hazard {
		done, err := a.agentTookOutOfService(ctx, s.c.ChargerID)
		if err != nil {
			return err
		}
		if done {
			extra["outOfService"] = "not sent: the agent already took a connector of this charger out of service today"
		} else {
			res, err := a.send(ctx, s, chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, ConnectorID: s.c.ConnectorID,
				Availability: chargedesk.AvailabilityInoperative}, "safety: driver reports a hazard: "+textcut.Bytes(s.text, 200))
			if err != nil {
				return err
			}
			extra["outOfService"] = res.Status
			outOfService = res.Status == chargedesk.ResultAccepted || res.Status == chargedesk.ResultScheduled
		}
	}
	tk, err := a.openTicket(ctx, s, TicketFieldService, fmt.Sprintf("Damage reported at %s connector %d", s.c.ChargerID, s.c.ConnectorID), extra)
	if err != nil {
		return err
	}
	s.escalated()
	if outOfService {
		s.say(keyDamageUnsafe, s.c.ConnectorID, tk.ID)
	} else {
		s.say(keyDamageTicket, tk.ID)
	}
	return a.sendToNearest(ctx, s)
}

// visibleWiresPhrases describe a cable open far enough to show its
// conductors, as folded word sequences: as clear a hazard as the phrases
// clearHazard knows.
var visibleWiresPhrases = [][]string{
	{"see", "the", "wires"}, {"see", "wires"}, {"see", "the", "wiring"}, {"see", "the", "copper"}, {"wires", "are", "visible"}, {"wires", "visible"},
	{"visible", "wires"}, {"wires", "are", "showing"}, {"wires", "showing"}, {"wires", "hanging", "out"}, {"wires", "poking", "out"},
	{"wires", "coming", "out"}, {"wires", "are", "out"},
	{"voit", "les", "fils"}, {"voir", "les", "fils"}, {"fils", "visibles"}, {"fils", "sont", "visibles"}, {"fils", "apparents"},
	{"fils", "sont", "apparents"}, {"fils", "sortent"}, {"fils", "electriques", "sortent"}, {"fils", "exposes"}, {"fils", "sont", "exposes"},
	{"se", "ven", "los", "cables"}, {"se", "ven", "los", "alambres"}, {"se", "ven", "cables"}, {"se", "ven", "alambres"},
	{"se", "ven", "los", "hilos"}, {"cables", "a", "la", "vista"}, {"alambres", "a", "la", "vista"}, {"cables", "visibles"},
	{"alambres", "visibles"}, {"alambres", "expuestos"}, {"alambres", "salidos"}, {"cables", "salidos"},
}

// visibleWires reports whether a report says the cable's wires can be
// seen.
func visibleWires(text string) bool {
	return matchPhrases(text, visibleWiresPhrases)
}

// matchPhrases reports whether the folded words of text hold one of the
// phrases as consecutive words. Words of four letters or more also match
// with one typo (a letter dropped or added, or two swapped), as
// typed messages carry them.
func matchPhrases(text string, phrases [][]string) bool {
	words := strings.FieldsFunc(fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, p := range phrases {
		for i := 0; i+len(p) <= len(words); i++ {
			ok := true
			for j, w := range p {
				if !nearWord(words[i+j], w) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// nearWord reports whether got is want, or for words of four letters or
// more, want with one typo.
func nearWord(got, want string) bool {
	if got == want {
		return true
	}
	g, w := []rune(got), []rune(want)
	if len(w) < 4 || len(g) < 3 {
		return false
	}
	switch len(g) - len(w) {
	case 0:
		diff := []int{}
		for i := range g {
			if g[i] != w[i] {
				diff = append(diff, i)
			}
		}
		if len(diff) != 2 {
			return false
		}
		i, j := diff[0], diff[1]
		return j == i+1 && g[i] == w[j] && g[j] == w[i]
	case -1:
		return oneDropped(w, g)
	case 1:
		return oneDropped(g, w)
	}
	return false
}

// oneDropped reports whether short is long with one letter removed.
func oneDropped(long, short []rune) bool {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	for ; i < len(short); i++ {
		if long[i+1] != short[i] {
			return false
		}
	}
	return true
}
