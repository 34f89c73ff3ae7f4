package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
)

// The reports page: NEVI per-port uptime for a month (with its CSV and the
// outages operators exclude) and the support figures of a period.

// Bounds of what the reports page shows in full; past them it counts, and
// the CSV has everything.
const (
	maxPortRows      = 100
	maxExclusionRows = 200
	// defaultSupportDays is the support period when none is asked for.
	defaultSupportDays = 30
)

// earliestReport is the first month and day the reports accept.
var earliestReport = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	monthRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
	dayRE   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// reportStore is the console's ReportStore, or nil when the store keeps
// none.
func (c *Console) reportStore(w http.ResponseWriter, r *http.Request) chargedesk.ReportStore {
	if c.cfg.Reports == nil {
		c.fail(w, r, http.StatusServiceUnavailable, "Reports are not available with this store.")
	}
	return c.cfg.Reports
}

// parseMonth reads a month "YYYY-MM" (UTC): empty is the current month. It
// returns the month's first instant and the end of what is reported: the
// next month's first instant, or now for the current month. A month before
// 2000 or after the current one is refused.
func parseMonth(s string, now time.Time) (from, to time.Time, err error) {
	now = now.UTC()
	current := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from = current
	if s != "" {
		if !monthRE.MatchString(s) {
			return from, to, fmt.Errorf("the month must be given as YYYY-MM")
		}
		if from, err = time.Parse("2006-01", s); err != nil {
			return from, to, fmt.Errorf("the month must be given as YYYY-MM")
		}
	}
	if from.Before(earliestReport) || from.After(current) {
		return from, to, fmt.Errorf("the month must be between 2000-01 and %s", current.Format("2006-01"))
	}
	to = from.AddDate(0, 1, 0)
	if to.After(now) {
		to = now.Truncate(time.Second)
		if !to.After(from) {
			to = from.Add(time.Second)
		}
	}
	return from, to, nil
}

// parseDays reads a support period of whole UTC days, from and to
// inclusive ("YYYY-MM-DD"); empty ones are the last defaultSupportDays
// days up to today. It returns [from, the day after to).
func parseDays(fromS, toS string, now time.Time) (from, end time.Time, err error) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	to := today
	if toS != "" {
		if to, err = parseDay(toS); err != nil {
			return from, end, err
		}
	}
	from = to.AddDate(0, 0, -(defaultSupportDays - 1))
	if fromS != "" {
		if from, err = parseDay(fromS); err != nil {
			return from, end, err
		}
	}
	switch {
	case from.Before(earliestReport) || to.After(today):
		return from, end, fmt.Errorf("the period must lie between 2000-01-01 and today")
	case from.After(to):
		return from, end, fmt.Errorf("the period must end on or after its first day")
	case to.Sub(from) >= chargedesk.MaxSupportDays*24*time.Hour:
		return from, end, fmt.Errorf("the period is at most %d days", chargedesk.MaxSupportDays)
	}
	return from, to.AddDate(0, 0, 1), nil
}

func parseDay(s string) (time.Time, error) {
	if !dayRE.MatchString(s) {
		return time.Time{}, fmt.Errorf("days must be given as YYYY-MM-DD")
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("days must be given as YYYY-MM-DD")
	}
	return d, nil
}

// portRow is one port as the page shows it.
type portRow struct {
	ChargerID   string
	ConnectorID int
	Minutes     string
	Outage      string
	Excluded    string
	Uptime      string
	Causes      string
	Note        string
}

func minutes(d time.Duration) string { return strconv.FormatFloat(d.Minutes(), 'f', 2, 64) }

func uptimeText(p chargedesk.PortUptime) string {
	u, ok := p.Uptime()
	if !ok {
		return ""
	}
	return strconv.FormatFloat(u, 'f', 3, 64)
}

func causesText(cs []chargedesk.ExclusionCause) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ";")
}

// portNote says what a port's figures rest on, when it is not the whole
// period.
func portNote(p chargedesk.PortUptime, from time.Time) string {
	switch {
	case !p.HasData():
		return "no status history"
	case p.CountedFrom.After(from):
		return "counted from " + p.CountedFrom.UTC().Format(time.RFC3339)
	}
	return ""
}

func toPortRow(p chargedesk.PortUptime, from time.Time) portRow {
	return portRow{ChargerID: p.ChargerID, ConnectorID: p.ConnectorID, Minutes: minutes(p.Counted), Outage: minutes(p.Outage),
		Excluded: minutes(p.Excluded), Uptime: uptimeText(p), Causes: causesText(p.Causes), Note: portNote(p, from)}
}

