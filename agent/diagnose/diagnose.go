package diagnose

import (
	"slices"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
)

// Cause codes. Where a fault of the catalogue (FAULTS.md) applies, the code
// is the fault's name; comm_drop covers both comm_drop_short and
// comm_drop_long (the evidence says which). The last four are not faults:
// what the agent must learn first, or that nothing is wrong.
const (
	CodeStaleTransaction   = "stale_transaction"
	CodeControllerHung     = "controller_hung"
	CodeHandshakeTimeout   = "handshake_timeout"
	CodeVehicleSchedule    = "vehicle_schedule"
	CodeRemoteStartIgnored = "remote_start_ignored"
	CodeHardwareFaultPower = "hardware_fault_power"
	CodeStaleStatus        = "stale_status"
	CodeCommDrop           = "comm_drop"
	CodeLeftInoperative    = "left_inoperative"
	CodeLockAfterSession   = "lock_after_session"
	CodeOwnSessionRunning  = "own_session_running"
	CodeSomeoneElsesSess   = "someone_elses_session"
	CodeLockMechanical     = "lock_mechanical"
	CodeVehicleSideLock    = "vehicle_side_lock"
	CodeLocalListStale     = "local_list_stale"
	CodeTokenBlocked       = "token_blocked"
	CodeTokenExpired       = "token_expired"
	CodeTokenUnknown       = "token_unknown"
	CodeReaderFault        = "reader_fault"
	CodeCardExpired        = "card_expired"
	CodeTransientDecline   = "transient_decline"
	CodeAppSyncDelay       = "app_sync_delay"
	CodeDuplicateHolds     = "duplicate_holds"
	CodeHardDecline        = "hard_decline"
	CodeSlowCharging       = "slow_charging"

	CodeChargerUnknown   = "charger_unknown"
	CodeConnectorUnknown = "connector_unknown"
	CodeBootPending      = "boot_pending"
	CodeNoFaultSeen      = "no_fault_seen"
)

// Thresholds of the rules. They are constants, not configuration: they
// encode the catalogue's definitions (a stale transaction shows no energy for
// five minutes, a remote start is ignored after sixty seconds).
const (
	// StaleAfter is how long a transaction may show no live session and no
	// energy before it counts as stale.
	StaleAfter = 5 * time.Minute
	// RemoteStartDeadline is how long after an accepted remote start the
	// transaction must have started.
	RemoteStartDeadline = 60 * time.Second
	// HungAfter is how long a connector may sit in Preparing (Occupied
	// without a transaction in 2.0.1) after an accepted Authorize.
	HungAfter = 2 * time.Minute
	// ShortDropMax is the longest disconnection still read as a short drop
	// (the charger usually reconnects by itself within it).
	ShortDropMax = 2 * time.Minute
	// SilentAfter is how long a connected charger may send nothing before
	// its link is suspected dead.
	SilentAfter = 30 * time.Minute
	// AuthorizeWindow is how far back an Authorize counts as recent.
	AuthorizeWindow = 15 * time.Minute
	// EventWindow bounds how far back events are read.
	EventWindow = 2 * time.Hour
	// MaxEventsRead bounds how many events are read.
	MaxEventsRead = 300
)

// PaymentView is the caller's payment state as read from the payments
// processor.
type PaymentView struct {
	// Methods are the account's cards, including those added in the app
	// and not synced yet (Synced false).
	Methods []payments.Method
	// LastAuthorization is the account's latest authorization attempt, nil
	// when there was none.
	LastAuthorization *payments.Authorization
	// Holds are the account's pending holds.
	Holds []payments.Hold
}

// View is everything the agent has read about one driver's problem at one
// instant. Diagnose reads nothing else.
type View struct {
	// Now is the instant the state was read.
	Now time.Time
	// Category is what the driver's words point at (chargedesk.Category*);
	// it may be empty or wrong.
	Category string
	// Charger is the charger with its connectors; nil when unknown.
	Charger *chargedesk.Charger
	// ConnectorID is the connector the driver means; 0 when not known yet.
	ConnectorID int
	// Active are the charger's active transactions.
	Active []*chargedesk.Transaction
	// Recent are the connector's latest ended transactions, newest first.
	Recent []*chargedesk.Transaction
	// Events are the charger's recent frames and connection changes,
	// newest first.
	Events []chargedesk.Event
	// DriverID is the verified caller; "" when not verified.
	DriverID string
	// Tokens are the caller's tokens.
	Tokens []*chargedesk.Token
	// Payment is the caller's payment state; nil when unknown.
	Payment *PaymentView
	// Specs are the operator's ratings of the charger's connectors.
	Specs []chargedesk.ConnectorSpec
}

// Cause is one candidate root cause with the facts that support it.
type Cause struct {
	// Code is one of the Code constants.
	Code string `json:"code"`
	// Confidence is between 0 and 1.
	Confidence float64 `json:"confidence"`
	// Evidence are short factual sentences with numbers and times.
	Evidence []string `json:"evidence"`
	// Fixable reports whether a remote fix exists (FAULTS.md).
	Fixable bool `json:"fixable"`
}

// Category returns the intent category the cause belongs to, or "" for the
// codes that are not failures (charger_unknown, connector_unknown,
// no_fault_seen).
func (c Cause) Category() string { return codeCategory(c.Code) }

