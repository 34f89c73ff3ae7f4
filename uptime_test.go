package chargedesk_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// april is a 30-day month: 43,200 minutes.
var (
	aprilFrom = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	aprilTo   = time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
)

func at(month time.Month, d, h, m int) time.Time {
	return time.Date(2025, month, d, h, m, 0, 0, time.UTC)
}

func ev(charger string, connector int, t time.Time, s chargedesk.ConnectorStatus) chargedesk.PortEvent {
	return chargedesk.PortEvent{ChargerID: charger, ConnectorID: connector, At: t, Status: s}
}

// seed is a row from before the period: the state at its start.
var seed = at(3, 15, 9, 0)

func compute(from, to time.Time, excl []chargedesk.UptimeExclusion, evs ...chargedesk.PortEvent) *chargedesk.UptimeReport {
	c := chargedesk.NewUptimeCalc(from, to, excl)
	for _, e := range evs {
		c.Add(e)
	}
	return c.Report()
}

func port(t *testing.T, r *chargedesk.UptimeReport, charger string, connector int) chargedesk.PortUptime {
	t.Helper()
	for _, p := range r.Ports {
		if p.ChargerID == charger && p.ConnectorID == connector {
			return p
		}
	}
	t.Fatalf("no port %s/%d in %+v", charger, connector, r.Ports)
	return chargedesk.PortUptime{}
}

func minutes(d time.Duration) float64 { return d.Minutes() }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func wantPort(t *testing.T, p chargedesk.PortUptime, counted, outage, excluded, uptime float64) {
	t.Helper()
	if minutes(p.Counted) != counted || minutes(p.Outage) != outage || minutes(p.Excluded) != excluded {
		t.Errorf("%s/%d: counted %v outage %v excluded %v min, want %v %v %v", p.ChargerID, p.ConnectorID,
			minutes(p.Counted), minutes(p.Outage), minutes(p.Excluded), counted, outage, excluded)
	}
	u, ok := p.Uptime()
	if !ok || !near(u, uptime) {
		t.Errorf("%s/%d: uptime %v (ok %v), want %v", p.ChargerID, p.ConnectorID, u, ok, uptime)
	}
}

// A port down two hours in a 30-day month: 43,200 minutes counted, 120
// down, µ = (43200 − 120) / 43200 × 100 = 99.7222…%.
func TestUptimePortDownTwoHours(t *testing.T) {
	r := compute(aprilFrom, aprilTo, nil,
		ev("CP-1", chargedesk.PortHistoryConnection, seed, chargedesk.ConnectionOnline),
		ev("CP-1", 1, seed, chargedesk.StatusAvailable),
		ev("CP-1", 2, seed, chargedesk.StatusAvailable),
		ev("CP-1", 1, at(4, 10, 8, 0), chargedesk.StatusFaulted),
		ev("CP-1", 1, at(4, 10, 9, 0), chargedesk.StatusUnavailable), // still down
		ev("CP-1", 1, at(4, 10, 10, 0), chargedesk.StatusAvailable),
		ev("CP-1", 2, at(4, 12, 10, 0), chargedesk.StatusCharging), // in use is up
		ev("CP-1", 2, at(4, 12, 11, 0), chargedesk.StatusSuspendedEV),
		ev("CP-1", 2, at(4, 12, 12, 0), chargedesk.StatusAvailable),
	)
	wantPort(t, port(t, r, "CP-1", 1), 43200, 120, 0, (43200.0-120)/43200*100)
	wantPort(t, port(t, r, "CP-1", 2), 43200, 0, 0, 100)
	if p := port(t, r, "CP-1", 1); !p.Compliant() || !p.CountedFrom.Equal(aprilFrom) {
		t.Errorf("port 1: compliant %v, counted from %v", p.Compliant(), p.CountedFrom)
	}
	if u, ok := r.Network(); !ok || !near(u, (86400.0-120)/86400*100) {
		t.Errorf("network %v %v", u, ok)
	}
	if len(r.NotCompliant()) != 0 || len(r.NoData()) != 0 {
		t.Errorf("not compliant %v, no data %v", r.NotCompliant(), r.NoData())
	}
}