// exclusionRow is an exclusion as the page shows it.
type exclusionRow struct {
	ID                  int64
	ChargerID           string
	Port                string
	From, To            time.Time
	Cause, Note, Author string
	CreatedAt           time.Time
}

type causeOption struct{ Value, Label string }

// reportsPage shows a month's uptime and a period's support figures.
func (c *Console) reportsPage(w http.ResponseWriter, r *http.Request) {
	rs := c.reportStore(w, r)
	if rs == nil {
		return
	}
	ctx := r.Context()
	now := c.cfg.Now().UTC()
	q := r.URL.Query()
	from, to, err := parseMonth(q.Get("month"), now)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "Month: "+err.Error()+".")
		return
	}
	sFrom, sEnd, err := parseDays(q.Get("from"), q.Get("to"), now)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "Support period: "+err.Error()+".")
		return
	}
	report, err := c.uptime.report(ctx, rs, from, to, now)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	excl, err := rs.UptimeExclusions(ctx, from, to)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	stats := chargedesk.NewSupportStats(sFrom, sEnd)
	if err := rs.SupportConversations(ctx, sFrom, sEnd, func(sc chargedesk.SupportConversation) error {
		stats.Add(sc)
		return nil
	}); err != nil {
		c.failErr(w, r, err)
		return
	}
	support := stats.Report()

	month := from.Format("2006-01")
	data := map[string]any{
		"Month": month, "MonthLabel": from.Format("January 2006"), "Partial": to.Before(from.AddDate(0, 1, 0)),
		"MinMonth": earliestReport.Format("2006-01"), "MaxMonth": now.Format("2006-01"),
		"PrevMonth": "", "NextMonth": "", "Threshold": chargedesk.NEVIMinUptime,
		"From": from, "To": to,
		"SupportFrom": sFrom.Format("2006-01-02"), "SupportTo": sEnd.AddDate(0, 0, -1).Format("2006-01-02"),
		"Today": now.Format("2006-01-02"),
	}
	if prev := from.AddDate(0, -1, 0); !prev.Before(earliestReport) {
		data["PrevMonth"] = prev.Format("2006-01")
	}
	if next := from.AddDate(0, 1, 0); !next.After(now) {
		data["NextMonth"] = next.Format("2006-01")
	}

	withData := 0
	for _, p := range report.Ports {
		if p.HasData() {
			withData++
		}
	}
	data["Ports"], data["WithData"] = len(report.Ports), withData
	data["Network"] = "—"
	if u, ok := report.Network(); ok {
		data["Network"] = strconv.FormatFloat(u, 'f', 3, 64) + " %"
	}
	rows := func(ps []chargedesk.PortUptime) []portRow {
		out := make([]portRow, 0, min(len(ps), maxPortRows))
		for _, p := range ps[:min(len(ps), maxPortRows)] {
			out = append(out, toPortRow(p, from))
		}
		return out
	}
	notCompliant, noData := report.NotCompliant(), report.NoData()
	data["NotCompliant"], data["NotCompliantCount"] = rows(notCompliant), len(notCompliant)
	data["NoData"], data["NoDataCount"] = rows(noData), len(noData)
	data["MorePorts"] = maxPortRows

	var exRows []exclusionRow
	for _, e := range excl[:min(len(excl), maxExclusionRows)] {
		port := "every port"
		if e.ConnectorID > 0 {
			port = "port " + strconv.Itoa(e.ConnectorID)
		}
		exRows = append(exRows, exclusionRow{ID: e.ID, ChargerID: e.ChargerID, Port: port, From: e.From, To: e.To,
			Cause: e.Cause.Label(), Note: e.Note, Author: e.CreatedBy, CreatedAt: e.CreatedAt})
	}
	data["Exclusions"], data["ExclusionCount"] = exRows, len(excl)
	causes := make([]causeOption, len(chargedesk.ExclusionCauses))
	for i, cs := range chargedesk.ExclusionCauses {
		causes[i] = causeOption{Value: string(cs), Label: cs.Label()}
	}
	data["Causes"] = causes

	data["Support"] = support
	data["AgentShare"] = "—"
	if support.Conversations > 0 {
		data["AgentShare"] = strconv.FormatFloat(float64(support.ResolvedByAgent)/float64(support.Conversations)*100, 'f', 1, 64) + " %"
	}
	data["P50"], data["P95"] = "—", "—"
	if support.Resolutions > 0 {
		data["P50"], data["P95"] = humanDuration(support.P50), humanDuration(support.P95)
	}
	data["DayChart"] = dayChart(support.Days)
	data["CategoryChart"] = categoryChart(support.EscalationsByCategory)
	c.show(w, r, "reports", "reports", "Reports", data)
}

