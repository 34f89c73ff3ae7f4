package policy

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// AgentLimits bound what the support agent may do, on top of the rules
// every command passes. The zero value takes the defaults.
type AgentLimits struct {
	// PerCharger, PerConversation (also per driver) and Network bound
	// agent commands in any Window (defaults 10, 12 and 200 per 10
	// minutes).
	PerCharger, PerConversation, Network int
	Window                               time.Duration
	// Retries bounds how often the same command (kind, charger, connector)
	// may be sent again within Window, by any conversation (default 1: one
	// retry).
	Retries int
	// StaleAfter is how long a transaction must have shown no energy before
	// it can count as stale (default 5 minutes).
	StaleAfter time.Duration
	// Allowed, when not empty, narrows the commands the agent may send to
	// these kinds (a network beside its own CSMS may let it only unlock and
	// trigger, say); it never widens them past what the agent may send at
	// all.
	Allowed []chargedesk.CommandKind
}

func (l *AgentLimits) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.PerCharger, 10)
	def(&l.PerConversation, 12)
	def(&l.Network, 200)
	def(&l.Retries, 1)
	if l.Window == 0 {
		l.Window = 10 * time.Minute
	}
	if l.StaleAfter == 0 {
		l.StaleAfter = DefaultStaleAfter
	}
}

// AgentKinds lists the commands the agent may send at all, in a fixed
// order; AgentLimits.Allowed may narrow them.
func AgentKinds() []chargedesk.CommandKind {
	var out []chargedesk.CommandKind
	for _, k := range chargedesk.CommandKinds {
		if agentKinds[k] {
			out = append(out, k)
		}
	}
	return out
}

// agentKinds are the commands the agent may send at all. Configuration
// changes, data transfers and hard resets are for operators.
var agentKinds = map[chargedesk.CommandKind]bool{
	chargedesk.CmdRemoteStart: true, chargedesk.CmdRemoteStop: true, chargedesk.CmdReset: true,
	chargedesk.CmdUnlockConnector: true, chargedesk.CmdTriggerMessage: true, chargedesk.CmdChangeAvailability: true,
	chargedesk.CmdClearCache: true, chargedesk.CmdSendLocalList: true, chargedesk.CmdGetLocalListVersion: true,
	chargedesk.CmdGetConfiguration: true,
}

// agentRules holds the agent's kill switch and rate-limit state.
type agentRules struct {
	mu       sync.Mutex
	disabled bool
	sent     []sentCommand // within the window, oldest first
}

type sentCommand struct {
	at                     time.Time
	actor, driver, charger string
	kind                   chargedesk.CommandKind
	connector              int
	detail                 string // what distinguishes repeats (the trigger, the reset type)
}

// SetAgentEnabled is the kill switch: while off, every command of the
// support agent is refused (operators' commands are not affected). With
// Switches it is stored for every node (see Switches.SetAgentEnabled).
func (r *Rules) SetAgentEnabled(on bool) {
	if r.Switches != nil {
		r.Switches.SetAgentEnabled(on)
		return
	}
	r.agent.mu.Lock()
	r.agent.disabled = !on
	r.agent.mu.Unlock()
}

// AgentEnabled reports the kill switch's position.
func (r *Rules) AgentEnabled() bool {
	if r.Switches != nil {
		return r.Switches.AgentEnabled()
	}
	r.agent.mu.Lock()
	defer r.agent.mu.Unlock()
	return !r.agent.disabled
}

// WithDefaults returns the limits with the defaults applied to the fields
// left zero: the limits in force.
func (l AgentLimits) WithDefaults() AgentLimits {
	l.defaults()
	return l
}

// checkAgent applies the agent's rules: the kill switch, the kinds it may
// send, verified ownership of what it touches, and rate limits. It records
// an allowed command against the limits.
func (r *Rules) checkAgent(ctx context.Context, ch *chargedesk.Charger, cmd chargedesk.Command) (chargedesk.Decision, error) {
	l := r.AgentLimits
	l.defaults()
	if !r.AgentEnabled() {
		return refuse("the support agent is switched off (kill switch)"), nil
	}
	if !agentKinds[cmd.Kind] {
		return refuse("the support agent may not send %s", cmd.Kind), nil
	}
	if len(l.Allowed) > 0 && !slices.Contains(l.Allowed, cmd.Kind) {
		return refuse("the operator does not let the support agent send %s", cmd.Kind), nil
	}
	switch cmd.Kind {
	case chargedesk.CmdReset:
		if cmd.ResetType != chargedesk.ResetSoft {
			return refuse("the support agent may only soft-reset"), nil
		}
		// Even a 2.0.1 OnIdle reset, which waits for the session, reboots
		// the charger under another driver's feet later: never while any
		// connector has a session.
		active, err := r.active(ctx, ch.ID, 0)
		if err != nil {
			return chargedesk.Decision{}, err
		}
		if active != nil {
			return refuse("soft reset refused: transaction %s is active on connector %d", active.ID, active.ConnectorID), nil
		}
	case chargedesk.CmdSendLocalList:
		if cmd.UpdateType != chargedesk.UpdateDifferential {
			return refuse("the support agent may only send differential local list updates"), nil
		}
	case chargedesk.CmdRemoteStart:
		if cmd.DriverID == "" {
			return refuse("remote start needs a caller verified as the token's driver"), nil
		}
		t, err := r.Store.Token(ctx, cmd.IDTag)
		if err != nil && chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			return chargedesk.Decision{}, err
		}
		if t == nil || t.DriverID != cmd.DriverID {
			return refuse("token %s does not belong to the verified caller", cmd.IDTag), nil
		}
	case chargedesk.CmdRemoteStop:
		d, err := r.agentMayStop(ctx, ch, cmd, l)
		if err != nil || !d.Allowed {
			return d, err
		}
	}
	return r.rateLimit(cmd, l), nil
}

