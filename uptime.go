package chargedesk

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Charging-port uptime as the NEVI standards define it (23 CFR 680.116(b);
// its quarterly reporting is 680.112(a)(7) and (8)):
//
//   - a port is up while its hardware and software are online and it is
//     available for use or in use (and it dispenses electricity at the
//     required power, which chargedesk cannot see: it goes by what the
//     charger reports);
//   - uptime µ = (T − (T_outage − T_excluded)) / T × 100, where T is the
//     minutes of the period (525,600 for the rule's year; a month's minutes
//     for a monthly figure), T_outage the minutes the port was down and
//     T_excluded the part of those minutes whose cause lay outside the
//     operator's control, when the operator can show the port would
//     otherwise have worked — electric utility service interruptions, the
//     vehicle's failure to charge, scheduled maintenance, vandalism,
//     natural disasters — and the hours outside the station's hours of
//     operation;
//   - each port must average more than 97 % over the previous twelve months,
//     calculated monthly.
//
// chargedesk keeps what it takes: the port history (one row per change of
// a connector's status and per connection or disconnection of its charger,
// written in the same transaction as the change) and the exclusions an
// operator records with their cause.

// NEVIMinUptime is the uptime, in percent, a port must stay above.
const NEVIMinUptime = 97.0

// PortHistoryConnection is the ConnectorID of a port-history row that
// records the charger's connection rather than a connector's status.
const PortHistoryConnection = -1

// The statuses of a port-history row for the charger's connection.
const (
	ConnectionOnline  ConnectorStatus = "Online"
	ConnectionOffline ConnectorStatus = "Offline"
)

// PortEvent is one row of the port history: a connector's new status
// (ConnectorID 0 is the charger as a whole, as OCPP reports it) or, with
// ConnectorID PortHistoryConnection, the charger going online or offline.
// At is when chargedesk received it (the charger's own clock is not
// trusted to order it against connections).
type PortEvent struct {
	ChargerID   string
	ConnectorID int
	At          time.Time
	Status      ConnectorStatus
}

// PortDown reports whether a connector in status s is down: Faulted, or
// Unavailable (taken out of service). Every other status is available or
// in use. An offline charger's ports are down whatever their last status.
func PortDown(s ConnectorStatus) bool {
	return s == StatusFaulted || s == StatusUnavailable
}

// ExclusionCause is why an outage does not count against a port's uptime:
// one of the causes 23 CFR 680.116(b) lists as outside the operator's
// control, or the hours outside the station's hours of operation.
type ExclusionCause string

// The exclusion causes, in the rule's order.
const (
	CauseUtilityInterruption  ExclusionCause = "utility_interruption"
	CauseVehicleFault         ExclusionCause = "vehicle_fault"
	CauseScheduledMaintenance ExclusionCause = "scheduled_maintenance"
	CauseVandalism            ExclusionCause = "vandalism"
	CauseNaturalDisaster      ExclusionCause = "natural_disaster"
	CauseOutsideHours         ExclusionCause = "outside_operating_hours"
)

// ExclusionCauses lists the causes in the rule's order.
var ExclusionCauses = []ExclusionCause{
	CauseUtilityInterruption, CauseVehicleFault, CauseScheduledMaintenance,
	CauseVandalism, CauseNaturalDisaster, CauseOutsideHours,
}

var causeLabels = map[ExclusionCause]string{
	CauseUtilityInterruption:  "Electric utility service interruption",
	CauseVehicleFault:         "Failure to charge caused by the vehicle",
	CauseScheduledMaintenance: "Scheduled maintenance",
	CauseVandalism:            "Vandalism",
	CauseNaturalDisaster:      "Natural disaster",
	CauseOutsideHours:         "Outside the station's hours of operation",
}

// Valid reports whether c is a known cause.
func (c ExclusionCause) Valid() bool { return causeIndex(c) >= 0 }

// Label is the cause in words.
func (c ExclusionCause) Label() string {
	if l, ok := causeLabels[c]; ok {
		return l
	}
	return string(c)
}

func causeIndex(c ExclusionCause) int { return slices.Index(ExclusionCauses, c) }

// Bounds of an exclusion.
const (
	MaxExclusionSpan    = 366 * 24 * time.Hour
	MaxExclusionNoteLen = 1000
)

// Times an exclusion may start and end within.
var (
	minReportTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxReportTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// UptimeExclusion is an outage an operator excludes from a port's uptime:
// for the port (or, with ConnectorID 0, every port of the charger) and the
// time range [From, To), the cause and a note of the evidence. It only
// excludes time the port was actually down.
type UptimeExclusion struct {
	ID          int64          `json:"id"`
	ChargerID   string         `json:"chargerId"`
	ConnectorID int            `json:"connectorId"`
	From        time.Time      `json:"from"`
	To          time.Time      `json:"to"`
	Cause       ExclusionCause `json:"cause"`
	Note        string         `json:"note"`
	// CreatedBy is the operator who recorded it.
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

// Validate checks an exclusion: a valid charger id, a connector id from 0
// to 1000, a range of at most MaxExclusionSpan between 2000 and 2100, a
// known cause, a note of 1 to MaxExclusionNoteLen bytes of UTF-8 text and
// the operator who records it.
func (e *UptimeExclusion) Validate() error {
	if err := ValidateChargerID(e.ChargerID); err != nil {
		return err
	}
	if e.ConnectorID < 0 || e.ConnectorID > 1000 {
		return Errorf(EINVALID, "connector id %d is not 0 (every port) to 1000", e.ConnectorID)
	}
	if !e.From.Before(e.To) {
		return Errorf(EINVALID, "an exclusion must end after it starts")
	}
	if e.From.Before(minReportTime) || e.To.After(maxReportTime) {
		return Errorf(EINVALID, "an exclusion must lie between 2000 and 2100")
	}
	if e.To.Sub(e.From) > MaxExclusionSpan {
		return Errorf(EINVALID, "an exclusion lasts at most 366 days")
	}
	if !e.Cause.Valid() {
		return Errorf(EINVALID, "cause %q is not one of the excluded causes", e.Cause)
	}
	if strings.TrimSpace(e.Note) == "" || len(e.Note) > MaxExclusionNoteLen || !utf8.ValidString(e.Note) || strings.IndexByte(e.Note, 0) >= 0 {
		return Errorf(EINVALID, "an exclusion needs a note of the evidence, at most %d bytes of text", MaxExclusionNoteLen)
	}
	if e.CreatedBy == "" || len(e.CreatedBy) > 100 {
		return Errorf(EINVALID, "an exclusion needs the operator who records it")
	}
	return nil
}

// ReportStore keeps what the reports read: the port history, the uptime
// exclusions, and the figures of support conversations.
type ReportStore interface {
	// PortHistory streams the port history of [from, to) to fn. First the
	// state at from of each connector and each charger's connection: its
	// latest row before from, or — for a connector with none, of a charger
	// registered before to — a row with an empty Status and a zero At.
	// Then every row with from <= At < to, in the order they were written
	// (At, then insertion) — with availabilityOnly, only those that can
	// change whether a port is up: the connection's, connector 0's, a
	// connector's first, and a connector's moving between a down status
	// (PortDown) and an up one. fn's error stops the stream and is
	// returned. EINVALID unless from is before to.
	PortHistory(ctx context.Context, from, to time.Time, availabilityOnly bool, fn func(PortEvent) error) error
	// AddUptimeExclusion validates and stores an exclusion, setting its ID
	// and CreatedAt. EINVALID; ENOTFOUND for an unregistered charger.
	AddUptimeExclusion(ctx context.Context, e *UptimeExclusion) error
	// DeleteUptimeExclusion removes an exclusion and returns it. ENOTFOUND.
	DeleteUptimeExclusion(ctx context.Context, id int64) (*UptimeExclusion, error)
	// UptimeExclusions lists the exclusions that overlap [from, to), by
	// start then id. EINVALID unless from is before to.
	UptimeExclusions(ctx context.Context, from, to time.Time) ([]UptimeExclusion, error)
	// SupportConversations streams the conversations created in
	// [from, to), oldest first, with what the support figures need.
	// EINVALID unless from is before to.
	SupportConversations(ctx context.Context, from, to time.Time, fn func(SupportConversation) error) error
}

// PortUptime is one port's uptime over a period.
type PortUptime struct {
	ChargerID   string
	ConnectorID int
	// Counted is the part of the period the port's state was known: from
	// the period's start, or from its first status within the period.
	// Outage is the part of Counted the port was down; Excluded the part of
	// Outage an exclusion covers.
	Counted, Outage, Excluded time.Duration
	// CountedFrom is when counting began (zero when it never did).
	CountedFrom time.Time
	// Causes are those of the exclusions that excluded time, in the rule's
	// order.
	Causes []ExclusionCause
}

// HasData reports whether any of the period was counted: a port with no
// status history up to the end of the period has no uptime at all (it is
// neither up nor down), and is listed apart.
func (p PortUptime) HasData() bool { return p.Counted > 0 }

// Uptime is µ in percent, (Counted − (Outage − Excluded)) / Counted × 100;
// ok is false without data.
func (p PortUptime) Uptime() (pct float64, ok bool) {
	if p.Counted <= 0 {
		return 0, false
	}
	return float64(p.Counted-(p.Outage-p.Excluded)) / float64(p.Counted) * 100, true
}

// Compliant reports whether the port's uptime is above NEVIMinUptime,
// exactly (in whole nanoseconds, not in floating point: 97 % is not
// above 97 %).
func (p PortUptime) Compliant() bool {
	up := p.Counted - (p.Outage - p.Excluded)
	return p.Counted > 0 && 100*up > time.Duration(NEVIMinUptime)*p.Counted
}

// UptimeReport is every port's uptime over [From, To).
type UptimeReport struct {
	From, To time.Time
	// Ports in charger id, then connector id order.
	Ports []PortUptime
}

// Network is the network's uptime: every port's counted time pooled, so
// a port weighs by the time it was counted (all ports counted over the
// whole period weigh the same). ok is false when no port has data.
func (r *UptimeReport) Network() (pct float64, ok bool) {
	// In seconds, as floats: a month of 3,600 ports is more nanoseconds
	// than an int64 holds.
	var counted, lost float64
	for _, p := range r.Ports {
		counted += p.Counted.Seconds()
		lost += (p.Outage - p.Excluded).Seconds()
	}
	if counted <= 0 {
		return 0, false
	}
	return (counted - lost) / counted * 100, true
}

// NotCompliant lists the ports with data whose uptime is not above
// NEVIMinUptime, lowest first.
func (r *UptimeReport) NotCompliant() []PortUptime {
	var out []PortUptime
	for _, p := range r.Ports {
		if p.HasData() && !p.Compliant() {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b PortUptime) int {
		ua, _ := a.Uptime()
		ub, _ := b.Uptime()
		switch {
		case ua < ub:
			return -1
		case ua > ub:
			return 1
		}
		return 0
	})
	return out
}

// NoData lists the ports without data.
func (r *UptimeReport) NoData() []PortUptime {
	var out []PortUptime
	for _, p := range r.Ports {
		if !p.HasData() {
			out = append(out, p)
		}
	}
	return out
}

// ComputeUptime reads the exclusions and the port history of [from, to)
// from the store and computes every port's uptime.
func ComputeUptime(ctx context.Context, rs ReportStore, from, to time.Time) (*UptimeReport, error) {
	excl, err := rs.UptimeExclusions(ctx, from, to)
	if err != nil {
		return nil, err
	}
	calc := NewUptimeCalc(from, to, excl)
	if err := rs.PortHistory(ctx, from, to, true, func(ev PortEvent) error {
		calc.Add(ev)
		return nil
	}); err != nil {
		return nil, err
	}
	return calc.Report(), nil
}

// UptimeCalc computes ports' uptime over [from, to) from the port history
// streamed in order, in one pass: it keeps each charger's connection and
// each port's state, and adds the time since a port's last change to its
// counters whenever something that decides whether it is down (or
// excluded) changes.
//
// A port is down while its charger is offline, its own status is down, or
// the charger as a whole (connector 0) reports a down status. Before a
// charger's first connection row its connection is taken as online: a
// connector status only ever comes from a connected charger. A port is
// counted from its first status; before that its state is unknown.
type UptimeCalc struct {
	from, to time.Time
	// last is the time of the last change applied: events that come out
	// of order are applied at it, never before.
	last     time.Time
	chargers map[string]*upCharger
	order    []*upCharger
	bounds   []exclusionBound
	next     int
}

type upCharger struct {
	id      string
	offline bool
	whole   ConnectorStatus
	ports   []*upPort
	excl    causeCounts // exclusions of every port of the charger
}

type upPort struct {
	id      int
	known   bool
	status  ConnectorStatus
	excl    causeCounts
	since   time.Time
	from    time.Time
	counted time.Duration
	outage  time.Duration
	exclD   time.Duration
	causes  uint8
}

// causeCounts counts the active exclusions of each cause.
type causeCounts [8]int32

func (c *causeCounts) mask() uint8 {
	var m uint8
	for i, n := range c {
		if n > 0 {
			m |= 1 << i
		}
	}
	return m
}

// exclusionBound is an exclusion starting (+1) or ending (-1).
type exclusionBound struct {
	at        time.Time
	chargerID string
	connector int
	cause     int
	delta     int32
}

// NewUptimeCalc returns a calculator for [from, to) with the given
// exclusions (those outside the period are ignored).
func NewUptimeCalc(from, to time.Time, exclusions []UptimeExclusion) *UptimeCalc {
	u := &UptimeCalc{from: from, to: to, last: from, chargers: map[string]*upCharger{}}
	for _, e := range exclusions {
		ci := causeIndex(e.Cause)
		start, end := maxTime(e.From, from), minTime(e.To, to)
		if ci < 0 || !start.Before(end) {
			continue
		}
		u.bounds = append(u.bounds,
			exclusionBound{at: start, chargerID: e.ChargerID, connector: e.ConnectorID, cause: ci, delta: 1},
			exclusionBound{at: end, chargerID: e.ChargerID, connector: e.ConnectorID, cause: ci, delta: -1})
	}
	slices.SortStableFunc(u.bounds, func(a, b exclusionBound) int { return a.at.Compare(b.at) })
	return u
}

func (u *UptimeCalc) charger(id string) *upCharger {
	ch := u.chargers[id]
	if ch == nil {
		ch = &upCharger{id: id}
		u.chargers[id] = ch
		u.order = append(u.order, ch)
	}
	return ch
}

func (ch *upCharger) port(id int) *upPort {
	for _, p := range ch.ports {
		if p.id == id {
			return p
		}
	}
	p := &upPort{id: id}
	ch.ports = append(ch.ports, p)
	return p
}

// account adds the time from p's last change to t to p's counters.
func (ch *upCharger) account(p *upPort, t time.Time) {
	if p.known && t.After(p.since) {
		d := t.Sub(p.since)
		p.counted += d
		if ch.offline || PortDown(p.status) || PortDown(ch.whole) {
			p.outage += d
			if m := ch.excl.mask() | p.excl.mask(); m != 0 {
				p.exclD += d
				p.causes |= m
			}
		}
	}
	p.since = t
}

func (ch *upCharger) accountAll(t time.Time) {
	for _, p := range ch.ports {
		ch.account(p, t)
	}
}

// Add applies one row of the port history. Rows before from are the state
// at from and must come first; the others must come in time order (a row
// older than the last one applied is applied at the last one's time). Rows
// at or after to are ignored.
func (u *UptimeCalc) Add(ev PortEvent) {
	t := ev.At
	if !t.Before(u.to) {
		return
	}
	if t.Before(u.last) {
		t = u.last
	}
	u.advance(t)
	u.last = t
	ch := u.charger(ev.ChargerID)
	switch {
	case ev.ConnectorID == PortHistoryConnection:
		ch.accountAll(t)
		ch.offline = ev.Status == ConnectionOffline
	case ev.ConnectorID == 0:
		ch.accountAll(t)
		ch.whole = ev.Status
	case ev.ConnectorID > 0:
		p := ch.port(ev.ConnectorID)
		if ev.Status == "" {
			return // a port with no history yet
		}
		ch.account(p, t)
		if !p.known {
			p.known, p.from = true, t
		}
		p.status = ev.Status
	}
}

// advance applies the exclusion bounds up to t.
func (u *UptimeCalc) advance(t time.Time) {
	for u.next < len(u.bounds) && !u.bounds[u.next].at.After(t) {
		b := u.bounds[u.next]
		u.next++
		ch := u.charger(b.chargerID)
		if b.connector == 0 {
			ch.accountAll(b.at)
			ch.excl[b.cause] += b.delta
			continue
		}
		p := ch.port(b.connector)
		ch.account(p, b.at)
		p.excl[b.cause] += b.delta
	}
}

// Report closes the period and returns every port seen, with or without
// data.
func (u *UptimeCalc) Report() *UptimeReport {
	u.advance(u.to)
	r := &UptimeReport{From: u.from, To: u.to}
	for _, ch := range u.order {
		ch.accountAll(u.to)
		for _, p := range ch.ports {
			pu := PortUptime{ChargerID: ch.id, ConnectorID: p.id, Counted: p.counted, Outage: p.outage, Excluded: p.exclD}
			if p.known {
				pu.CountedFrom = p.from
			}
			for i, c := range ExclusionCauses {
				if p.causes&(1<<i) != 0 {
					pu.Causes = append(pu.Causes, c)
				}
			}
			r.Ports = append(r.Ports, pu)
		}
	}
	slices.SortFunc(r.Ports, func(a, b PortUptime) int {
		if c := strings.Compare(a.ChargerID, b.ChargerID); c != 0 {
			return c
		}
		return a.ConnectorID - b.ConnectorID
	})
	return r
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