// uptimeCSV is a month's uptime, one row per port.
func (c *Console) uptimeCSV(w http.ResponseWriter, r *http.Request) {
	rs := c.reportStore(w, r)
	if rs == nil {
		return
	}
	from, to, err := parseMonth(r.URL.Query().Get("month"), c.cfg.Now())
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "Month: "+err.Error()+".")
		return
	}
	report, err := c.uptime.report(r.Context(), rs, from, to, c.cfg.Now())
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	month := from.Format("2006-01")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="chargedesk-uptime-`+month+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"month", "station_id", "port_id", "minutes", "outage_minutes", "excluded_minutes",
		"uptime_pct", "excluded_causes", "note"})
	for _, p := range report.Ports {
		row := toPortRow(p, from)
		// Charger ids are letters, digits, '-', '_' and '.', causes fixed
		// words: no cell can start a spreadsheet formula.
		_ = cw.Write([]string{month, row.ChargerID, strconv.Itoa(row.ConnectorID), row.Minutes, row.Outage, row.Excluded,
			row.Uptime, row.Causes, row.Note})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		c.log.Warn("console: write the uptime CSV", "err", err)
	}
}

// backToReports redirects to the reports page of the month the form was
// sent from (or of fallback), with a flash message.
func backToReports(w http.ResponseWriter, r *http.Request, fallback time.Time, done string, now time.Time) {
	month := r.PostForm.Get("month")
	if _, _, err := parseMonth(month, now); err != nil || month == "" {
		month = fallback.UTC().Format("2006-01")
	}
	v := url.Values{"month": {month}, "done": {done}}
	http.Redirect(w, r, "/console/reports?"+v.Encode()+"#exclusions", http.StatusSeeOther)
}

// parseFormTime reads a datetime-local field, taken as UTC.
func parseFormTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("times must be given as YYYY-MM-DDTHH:MM (UTC)")
}

// addExclusion records an outage excluded from a port's uptime.
func (c *Console) addExclusion(w http.ResponseWriter, r *http.Request) {
	rs := c.reportStore(w, r)
	if rs == nil {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	si := operatorOf(r.Context())
	f := r.PostForm
	connector, err := strconv.Atoi(strings.TrimSpace(f.Get("connector")))
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "The port must be a number: 0 for every port of the charger.")
		return
	}
	start, err := parseFormTime(f.Get("start"))
	end, err2 := parseFormTime(f.Get("end"))
	if err != nil || err2 != nil {
		c.fail(w, r, http.StatusBadRequest, "Start and end: times must be given as YYYY-MM-DDTHH:MM (UTC).")
		return
	}
	e := &chargedesk.UptimeExclusion{ChargerID: strings.TrimSpace(f.Get("charger")), ConnectorID: connector, From: start, To: end,
		Cause: chargedesk.ExclusionCause(f.Get("cause")), Note: strings.TrimSpace(f.Get("note")), CreatedBy: si.op.Username}
	if err := rs.AddUptimeExclusion(r.Context(), e); err != nil {
		c.failErr(w, r, err)
		return
	}
	c.uptime.forget()
	c.audit(r.Context(), si.op, "console.uptime_exclusion.add", "uptime-exclusion:"+strconv.FormatInt(e.ID, 10), "recorded", exclusionSummary(e))
	backToReports(w, r, e.From, "Excluded outage recorded.", c.cfg.Now())
}

// deleteExclusion removes an exclusion recorded by mistake.
func (c *Console) deleteExclusion(w http.ResponseWriter, r *http.Request) {
	rs := c.reportStore(w, r)
	if rs == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, http.StatusNotFound, "There is no such exclusion.")
		return
	}
	_ = r.ParseForm()
	si := operatorOf(r.Context())
	e, err := rs.DeleteUptimeExclusion(r.Context(), id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.uptime.forget()
	c.audit(r.Context(), si.op, "console.uptime_exclusion.delete", "uptime-exclusion:"+strconv.FormatInt(id, 10), "deleted", exclusionSummary(e))
	backToReports(w, r, e.From, "Excluded outage deleted.", c.cfg.Now())
}

// exclusionSummary is an exclusion in one line for the audit log.
func exclusionSummary(e *chargedesk.UptimeExclusion) string {
	note := e.Note
	if len(note) > 200 {
		note = strings.ToValidUTF8(note[:200], "") + "…"
	}
	return fmt.Sprintf("%s %s/%d %s to %s: %s", e.Cause, e.ChargerID, e.ConnectorID,
		e.From.UTC().Format(time.RFC3339), e.To.UTC().Format(time.RFC3339), note)
}

// humanDuration says a duration shortly: "45 s", "3 min 20 s", "2 h 5 min",
// "3 d 4 h".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d d %d h", int(d.Hours())/24, int(d.Hours())%24)
}