// A utility outage takes the charger offline 12:00–18:00 (360 minutes);
// the operator excludes 13:00–20:00 for every port of the charger: the 300
// minutes it was down within the exclusion are excluded, the two hours
// after it came back do not count, the first hour stays an outage.
// µ = (43200 − (360 − 300)) / 43200 × 100.
func TestUptimeExcludedUtilityOutage(t *testing.T) {
	excl := []chargedesk.UptimeExclusion{{ChargerID: "CP-1", ConnectorID: 0, From: at(4, 5, 13, 0), To: at(4, 5, 20, 0),
		Cause: chargedesk.CauseUtilityInterruption, Note: "utility ticket 4711"}}
	r := compute(aprilFrom, aprilTo, excl,
		ev("CP-1", chargedesk.PortHistoryConnection, seed, chargedesk.ConnectionOnline),
		ev("CP-1", 1, seed, chargedesk.StatusAvailable),
		ev("CP-1", chargedesk.PortHistoryConnection, at(4, 5, 12, 0), chargedesk.ConnectionOffline),
		ev("CP-1", chargedesk.PortHistoryConnection, at(4, 5, 18, 0), chargedesk.ConnectionOnline),
	)
	p := port(t, r, "CP-1", 1)
	wantPort(t, p, 43200, 360, 300, (43200.0-60)/43200*100)
	if !slices.Equal(p.Causes, []chargedesk.ExclusionCause{chargedesk.CauseUtilityInterruption}) {
		t.Errorf("causes %v", p.Causes)
	}
}

// Overlapping exclusions of one port are counted once; an exclusion of
// another port, or of a time the port was up, excludes nothing.
func TestUptimeOverlappingExclusions(t *testing.T) {
	excl := []chargedesk.UptimeExclusion{
		{ChargerID: "CP-1", ConnectorID: 1, From: at(4, 7, 8, 0), To: at(4, 7, 10, 0), Cause: chargedesk.CauseVandalism, Note: "cable cut"},
		{ChargerID: "CP-1", ConnectorID: 1, From: at(4, 7, 9, 0), To: at(4, 7, 12, 0), Cause: chargedesk.CauseScheduledMaintenance, Note: "repair"},
		{ChargerID: "CP-1", ConnectorID: 2, From: at(4, 7, 0, 0), To: at(4, 8, 0, 0), Cause: chargedesk.CauseNaturalDisaster, Note: "storm"},
		{ChargerID: "CP-1", ConnectorID: 1, From: at(4, 20, 0, 0), To: at(4, 21, 0, 0), Cause: chargedesk.CauseOutsideHours, Note: "closed"},
	}
	r := compute(aprilFrom, aprilTo, excl,
		ev("CP-1", 1, seed, chargedesk.StatusAvailable),
		ev("CP-1", 2, seed, chargedesk.StatusAvailable),
		ev("CP-1", 1, at(4, 7, 8, 0), chargedesk.StatusFaulted),
		ev("CP-1", 1, at(4, 7, 13, 0), chargedesk.StatusAvailable),
	)
	p1 := port(t, r, "CP-1", 1)
	wantPort(t, p1, 43200, 300, 240, (43200.0-60)/43200*100)
	if !slices.Equal(p1.Causes, []chargedesk.ExclusionCause{chargedesk.CauseScheduledMaintenance, chargedesk.CauseVandalism}) {
		t.Errorf("causes %v (the closed-hours exclusion excluded nothing)", p1.Causes)
	}
	wantPort(t, port(t, r, "CP-1", 2), 43200, 0, 0, 100)
	if c := port(t, r, "CP-1", 2).Causes; len(c) != 0 {
		t.Errorf("port 2 causes %v", c)
	}
}

// A charger offline from 22:00 on 31 March to 03:00 on 1 April: March
// counts 120 minutes of its 44,640 down, April 180 of its 43,200 — the
// state at a month's start is the last row before it.
func TestUptimeOfflineAcrossMonthBoundary(t *testing.T) {
	rows := []chargedesk.PortEvent{
		ev("CP-1", chargedesk.PortHistoryConnection, at(2, 20, 0, 0), chargedesk.ConnectionOnline),
		ev("CP-1", 1, at(2, 20, 0, 1), chargedesk.StatusAvailable),
		ev("CP-1", chargedesk.PortHistoryConnection, at(3, 31, 22, 0), chargedesk.ConnectionOffline),
		ev("CP-1", chargedesk.PortHistoryConnection, at(4, 1, 3, 0), chargedesk.ConnectionOnline),
	}
	marchFrom := at(3, 1, 0, 0)
	// What the store streams for March: the state before it, then March's rows.
	march := compute(marchFrom, aprilFrom, nil, rows...)
	wantPort(t, port(t, march, "CP-1", 1), 44640, 120, 0, (44640.0-120)/44640*100)
	// For April the store gives the latest row of each before April.
	april := compute(aprilFrom, aprilTo, nil, rows[1], rows[2], rows[3])
	wantPort(t, port(t, april, "CP-1", 1), 43200, 180, 0, (43200.0-180)/43200*100)
}