func codeCategory(code string) string {
	switch code {
	case CodeStaleTransaction, CodeControllerHung, CodeHandshakeTimeout, CodeVehicleSchedule,
		CodeRemoteStartIgnored, CodeHardwareFaultPower:
		return chargedesk.CategorySessionWontStart
	case CodeStaleStatus, CodeCommDrop, CodeLeftInoperative, CodeBootPending:
		return chargedesk.CategoryChargerOffline
	case CodeLockAfterSession, CodeOwnSessionRunning, CodeSomeoneElsesSess, CodeLockMechanical, CodeVehicleSideLock:
		return chargedesk.CategoryConnectorStuck
	case CodeLocalListStale, CodeTokenBlocked, CodeTokenExpired, CodeTokenUnknown, CodeReaderFault:
		return chargedesk.CategoryRFIDFailure
	case CodeCardExpired, CodeTransientDecline, CodeAppSyncDelay, CodeDuplicateHolds, CodeHardDecline:
		return chargedesk.CategoryPaymentFailure
	case CodeSlowCharging:
		return chargedesk.CategorySlowCharging
	}
	return ""
}

// matches reports whether a driver who speaks of category would recognise
// the cause as their failure. "Won't start" is the symptom of card and
// payment refusals too, and a dead power module looks like an offline or
// damaged charger.
func matches(category, code string) bool {
	cc := codeCategory(code)
	if cc == "" || category == "" || category == chargedesk.CategoryOther {
		return true
	}
	if cc == category {
		return true
	}
	switch category {
	case chargedesk.CategorySessionWontStart:
		return cc == chargedesk.CategoryRFIDFailure || cc == chargedesk.CategoryPaymentFailure
	case chargedesk.CategoryChargerOffline, chargedesk.CategoryHardwareDamage:
		return code == CodeHardwareFaultPower
	case chargedesk.CategoryBillingDispute:
		return code == CodeDuplicateHolds
	}
	return false
}

// Disagrees reports whether the driver's category and the cause top point to
// different failures, so that the agent says what it sees before acting on
// it. It is false when the driver gave no usable category (empty or other)
// and for the codes that are not failures.
func (v View) Disagrees(top Cause) bool {
	return !matches(v.Category, top.Code)
}

// Diagnose ranks the root causes that the view supports, best first. It
// never returns an empty list: when nothing is wrong the list holds
// no_fault_seen with what was checked as evidence.
func Diagnose(v View) []Cause {
	d := &diag{v: v, now: v.Now}
	d.ev = indexEvents(v.Events, v.Now)
	d.run()
	return d.rank()
}

// diag holds one diagnosis in progress.
type diag struct {
	v      View
	now    time.Time
	ev     eventIndex
	causes []Cause
	// notes are facts checked and found fine, the evidence of no_fault_seen.
	notes []string
	// waitingForAuth is set when a connector holds a cable with no
	// accepted Authorize: the card may have been refused at the charger.
	waitingForAuth bool
}

func (d *diag) add(code string, conf float64, fixable bool, evidence ...string) {
	conf = min(max(conf, 0), 1)
	for i := range d.causes {
		c := &d.causes[i]
		if c.Code != code {
			continue
		}
		if conf > c.Confidence {
			c.Confidence, c.Fixable = conf, fixable
		}
		for _, e := range evidence {
			if !slices.Contains(c.Evidence, e) {
				c.Evidence = append(c.Evidence, e)
			}
		}
		return
	}
	d.causes = append(d.causes, Cause{Code: code, Confidence: conf, Fixable: fixable, Evidence: evidence})
}

func (d *diag) note(s string) { d.notes = append(d.notes, s) }

func (d *diag) run() {
	ch := d.v.Charger
	if ch == nil {
		d.add(CodeChargerUnknown, 0.6, false, "the charger is not known yet: ask for its id or location")
		d.tokenRules(nil)
		d.paymentRules()
		return
	}
	online := d.chargerRules(ch)
	conns := d.pickConnectors(ch)
	if online {
		for _, p := range conns {
			d.connectorRules(ch, p.cn, p.weight)
		}
	}
	d.tokenRules(ch)
	d.paymentRules()
}

// rank sorts the causes and adds no_fault_seen when none is convincing.
func (d *diag) rank() []Cause {
	best := 0.0
	for _, c := range d.causes {
		if codeCategory(c.Code) != "" || c.Code == CodeChargerUnknown {
			best = max(best, c.Confidence)
		}
	}
	if best < 0.5 {
		ev := d.notes
		if len(ev) == 0 {
			ev = []string{"no rule found a fault in the charger, the caller's cards or payment state"}
		}
		d.add(CodeNoFaultSeen, 0.5, false, ev...)
	}
	cat := d.v.Category
	score := func(c Cause) float64 {
		s := c.Confidence
		if cat != "" && cat != chargedesk.CategoryOther && codeCategory(c.Code) != "" && matches(cat, c.Code) {
			s += 0.03 // prefer the driver's category when the data is even
		}
		return s
	}
	slices.SortStableFunc(d.causes, func(a, b Cause) int {
		sa, sb := score(a), score(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return strings.Compare(a.Code, b.Code)
	})
	return d.causes
}
