package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
)

// Bounds of the ticket pages.
const (
	ticketPageSize = 50
	// maxResolutionLen bounds a resolution note, as the REST API does.
	maxResolutionLen = 2000
	// maxTicketTurns bounds the transcript shown on a ticket's page.
	maxTicketTurns = 500
	maxTicketIDLen = 64
	maxCategoryLen = 64
)

func init() {
	// pathEscape puts a value into one segment of a link's path.
	funcs["pathEscape"] = url.PathEscape
}

// queueStatuses are the queue's status filters: "active" (the default)
// keeps what still needs people.
var queueStatuses = map[string][]chargedesk.TicketStatus{
	"active":   {chargedesk.TicketOpen, chargedesk.TicketAssigned},
	"open":     {chargedesk.TicketOpen},
	"assigned": {chargedesk.TicketAssigned},
	"closed":   {chargedesk.TicketClosed},
	"all":      nil,
}

// ticketCategories are offered in the queue's category filter: the
// agent's routing queues and the drivers' problems.
var ticketCategories = []string{
	"field_service", "outage", "billing", "account", "human_review",
	chargedesk.CategoryHardwareDamage, chargedesk.CategorySessionWontStart, chargedesk.CategoryChargerOffline,
	chargedesk.CategoryConnectorStuck, chargedesk.CategoryRFIDFailure, chargedesk.CategoryPaymentFailure,
	chargedesk.CategorySlowCharging, chargedesk.CategoryBillingDispute, chargedesk.CategoryOther,
}

// queueRow is one ticket of the queue.
type queueRow struct {
	*chargedesk.Ticket
	Urgency chargedesk.Urgency
}

// ticketQueue lists tickets most urgent first — safety reports, then
// failures that stop a driver charging, then the rest — oldest first
// within a level, filtered by status and category, a page at a time.
func (c *Console) ticketQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = "active"
	}
	statuses, ok := queueStatuses[status]
	if !ok {
		c.fail(w, r, http.StatusBadRequest, "Unknown status filter.")
		return
	}
	category := q.Get("category")
	if !validCategory(category) {
		c.fail(w, r, http.StatusBadRequest, "A category is at most 64 characters of a-z, 0-9, '_' or '-'.")
		return
	}
	page := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || (n-1)*ticketPageSize > chargedesk.MaxTicketOffset {
			c.fail(w, r, http.StatusBadRequest, "Unknown page.")
			return
		}
		page = n
	}
	list, err := c.cfg.Store.Tickets(r.Context(), chargedesk.TicketFilter{Statuses: statuses, Category: category,
		Order: chargedesk.TicketsByUrgency, Offset: (page - 1) * ticketPageSize, Limit: ticketPageSize + 1})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	more := len(list) > ticketPageSize
	if more {
		list = list[:ticketPageSize]
	}
	rows := make([]queueRow, len(list))
	for i, t := range list {
		rows[i] = queueRow{Ticket: t, Urgency: t.Urgency()}
	}
	data := map[string]any{
		"Rows": rows, "Status": status, "Category": category, "Categories": ticketCategories,
		"Statuses": []string{"active", "open", "assigned", "closed", "all"}, "Page": page,
	}
	if page > 1 {
		data["Prev"] = strconv.Itoa(page - 1)
	}
	if more {
		data["Next"] = strconv.Itoa(page + 1)
	}
	c.show(w, r, "tickets", "tickets", "Tickets", data)
}