// A port with no history at all — the store knows the connector but it
// reported no status up to the month's end — has no uptime: nothing is
// counted, it is listed apart and left out of the network's figure. It is
// neither up (nothing says it worked) nor down (nothing says it failed).
func TestUptimePortWithNoHistory(t *testing.T) {
	r := compute(aprilFrom, aprilTo, nil,
		ev("CP-1", 1, seed, chargedesk.StatusAvailable),
		ev("CP-2", 1, time.Time{}, ""), // known connector, no row yet
	)
	p := port(t, r, "CP-2", 1)
	if p.HasData() || p.Counted != 0 || !p.CountedFrom.IsZero() || p.Compliant() {
		t.Fatalf("no-history port %+v", p)
	}
	if _, ok := p.Uptime(); ok {
		t.Fatal("a port with no history has an uptime")
	}
	if nd := r.NoData(); len(nd) != 1 || nd[0].ChargerID != "CP-2" {
		t.Fatalf("no data %+v", nd)
	}
	if len(r.NotCompliant()) != 0 {
		t.Fatalf("not compliant %+v", r.NotCompliant())
	}
	if u, ok := r.Network(); !ok || u != 100 {
		t.Fatalf("network %v %v", u, ok)
	}
	// Nothing at all: no network figure.
	if _, ok := compute(aprilFrom, aprilTo, nil, ev("CP-2", 1, time.Time{}, "")).Network(); ok {
		t.Fatal("network figure without data")
	}
}

// A port first heard of within the month is counted from then on.
func TestUptimePortCommissionedMidMonth(t *testing.T) {
	r := compute(aprilFrom, aprilTo, nil,
		ev("CP-9", 1, time.Time{}, ""),
		ev("CP-9", chargedesk.PortHistoryConnection, at(4, 16, 0, 0), chargedesk.ConnectionOnline),
		ev("CP-9", 1, at(4, 16, 0, 0), chargedesk.StatusAvailable),
		ev("CP-9", 1, at(4, 20, 0, 0), chargedesk.StatusFaulted),
		ev("CP-9", 1, at(4, 20, 3, 0), chargedesk.StatusAvailable),
	)
	p := port(t, r, "CP-9", 1)
	wantPort(t, p, 15*24*60, 180, 0, (21600.0-180)/21600*100)
	if !p.CountedFrom.Equal(at(4, 16, 0, 0)) {
		t.Errorf("counted from %v", p.CountedFrom)
	}
}

// The charger as a whole (connector 0) Faulted or Unavailable takes every
// port down; a port's own Unavailable only itself.
func TestUptimeWholeChargerDown(t *testing.T) {
	r := compute(aprilFrom, aprilTo, nil,
		ev("CP-1", 0, seed, chargedesk.StatusAvailable),
		ev("CP-1", 1, seed, chargedesk.StatusAvailable),
		ev("CP-1", 2, seed, chargedesk.StatusCharging),
		ev("CP-1", 0, at(4, 3, 0, 0), chargedesk.StatusUnavailable),
		ev("CP-1", 0, at(4, 3, 1, 0), chargedesk.StatusAvailable),
		ev("CP-1", 2, at(4, 4, 0, 0), chargedesk.StatusUnavailable),
		ev("CP-1", 2, at(4, 4, 0, 30), chargedesk.StatusAvailable),
	)
	wantPort(t, port(t, r, "CP-1", 1), 43200, 60, 0, (43200.0-60)/43200*100)
	wantPort(t, port(t, r, "CP-1", 2), 43200, 90, 0, (43200.0-90)/43200*100)
	for _, p := range r.Ports {
		if p.ConnectorID == 0 {
			t.Fatalf("connector 0 reported as a port: %+v", p)
		}
	}
}

