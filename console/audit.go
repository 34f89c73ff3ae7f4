package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
)

// Bounds of the audit pages.
const (
	auditPageSize     = 100
	maxAuditFilterLen = 100
)

// auditRow is one entry as the audit pages show it.
type auditRow struct {
	*chargedesk.AuditEntry
	// Detail is the entry's detail, indented.
	Detail string
}

func auditRows(entries []*chargedesk.AuditEntry) []auditRow {
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		rows[i] = auditRow{AuditEntry: e, Detail: prettyJSON(e.Detail)}
	}
	return rows
}

// auditForm is the audit search's filters as the form sent them.
type auditForm struct {
	Charger, Actor, Kind, Command, From, To string
}

// auditTimeLayouts are the times the search accepts: what a
// datetime-local field sends (read as UTC), and RFC 3339.
var auditTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

func parseAuditTime(s string) (time.Time, bool) {
	for _, l := range auditTimeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// auditFilterOf reads and checks the search's query; msg says what is
// wrong with it.
func auditFilterOf(r *http.Request) (f chargedesk.AuditFilter, form auditForm, msg string) {
	q := r.URL.Query()
	form = auditForm{Charger: strings.TrimSpace(q.Get("charger")), Actor: strings.TrimSpace(q.Get("actor")),
		Kind: strings.TrimSpace(q.Get("kind")), Command: strings.TrimSpace(q.Get("command")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	for _, v := range []string{form.Charger, form.Actor, form.Kind, form.Command, form.From, form.To} {
		if len(v) > maxAuditFilterLen || !utf8.ValidString(v) {
			return f, form, "A filter is at most 100 characters."
		}
	}
	f = chargedesk.AuditFilter{ChargerID: form.Charger, ActorPrefix: form.Actor, Kind: form.Kind, CommandID: form.Command,
		Newest: true, Limit: auditPageSize + 1}
	if form.Charger != "" {
		if err := chargedesk.ValidateChargerID(form.Charger); err != nil {
			return f, form, chargedesk.ErrorMessage(err)
		}
	}
	var ok bool
	if form.From != "" {
		if f.Since, ok = parseAuditTime(form.From); !ok {
			return f, form, "From is a time like 2025-03-01T14:05 (UTC)."
		}
	}
	if form.To != "" {
		if f.Until, ok = parseAuditTime(form.To); !ok {
			return f, form, "To is a time like 2025-03-01T14:05 (UTC)."
		}
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return f, form, "Unknown page."
		}
		f.BeforeSeq = n
	}
	return f, form, ""
}

// auditSearch lists the audit log newest first, filtered by charger,
// actor (a prefix: "agent:", "console:ada"), kind, command and time, a
// page at a time going back by sequence number.
func (c *Console) auditSearch(w http.ResponseWriter, r *http.Request) {
	f, form, msg := auditFilterOf(r)
	if msg != "" {
		c.fail(w, r, http.StatusBadRequest, msg)
		return
	}
	entries, err := c.cfg.Store.AuditEntries(r.Context(), f)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	data := map[string]any{"Form": form, "Actors": []string{"agent:", "console:", "operator:"}, "Newer": f.BeforeSeq > 0}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		data["Older"] = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	data["Rows"] = auditRows(entries)
	c.show(w, r, "audit", "audit", "Audit log", data)
}

// auditEntry shows one entry, with its place in the chain.
func (c *Console) auditEntry(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		c.fail(w, r, http.StatusNotFound, "There is no such audit entry.")
		return
	}
	entries, err := c.cfg.Store.AuditEntries(r.Context(), chargedesk.AuditFilter{AfterSeq: seq - 1, BeforeSeq: seq + 1, Limit: 1})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	if len(entries) == 0 {
		c.fail(w, r, http.StatusNotFound, "There is no such audit entry.")
		return
	}
	c.show(w, r, "auditentry", "audit", "Audit entry "+strconv.FormatInt(seq, 10), auditRows(entries)[0])
}

// auditVerify walks the whole hash chain (read-only, so any signed-in
// operator may) and says whether it is intact or which entry is the first
// that does not hold.
func (c *Console) auditVerify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The newest entry before the walk: every entry up to it is covered.
	last, err := c.cfg.Store.AuditEntries(ctx, chargedesk.AuditFilter{Newest: true, Limit: 1})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	var n int64
	if len(last) > 0 {
		n = last[0].Seq
	}
	data := map[string]any{"Entries": n}
	err = c.cfg.Store.VerifyAudit(ctx)
	if seq, broken := chargedesk.BrokenAuditEntry(err); broken {
		c.log.Warn("console: the audit chain is broken", "entry", seq, "operator", operatorOf(ctx).op.Username, "err", err)
		data["Broken"], data["Problem"] = seq, chargedesk.ErrorMessage(err)
	} else if err != nil {
		c.failErr(w, r, err)
		return
	}
	c.show(w, r, "auditverify", "audit", "Audit chain", data)
}