func validCategory(s string) bool {
	if len(s) > maxCategoryLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// ticketView is what the ticket's page shows.
type ticketView struct {
	T        *chargedesk.Ticket
	Urgency  chargedesk.Urgency
	Evidence string
	Turns    []chargedesk.Turn
	// Clipped is set when older turns were left out.
	Clipped   bool
	Comments  []*chargedesk.TicketComment
	CanNote   bool
	History   []*chargedesk.AuditEntry
	Assignees []*chargedesk.Operator
	Me        string
}

// ticketPage shows one ticket: what the agent found (diagnosis, evidence),
// the conversation, comments, what operators did with it, and the forms
// to assign, comment and resolve.
func (c *Console) ticketPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t, ok := c.ticketOf(w, r)
	if !ok {
		return
	}
	v := ticketView{T: t, Urgency: t.Urgency(), Evidence: prettyJSON(t.Evidence), CanNote: c.cfg.Comments != nil,
		Me: operatorOf(ctx).op.Username}
	if t.ConversationID != "" {
		turns, err := c.cfg.Store.Turns(ctx, t.ConversationID)
		if err != nil && chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			c.failErr(w, r, err)
			return
		}
		if len(turns) > maxTicketTurns {
			turns, v.Clipped = turns[len(turns)-maxTicketTurns:], true
		}
		v.Turns = turns
	}
	if c.cfg.Comments != nil {
		var err error
		if v.Comments, err = c.cfg.Comments.TicketComments(ctx, t.ID, 1000); err != nil {
			c.failErr(w, r, err)
			return
		}
	}
	history, err := c.cfg.Store.AuditEntries(ctx, chargedesk.AuditFilter{CommandID: t.ID, ActorPrefix: chargedesk.ConsoleActorPrefix, Limit: 1000})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	v.History = history
	if operatorOf(ctx).op.Role.Allows(chargedesk.RoleOperator) {
		if v.Assignees, err = c.assignees(r); err != nil {
			c.failErr(w, r, err)
			return
		}
	}
	c.show(w, r, "ticket", "tickets", "Ticket "+t.ID, v)
}

// ticketOf reads the ticket the path names; on failure it has answered.
func (c *Console) ticketOf(w http.ResponseWriter, r *http.Request) (*chargedesk.Ticket, bool) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxTicketIDLen {
		c.fail(w, r, http.StatusNotFound, "There is no such ticket.")
		return nil, false
	}
	t, err := c.cfg.Store.Ticket(r.Context(), id)
	if err != nil {
		c.failErr(w, r, err)
		return nil, false
	}
	return t, true
}

// assignees are the accounts a ticket may be given to: active, and allowed
// to work tickets.
func (c *Console) assignees(r *http.Request) ([]*chargedesk.Operator, error) {
	all, err := c.cfg.Operators.Operators(r.Context())
	if err != nil {
		return nil, err
	}
	var out []*chargedesk.Operator
	for _, o := range all {
		if !o.Disabled && o.Role.Allows(chargedesk.RoleOperator) {
			out = append(out, o)
		}
	}
	return out, nil
}

// prettyJSON indents a JSON document for reading; what is not JSON is
// shown as it is.
func prettyJSON(doc json.RawMessage) string {
	if len(doc) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, doc, "", "  "); err != nil {
		return string(doc)
	}
	return b.String()
}

// parseForm reads a console form, bounded.
func (c *Console) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	return true
}

// formText is a form's free text: line ends made "\n", spaces around
// trimmed; ok is false when it is empty, longer than max bytes, not UTF-8
// or holds control characters.
func formText(r *http.Request, field string, max int) (string, bool) {
	s := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get(field), "\r\n", "\n"))
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return s, false
	}
	for _, c := range s {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return s, false
		}
	}
	return s, true
}

// doneTicket sends the browser back to the ticket with a message.
func doneTicket(w http.ResponseWriter, r *http.Request, id, msg string) {
	http.Redirect(w, r, "/console/tickets/"+url.PathEscape(id)+"?done="+url.QueryEscape(msg), http.StatusSeeOther)
}