// Exactly 97 % is not compliant: the rule asks for more than 97 %. The
// network figure pools the ports' minutes.
func TestUptimeThresholdAndNetwork(t *testing.T) {
	r := compute(aprilFrom, aprilTo, nil,
		ev("CP-1", 1, seed, chargedesk.StatusAvailable),
		ev("CP-2", 1, seed, chargedesk.StatusAvailable),
		ev("CP-3", 1, seed, chargedesk.StatusAvailable),
		// CP-1: 1,296 minutes down = 3 % of 43,200.
		ev("CP-1", 1, at(4, 2, 0, 0), chargedesk.StatusFaulted),
		ev("CP-2", 1, at(4, 2, 0, 0), chargedesk.StatusFaulted),
		// CP-2: 1,295 minutes down, just above.
		ev("CP-2", 1, at(4, 2, 21, 35), chargedesk.StatusAvailable),
		ev("CP-1", 1, at(4, 2, 21, 36), chargedesk.StatusAvailable),
		// CP-3: down from the 29th to the end: 2,880 minutes.
		ev("CP-3", 1, at(4, 29, 0, 0), chargedesk.StatusFaulted),
	)
	wantPort(t, port(t, r, "CP-1", 1), 43200, 1296, 0, 97)
	if port(t, r, "CP-1", 1).Compliant() || !port(t, r, "CP-2", 1).Compliant() {
		t.Fatal("97 % exactly must not be compliant, 97.002 % must")
	}
	nc := r.NotCompliant()
	if len(nc) != 2 || nc[0].ChargerID != "CP-3" || nc[1].ChargerID != "CP-1" {
		t.Fatalf("not compliant (lowest first) %+v", nc)
	}
	if u, _ := r.Network(); !near(u, (3*43200.0-1296-1295-2880)/(3*43200)*100) {
		t.Fatalf("network %v", u)
	}
}

// The network figure of a big network: 20,000 ports' months are more
// nanoseconds than an int64 holds.
func TestUptimeNetworkOfManyPorts(t *testing.T) {
	c := chargedesk.NewUptimeCalc(aprilFrom, aprilTo, nil)
	for i := range 10000 {
		for k := 1; k <= 2; k++ {
			c.Add(ev(fmt.Sprintf("CP-%05d", i), k, seed, chargedesk.StatusAvailable))
		}
	}
	c.Add(ev("CP-00000", 1, at(4, 30, 0, 0), chargedesk.StatusFaulted))
	r := c.Report()
	if u, ok := r.Network(); !ok || !near(u, (20000*43200.0-1440)/(20000*43200)*100) {
		t.Fatalf("network %v %v", u, ok)
	}
}

// Rows that come out of order are applied at the last row's time, never
// before; rows at or after the end are ignored.
func TestUptimeOutOfOrderAndLateRows(t *testing.T) {
	r := compute(aprilFrom, aprilTo, nil,
		ev("CP-1", 1, seed, chargedesk.StatusAvailable),
		ev("CP-1", 1, at(4, 10, 10, 0), chargedesk.StatusFaulted),
		ev("CP-1", 1, at(4, 10, 9, 0), chargedesk.StatusAvailable), // late: applied at 10:00
		ev("CP-1", 1, aprilTo, chargedesk.StatusFaulted),
	)
	wantPort(t, port(t, r, "CP-1", 1), 43200, 0, 0, 100)
}