// agentMayStop allows the agent to stop a transaction of the verified
// caller, or one that is stale: the connector does not show a live session
// and no energy has been measured for StaleAfter. Never a live session of
// someone else.
func (r *Rules) agentMayStop(ctx context.Context, ch *chargedesk.Charger, cmd chargedesk.Command, l AgentLimits) (chargedesk.Decision, error) {
	tx, err := r.Store.Transaction(ctx, ch.ID, cmd.TransactionID)
	if err != nil {
		return chargedesk.Decision{}, err // existence was checked before
	}
	if cmd.DriverID != "" && tx.IDTag != "" {
		t, err := r.Store.Token(ctx, tx.IDTag)
		if err != nil && chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			return chargedesk.Decision{}, err
		}
		if t != nil && t.DriverID == cmd.DriverID {
			return chargedesk.Decision{Allowed: true}, nil
		}
	}
	if Stale(ch, tx, r.Now(), l.StaleAfter) {
		return chargedesk.Decision{Allowed: true}, nil
	}
	return refuse("transaction %s is a live session that is not the verified caller's", tx.ID), nil
}

// DefaultStaleAfter is AgentLimits.StaleAfter's default.
const DefaultStaleAfter = 5 * time.Minute

// Stale reports whether an active transaction is a leftover that the agent
// may end for a caller who does not own it — the rule the policy applies,
// exported so that the agent proposes only what the policy would allow.
//
// No leftover has delivered energy for StaleAfter: its register has not
// risen since (Transaction.EnergyAt). On top of that the charger must not
// report a session: a 1.6 connector shows no Charging or Suspended status;
// a 2.0.1 connector (only Occupied) reports a charging state that is not
// suspended, and a claim of Charging is believed until a reading taken in
// the last FreshReading shows the register flat for StaleAfter — or until
// the charger has said nothing about the transaction for four times
// StaleAfter (a live session reports every TxUpdatedInterval).
func Stale(ch *chargedesk.Charger, tx *chargedesk.Transaction, now time.Time, after time.Duration) bool {
	rose := tx.EnergyRoseAt()
	if now.Sub(rose) < after {
		return false
	}
	k := ch.Connector(tx.ConnectorID)
	if k == nil {
		return true
	}
	switch k.Status {
	case chargedesk.StatusCharging, chargedesk.StatusSuspendedEV, chargedesk.StatusSuspendedEVSE:
		return false
	case chargedesk.StatusOccupied:
		switch tx.ChargingState {
		case "SuspendedEV", "SuspendedEVSE":
			return false
		case "Charging":
			flat := tx.LastMeterAt.Sub(rose) >= after && now.Sub(tx.UpdatedAt) <= FreshReading
			heard := latest(tx.LastMeterAt, tx.UpdatedAt, tx.StartedAt)
			return flat || now.Sub(heard) >= 4*after
		}
	}
	return true
}

// FreshReading is how recent a meter reading must be to prove that a
// transaction which claims to charge delivers nothing.
const FreshReading = time.Minute

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// rateLimit checks and records the agent's command rates.
func (r *Rules) rateLimit(cmd chargedesk.Command, l AgentLimits) chargedesk.Decision {
	now := r.Now()
	detail := cmd.Trigger + cmd.ResetType + cmd.Availability + cmd.TransactionID
	r.agent.mu.Lock()
	defer r.agent.mu.Unlock()
	keep := r.agent.sent[:0]
	for _, s := range r.agent.sent {
		if now.Sub(s.at) < l.Window {
			keep = append(keep, s)
		}
	}
	r.agent.sent = keep
	var charger, conversation, same int
	for _, s := range keep {
		if s.charger == cmd.ChargerID {
			charger++
			// The same command counts across every conversation, so that
			// retries cannot be multiplied by opening new ones.
			if s.kind == cmd.Kind && s.connector == cmd.ConnectorID && s.detail == detail {
				same++
			}
		}
		if s.actor == cmd.Actor || cmd.DriverID != "" && s.driver == cmd.DriverID {
			conversation++
		}
	}
	switch {
	case len(keep) >= l.Network:
		return refuse("network-wide limit of %d agent commands per %s reached", l.Network, l.Window)
	case charger >= l.PerCharger:
		return refuse("limit of %d agent commands per charger per %s reached for %s", l.PerCharger, l.Window, cmd.ChargerID)
	case conversation >= l.PerConversation:
		return refuse("limit of %d commands per conversation (or driver) per %s reached", l.PerConversation, l.Window)
	case same > l.Retries:
		return refuse("%s was already tried %d times on %s; no more retries", cmd.Kind, same, cmd.ChargerID)
	}
	r.agent.sent = append(r.agent.sent, sentCommand{at: now, actor: cmd.Actor, driver: cmd.DriverID, charger: cmd.ChargerID, kind: cmd.Kind, connector: cmd.ConnectorID, detail: detail})
	return chargedesk.Decision{Allowed: true, Reason: fmt.Sprintf("rules passed (agent, verified %s)", verifiedText(cmd.DriverID))}
}

func verifiedText(driverID string) string {
	if driverID == "" {
		return "no caller"
	}
	return "caller " + driverID
}