// ticketAssign gives a ticket to the signed-in operator or to another
// active account that works tickets: open or assigned → assigned.
func (c *Console) ticketAssign(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) {
		return
	}
	si := operatorOf(r.Context())
	who := r.PostForm.Get("assignee")
	if who == "" {
		who = si.op.Username
	}
	ops, err := c.assignees(r)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	known := false
	for _, o := range ops {
		known = known || o.Username == who
	}
	if !known {
		c.fail(w, r, http.StatusBadRequest, "Tickets go to an active operator or admin account.")
		return
	}
	id := r.PathValue("id")
	if len(id) > maxTicketIDLen {
		c.fail(w, r, http.StatusNotFound, "There is no such ticket.")
		return
	}
	var from chargedesk.TicketStatus
	var was string
	_, err = c.cfg.Store.UpdateTicket(r.Context(), id, func(t *chargedesk.Ticket) error {
		from, was = t.Status, t.Assignee
		if !t.Status.CanMove(chargedesk.TicketAssigned) {
			return chargedesk.Errorf(chargedesk.ECONFLICT, "a %s ticket cannot be assigned; reopen it first", t.Status)
		}
		t.Status, t.Assignee = chargedesk.TicketAssigned, who
		return nil
	})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	reason := fmt.Sprintf("assigned to %s (was %s", who, from)
	if was != "" {
		reason += ", " + was
	}
	c.audit(r.Context(), si.op, "console.ticket.assign", id, "assigned", reason+")")
	doneTicket(w, r, id, "Ticket assigned to "+who+".")
}

// ticketComment adds an operator's comment to a ticket.
func (c *Console) ticketComment(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) {
		return
	}
	if c.cfg.Comments == nil {
		c.fail(w, r, http.StatusNotImplemented, "Comments are not kept on this node.")
		return
	}
	body, ok := formText(r, "body", chargedesk.MaxCommentLen)
	if !ok {
		c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("A comment is 1 to %d bytes of text.", chargedesk.MaxCommentLen))
		return
	}
	si := operatorOf(r.Context())
	id := r.PathValue("id")
	if len(id) > maxTicketIDLen {
		c.fail(w, r, http.StatusNotFound, "There is no such ticket.")
		return
	}
	cm := &chargedesk.TicketComment{TicketID: id, Author: chargedesk.ConsoleActorPrefix + si.op.Username, Body: body, At: c.cfg.Now()}
	if err := c.cfg.Comments.AddTicketComment(r.Context(), cm); err != nil {
		c.failErr(w, r, err)
		return
	}
	c.audit(r.Context(), si.op, "console.ticket.comment", id, "commented", fmt.Sprintf("comment %d: %s", cm.ID, textcut.Marked(body, 160)))
	doneTicket(w, r, id, "Comment added.")
}

// ticketResolve closes a ticket with the resolution note it requires.
func (c *Console) ticketResolve(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) {
		return
	}
	note, ok := formText(r, "resolution", maxResolutionLen)
	if !ok {
		c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Resolving a ticket needs a note of 1 to %d bytes saying what was done.", maxResolutionLen))
		return
	}
	c.moveTicket(w, r, chargedesk.TicketClosed, note, "console.ticket.resolve", "resolved", "Ticket resolved.")
}

// ticketReopen puts a closed ticket back in the queue.
func (c *Console) ticketReopen(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) {
		return
	}
	c.moveTicket(w, r, chargedesk.TicketOpen, "", "console.ticket.reopen", "reopened", "Ticket reopened.")
}

// moveTicket moves the path's ticket to status (CanMove decides), with the
// resolution note when closing, and audits it.
func (c *Console) moveTicket(w http.ResponseWriter, r *http.Request, to chargedesk.TicketStatus, note, kind, outcome, done string) {
	si := operatorOf(r.Context())
	id := r.PathValue("id")
	if len(id) > maxTicketIDLen {
		c.fail(w, r, http.StatusNotFound, "There is no such ticket.")
		return
	}
	var from chargedesk.TicketStatus
	_, err := c.cfg.Store.UpdateTicket(r.Context(), id, func(t *chargedesk.Ticket) error {
		from = t.Status
		if !t.Status.CanMove(to) || t.Status == to {
			return chargedesk.Errorf(chargedesk.ECONFLICT, "a %s ticket cannot become %s", t.Status, to)
		}
		t.Status = to
		switch to {
		case chargedesk.TicketClosed:
			t.Resolution = note
		case chargedesk.TicketOpen:
			t.Assignee = ""
		}
		return nil
	})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	reason := "was " + string(from)
	if note != "" {
		reason += ": " + textcut.Marked(note, 300)
	}
	c.audit(r.Context(), si.op, kind, id, outcome, reason)
	doneTicket(w, r, id, done)
}