func TestUptimeExclusionValidate(t *testing.T) {
	ok := chargedesk.UptimeExclusion{ChargerID: "CP-1", ConnectorID: 1, From: aprilFrom, To: aprilFrom.Add(time.Hour),
		Cause: chargedesk.CauseVandalism, Note: "cable cut", CreatedBy: "ada"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(e *chargedesk.UptimeExclusion){
		"charger":       func(e *chargedesk.UptimeExclusion) { e.ChargerID = "CP 1" },
		"connector":     func(e *chargedesk.UptimeExclusion) { e.ConnectorID = -1 },
		"empty range":   func(e *chargedesk.UptimeExclusion) { e.To = e.From },
		"reversed":      func(e *chargedesk.UptimeExclusion) { e.To = e.From.Add(-time.Hour) },
		"too long":      func(e *chargedesk.UptimeExclusion) { e.To = e.From.Add(367 * 24 * time.Hour) },
		"too early":     func(e *chargedesk.UptimeExclusion) { e.From = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) },
		"cause":         func(e *chargedesk.UptimeExclusion) { e.Cause = "bad_luck" },
		"no note":       func(e *chargedesk.UptimeExclusion) { e.Note = "  " },
		"long note":     func(e *chargedesk.UptimeExclusion) { e.Note = string(make([]byte, 1001)) },
		"not utf-8":     func(e *chargedesk.UptimeExclusion) { e.Note = "\xff" },
		"nobody did it": func(e *chargedesk.UptimeExclusion) { e.CreatedBy = "" },
	}
	for name, edit := range bad {
		e := ok
		edit(&e)
		if err := e.Validate(); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(chargedesk.ExclusionCauses) != 6 {
		t.Fatal("the rule lists five causes and the hours of operation")
	}
	for _, c := range chargedesk.ExclusionCauses {
		if !c.Valid() || c.Label() == string(c) {
			t.Errorf("cause %q: valid %v label %q", c, c.Valid(), c.Label())
		}
	}
}

func TestSupportStats(t *testing.T) {
	from := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	s := chargedesk.NewSupportStats(from, from.AddDate(0, 0, 3))
	conv := func(d int, ch chargedesk.Channel, lang, cat string, st chargedesk.ConversationStatus, ticket, taken bool, ttr time.Duration) chargedesk.SupportConversation {
		created := from.AddDate(0, 0, d).Add(time.Hour)
		c := chargedesk.SupportConversation{Channel: ch, Language: lang, Category: cat, Status: st, Ticket: ticket, TakenOver: taken,
			CreatedAt: created, FirstDriverAt: created.Add(time.Second)}
		if ttr > 0 {
			c.ResolvedAt = c.FirstDriverAt.Add(ttr)
		}
		return c
	}
	for i := 1; i <= 10; i++ {
		s.Add(conv(0, chargedesk.ChannelSMS, "en", chargedesk.CategorySessionWontStart, chargedesk.ConversationResolved, false, false, time.Duration(i)*time.Minute))
	}
	s.Add(conv(1, chargedesk.ChannelVoice, "fr", chargedesk.CategoryConnectorStuck, chargedesk.ConversationEscalated, true, false, 0))
	s.Add(conv(1, chargedesk.ChannelChat, "es", "", chargedesk.ConversationOpen, false, true, 0))
	// Resolved after a takeover: resolved, but not by the agent alone.
	s.Add(conv(2, chargedesk.ChannelChat, "en", chargedesk.CategoryPaymentFailure, chargedesk.ConversationResolved, false, true, 30*time.Minute))
	s.Add(conv(5, chargedesk.ChannelChat, "en", "", chargedesk.ConversationOpen, false, false, 0)) // outside the days: counted, no bar
	r := s.Report()
	if r.Conversations != 14 || r.ResolvedByAgent != 10 || r.Escalations != 3 || r.Resolutions != 11 {
		t.Fatalf("report %+v", r)
	}
	// Nearest rank over 1…10 min and 30 min: p50 is the 6th (6 min), p95 the 11th.
	if r.P50 != 6*time.Minute || r.P95 != 30*time.Minute {
		t.Fatalf("p50 %v p95 %v", r.P50, r.P95)
	}
	if r.ByChannel[0] != (chargedesk.Count{Name: "sms", N: 10}) || r.ByLanguage[0] != (chargedesk.Count{Name: "en", N: 12}) {
		t.Fatalf("by channel %v, by language %v", r.ByChannel, r.ByLanguage)
	}
	want := []chargedesk.Count{{Name: "connector_stuck", N: 1}, {Name: "payment_failure", N: 1}, {Name: "unknown", N: 1}}
	if !slices.Equal(r.EscalationsByCategory, want) {
		t.Fatalf("escalations %v", r.EscalationsByCategory)
	}
	if len(r.Days) != 3 || r.Days[0].Conversations != 10 || r.Days[0].ResolvedByAgent != 10 || r.Days[1].Conversations != 2 || r.Days[2].Conversations != 1 {
		t.Fatalf("days %+v", r.Days)
	}
}
