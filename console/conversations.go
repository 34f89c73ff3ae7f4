package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/sse"
)

// Assistant is the support agent as the console works with it: a person
// takes a conversation over and hands it back (the driver is told: the
// notice is returned, stored as a turn), and reads what the agent found.
// *agent.Agent implements it.
type Assistant interface {
	TakeOver(ctx context.Context, id, operator string) (*chargedesk.Conversation, *chargedesk.Turn, error)
	HandBack(ctx context.Context, id, by string, force bool) (*chargedesk.Conversation, *chargedesk.Turn, error)
	Findings(c *chargedesk.Conversation) chargedesk.Findings
}

// listPage is how many conversations a page of the list shows.
const listPage = 50

// Bounds of the live views: streams open at once, in all and per
// operator; how long a change waits to be sent with the next ones; how
// many changed conversations the list's stream keeps before it asks the
// page to reload; how often the views read the store without a feed.
const (
	maxStreams       = 500
	maxStreamsPerOp  = 12
	listDebounce     = 250 * time.Millisecond
	maxListChanges   = 200
	pollWithoutFeed  = 2 * time.Second
	pollWithFeed     = 30 * time.Second
	maxTurnsOnStream = 2000
)

// phaseLabels name the phases as the console shows them.
var phaseLabels = map[chargedesk.ConversationPhase]string{
	chargedesk.PhaseAgent:     "Agent working",
	chargedesk.PhaseCharger:   "Waiting on a charger",
	chargedesk.PhaseEscalated: "Escalated",
	chargedesk.PhasePerson:    "With a person",
	chargedesk.PhaseDone:      "Resolved / closed",
}

var channelLabels = map[chargedesk.Channel]string{
	chargedesk.ChannelChat: "Web chat", chargedesk.ChannelSMS: "SMS", chargedesk.ChannelVoice: "Voice", chargedesk.ChannelAPI: "API",
}

var languageLabels = map[string]string{"en": "English", "fr": "French", "es": "Spanish"}

var verifiedLabels = map[chargedesk.Verification]string{
	chargedesk.VerifiedNone: "not verified", chargedesk.VerifiedPhone: "phone number on file",
	chargedesk.VerifiedCard: "last 4 digits of a card on file", chargedesk.VerifiedSession: "the session's connector and start time",
	chargedesk.VerifiedOperator: "by an operator",
}

// listFilter is what the list is narrowed by, as the query string says.
type listFilter struct {
	Channel, Language, Category, State string
	After                              string
}

// parseListFilter reads and checks the list's query: each filter one of
// its known values, the cursor well formed. EINVALID otherwise.
func parseListFilter(q url.Values) (listFilter, chargedesk.ConversationFilter, error) {
	lf := listFilter{Channel: q.Get("channel"), Language: q.Get("language"), Category: q.Get("category"), State: q.Get("state"), After: q.Get("after")}
	f := chargedesk.ConversationFilter{ByActivity: true, Limit: listPage + 1}
	if lf.Channel != "" {
		if !chargedesk.Channel(lf.Channel).Valid() {
			return lf, f, chargedesk.Errorf(chargedesk.EINVALID, "There is no channel %q.", textcut.Marked(lf.Channel, 40))
		}
		f.Channel = chargedesk.Channel(lf.Channel)
	}
	if lf.Language != "" {
		if !slices.Contains(chargedesk.Languages, lf.Language) {
			return lf, f, chargedesk.Errorf(chargedesk.EINVALID, "There is no language %q.", textcut.Marked(lf.Language, 40))
		}
		f.Language = lf.Language
	}
	if lf.Category != "" {
		if !slices.Contains(chargedesk.Categories, lf.Category) {
			return lf, f, chargedesk.Errorf(chargedesk.EINVALID, "There is no category %q.", textcut.Marked(lf.Category, 40))
		}
		f.Category = lf.Category
	}
	if lf.State != "" {
		if !chargedesk.ConversationPhase(lf.State).Valid() {
			return lf, f, chargedesk.Errorf(chargedesk.EINVALID, "There is no state %q.", textcut.Marked(lf.State, 40))
		}
		f.Phase = chargedesk.ConversationPhase(lf.State)
	}
	if lf.After != "" {
		cur, ok := parseCursor(lf.After)
		if !ok {
			return lf, f, chargedesk.Errorf(chargedesk.EINVALID, "That page of the list does not exist.")
		}
		f.After = &cur
	}
	return lf, f, nil
}

// query is the filter's query string with after as the cursor.
func (lf listFilter) query(after string) string {
	v := url.Values{}
	for k, s := range map[string]string{"channel": lf.Channel, "language": lf.Language, "category": lf.Category, "state": lf.State, "after": after} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// formatCursor writes a place in the list: Unix microseconds, '.', id.
func formatCursor(c chargedesk.ConversationCursor) string {
	return strconv.FormatInt(c.At.UnixMicro(), 10) + "." + c.ID
}

func parseCursor(s string) (chargedesk.ConversationCursor, bool) {
	micros, id, ok := strings.Cut(s, ".")
	if !ok || len(micros) > 19 || id == "" || len(id) > 64 || !utf8.ValidString(id) {
		return chargedesk.ConversationCursor{}, false
	}
	n, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || n < 0 {
		return chargedesk.ConversationCursor{}, false
	}
	return chargedesk.ConversationCursor{At: time.UnixMicro(n).UTC(), ID: id}, true
}

// rowView is one conversation of the list, as the page and its stream
// show it: nothing personal beyond the last digits of a phone.
type rowView struct {
	ID         string `json:"id"`
	URL        string `json:"url"`
	Channel    string `json:"channel"`
	Language   string `json:"language"`
	Category   string `json:"category"`
	Phase      string `json:"phase"`
	PhaseLabel string `json:"phaseLabel"`
	Operator   string `json:"operator,omitempty"`
	From       string `json:"from,omitempty"`
	Driver     string `json:"driver,omitempty"`
	Charger    string `json:"charger,omitempty"`
	Active     string `json:"active"`
	ActiveAgo  string `json:"activeAgo"`
	Started    string `json:"started"`
	// Match is false when the conversation no longer belongs in the
	// list as filtered (the page removes it).
	Match bool `json:"match"`
}

func (c *Console) row(conv *chargedesk.Conversation, now time.Time) rowView {
	p := conv.Phase(now)
	r := rowView{ID: conv.ID, URL: "/console/conversations/" + url.PathEscape(conv.ID), Channel: channelLabels[conv.Channel],
		Language: languageLabels[conv.Language], Category: conv.Category, Phase: string(p), PhaseLabel: phaseLabels[p],
		Operator: conv.Operator, From: maskedFrom(conv), Driver: conv.DriverID, Charger: conv.ChargerID,
		Active: stamp(conv.ActiveAt), ActiveAgo: ago(conv.ActiveAt), Started: stamp(conv.CreatedAt), Match: true}
	if r.Category == "" {
		r.Category = "—"
	}
	return r
}

// matches reports whether conv belongs in a list narrowed by f at now.
func matches(f chargedesk.ConversationFilter, conv *chargedesk.Conversation, now time.Time) bool {
	return (f.Channel == "" || conv.Channel == f.Channel) && (f.Language == "" || conv.Language == f.Language) &&
		(f.Category == "" || conv.Category == f.Category) && (f.Phase == "" || conv.Phase(now) == f.Phase)
}

// conversations is the list: newest activity first, narrowed by channel,
// language, category and state, a page at a time; live on its first page.
func (c *Console) conversations(w http.ResponseWriter, r *http.Request) {
	lf, f, err := parseListFilter(r.URL.Query())
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	list, err := c.cfg.Store.Conversations(r.Context(), f)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	now := c.cfg.Now()
	next := ""
	if len(list) > listPage {
		list = list[:listPage]
		next = lf.query(formatCursor(list[len(list)-1].Cursor(true)))
	}
	rows := make([]rowView, 0, len(list))
	for _, conv := range list {
		rows = append(rows, c.row(conv, now))
	}
	var channels, languages, categories, states []option
	for _, ch := range []chargedesk.Channel{chargedesk.ChannelChat, chargedesk.ChannelSMS, chargedesk.ChannelVoice, chargedesk.ChannelAPI} {
		channels = append(channels, option{Value: string(ch), Label: channelLabels[ch]})
	}
	for _, l := range chargedesk.Languages {
		languages = append(languages, option{Value: l, Label: languageLabels[l]})
	}
	for _, cat := range chargedesk.Categories {
		categories = append(categories, option{Value: cat, Label: strings.ReplaceAll(cat, "_", " ")})
	}
	for _, p := range chargedesk.Phases {
		states = append(states, option{Value: string(p), Label: phaseLabels[p]})
	}
	live := ""
	if lf.After == "" {
		live = "/console/conversations/events" + lf.query("")
	}
	c.show(w, r, "conversations", "conversations", "Conversations", map[string]any{
		"Rows": rows, "Filter": lf, "Next": next, "Paged": lf.After != "", "First": lf.query(""), "Live": live,
		"Channels": channels, "Languages": languages, "Categories": categories, "States": states,
	})
}

// watch sets up what a conversation stream needs before it starts: a place
// among the operator's streams, and wake notified at each change of
// conversation id ("" for every conversation) on any node, after on has
// seen it — or, without a feed, every pollWithoutFeed (and every
// pollWithFeed beside one, as a safety net). When it cannot, it answers the
// request and returns false; done releases what it took.
func (c *Console) watch(w http.ResponseWriter, r *http.Request, id string, wake sse.Wake, on func(chargedesk.ConversationChange)) (done func(), ok bool) {
	si := operatorOf(r.Context())
	release, ok := c.streams.Acquire("op:" + si.op.Username)
	if !ok {
		c.fail(w, r, http.StatusTooManyRequests, "Too many live views are open.")
		return nil, false
	}
	poll, unsub := pollWithoutFeed, func() error { return nil }
	if c.cfg.Feed != nil {
		var err error
		unsub, err = c.cfg.Feed.SubscribeConversations(id, func(ch chargedesk.ConversationChange) {
			on(ch)
			wake.Notify()
		})
		if err != nil {
			release()
			c.failErr(w, r, err)
			return nil, false
		}
		poll = pollWithFeed
	}
	ctx, stop := context.WithCancel(r.Context())
	go wake.Every(ctx, poll)
	return func() { stop(); _ = unsub(); release() }, true
}

// listEvents streams the list's changes: for each conversation changed on
// any node, a "row" event with the row as the list shows it and whether
// it still belongs in the list as filtered. Changes are sent in batches
// at most every listDebounce; past maxListChanges waiting, a "reload"
// event asks the page to reload instead.
func (c *Console) listEvents(w http.ResponseWriter, r *http.Request) {
	_, f, err := parseListFilter(r.URL.Query())
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	f.After = nil
	ctx := r.Context()
	wake := sse.NewWake()
	changed := newChangeSet(maxListChanges)
	done, ok := c.watch(w, r, "", wake, func(ch chargedesk.ConversationChange) { changed.add(ch.ID) })
	if !ok {
		return
	}
	defer done()
	stream, err := sse.Start(w, sse.Limits{})
	if err != nil {
		return
	}
	// Without a feed (and, with one, as a safety net) the list's first
	// page is read again: what moved since the last reading is sent.
	var seen time.Time
	if list, err := c.cfg.Store.Conversations(ctx, chargedesk.ConversationFilter{ByActivity: true, Limit: 1}); err == nil && len(list) > 0 {
		seen = list[0].ActiveAt
	}
	var last time.Time
	still := c.signedInStill(r)
	err = stream.Run(ctx, wake, func() error {
		if err := still(); err != nil {
			return err
		}
		if wait := listDebounce - time.Since(last); wait > 0 && !last.IsZero() {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		last = time.Now()
		ids, overflow := changed.take()
		if overflow {
			return stream.Event("reload", "", []byte("{}"))
		}
		if len(ids) == 0 {
			recent, err := c.cfg.Store.Conversations(ctx, chargedesk.ConversationFilter{ByActivity: true, Limit: listPage})
			if err != nil {
				return err
			}
			for _, conv := range recent {
				if conv.ActiveAt.After(seen) {
					ids = append(ids, conv.ID)
				}
			}
		}
		now := c.cfg.Now()
		for i := len(ids) - 1; i >= 0; i-- { // oldest first: the page puts each on top
			conv, err := c.cfg.Store.Conversation(ctx, ids[i])
			if err != nil {
				if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
					continue
				}
				return err
			}
			if conv.ActiveAt.After(seen) {
				seen = conv.ActiveAt
			}
			row := c.row(conv, now)
			row.Match = matches(f, conv, now)
			data, err := json.Marshal(row)
			if err != nil {
				return err
			}
			if err := stream.Event("row", "", data); err != nil {
				return err
			}
		}
		return nil
	})
	c.streamEnded(ctx, err)
}

// changeSet collects the ids of changed conversations, at most max.
type changeSet struct {
	mu       sync.Mutex
	ids      []string
	max      int
	overflow bool
}

func newChangeSet(max int) *changeSet { return &changeSet{max: max} }

func (s *changeSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.ids, id) {
		return
	}
	if len(s.ids) >= s.max {
		s.overflow = true
		return
	}
	s.ids = append(s.ids, id)
}

// take returns the ids collected, in the order they first changed, and
// forgets them.
func (s *changeSet) take() ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, overflow := s.ids, s.overflow
	s.ids, s.overflow = nil, false
	return ids, overflow
}

// errSignedOut ends a live view whose session ended meanwhile.
var errSignedOut = errors.New("console: the session of a live view ended")

// signedInStill returns a check, for a live view's sends, that the
// request's session still holds (not signed out, not expired, the
// account not disabled), read again at most every minute.
func (c *Console) signedInStill(r *http.Request) func() error {
	checked := c.cfg.Now()
	return func() error {
		if now := c.cfg.Now(); now.Sub(checked) < time.Minute {
			return nil
		} else {
			checked = now
		}
		if _, ok := c.session(r); !ok {
			return errSignedOut
		}
		return nil
	}
}

func (c *Console) streamEnded(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil && !errors.Is(err, sse.ErrMaxAge) {
		c.log.Debug("console: live view ended", "err", err)
	}
}

// turnView is one turn of the transcript as the page and its stream show
// it: its text escaped by the template or inserted as text by the
// script, card and phone numbers masked.
type turnView struct {
	Seq  int64  `json:"seq"`
	Role string `json:"role"`
	Who  string `json:"who"`
	Text string `json:"text"`
	At   string `json:"at"`
}

func turnOf(t chargedesk.Turn) turnView {
	v := turnView{Seq: t.Seq, Role: t.Role, Text: maskText(t.Text), At: stamp(t.At)}
	switch t.Role {
	case chargedesk.RoleDriver:
		v.Who = "Driver"
	case chargedesk.RoleAgent:
		v.Who = "Agent"
	case chargedesk.RoleOperatorTurn:
		v.Who = "Operator"
		var m struct{ Operator string }
		if json.Unmarshal(t.Meta, &m) == nil && m.Operator != "" {
			v.Who = "Operator " + m.Operator
		}
	case chargedesk.RoleAction:
		v.Who = "Action"
	}
	return v
}

// panelView is the diagnosis and evidence beside the transcript: what the
// agent recorded and where the conversation stands.
type panelView struct {
	ID         string        `json:"id"`
	Channel    string        `json:"channel"`
	Language   string        `json:"language"`
	Status     string        `json:"status"`
	Phase      string        `json:"phase"`
	PhaseLabel string        `json:"phaseLabel"`
	Operator   string        `json:"operator"`
	Closed     bool          `json:"closed"`
	From       string        `json:"from"`
	Driver     string        `json:"driver"`
	Verified   string        `json:"verified"`
	Charger    string        `json:"charger"`
	Connector  string        `json:"connector"`
	Category   string        `json:"category"`
	Confidence string        `json:"confidence"`
	Cause      string        `json:"cause"`
	Evidence   []string      `json:"evidence"`
	Playbook   string        `json:"playbook"`
	State      string        `json:"state"`
	Asking     string        `json:"asking"`
	Commands   []commandView `json:"commands"`
	Nearest    string        `json:"nearest"`
	TicketID   string        `json:"ticketId"`
	TicketURL  string        `json:"ticketUrl"`
	Flagged    int           `json:"flagged"`
	Started    string        `json:"started"`
	Active     string        `json:"active"`
}

type commandView struct {
	At     string `json:"at"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

func (c *Console) panel(conv *chargedesk.Conversation) panelView {
	now := c.cfg.Now()
	p := conv.Phase(now)
	v := panelView{ID: conv.ID, Channel: channelLabels[conv.Channel], Language: languageLabels[conv.Language], Status: string(conv.Status),
		Phase: string(p), PhaseLabel: phaseLabels[p], Operator: conv.Operator, Closed: conv.Status == chargedesk.ConversationClosed,
		From: maskedFrom(conv), Driver: conv.DriverID, Verified: verifiedLabels[conv.Verified], Charger: conv.ChargerID,
		Category: conv.Category, Playbook: conv.Playbook, State: conv.State, TicketID: conv.TicketID, Flagged: conv.Flagged,
		Started: stamp(conv.CreatedAt), Active: stamp(conv.ActiveAt), Evidence: []string{}, Commands: []commandView{}}
	if conv.ConnectorID > 0 {
		v.Connector = strconv.Itoa(conv.ConnectorID)
	}
	if conv.TicketID != "" {
		v.TicketURL = "/console/tickets/" + url.PathEscape(conv.TicketID)
	}
	if c.cfg.Assistant != nil {
		f := c.cfg.Assistant.Findings(conv)
		if f.Category != "" || f.Confidence > 0 {
			v.Confidence = fmt.Sprintf("%.0f%%", f.Confidence*100)
			if f.Sure {
				v.Confidence += " (the driver's words were clear)"
			}
		}
		v.Cause, v.Asking, v.Nearest = maskText(f.Cause), f.Asking, f.Nearest
		for _, e := range f.Evidence {
			v.Evidence = append(v.Evidence, maskText(e))
		}
		for _, cmd := range f.Commands {
			target := cmd.ChargerID
			if cmd.ConnectorID > 0 {
				target += "/" + strconv.Itoa(cmd.ConnectorID)
			}
			v.Commands = append(v.Commands, commandView{At: stamp(cmd.At), Kind: cmd.Kind, Target: target, Status: cmd.Status, Detail: maskText(cmd.Detail)})
		}
	}
	return v
}

// conversation is one conversation: its live transcript, what the agent
// found, and, for an operator, taking it over, writing and handing back.
func (c *Console) conversation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	conv, err := c.cfg.Store.Conversation(r.Context(), id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	turns, err := c.cfg.Store.Turns(r.Context(), id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	views := make([]turnView, 0, len(turns))
	var last int64
	for _, t := range turns {
		views = append(views, turnOf(t))
		last = t.Seq
	}
	si := operatorOf(r.Context())
	c.show(w, r, "conversation", "conversations", "Conversation "+id, map[string]any{
		"Turns": views, "Panel": c.panel(conv), "Me": si.op.Username, "Admin": si.op.Role == chargedesk.RoleAdmin,
		"Live":        "/console/conversations/" + url.PathEscape(id) + "/events?after=" + strconv.FormatInt(last, 10),
		"CanTakeOver": c.cfg.Assistant != nil, "Voice": conv.Channel == chargedesk.ChannelVoice,
		"MaxText": chargedesk.MaxOperatorMessageLen,
	})
}

// conversationEvents streams a conversation's transcript from the turn
// after the page's (Last-Event-ID, or ?after=): a "turn" event per turn
// stored (id its Seq; an amended turn comes again with its Seq), and a
// "conversation" event with the panel whenever the conversation changed.
// It wakes on the bus's changes of the conversation, from any node.
func (c *Console) conversationEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	after, err := sse.LastEventID(r)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "after must be a turn's number.")
		return
	}
	ctx := r.Context()
	if _, err := c.cfg.Store.Conversation(ctx, id); err != nil {
		c.failErr(w, r, err)
		return
	}
	wake := sse.NewWake()
	amended := newChangeSet(64)
	done, ok := c.watch(w, r, id, wake, func(ch chargedesk.ConversationChange) {
		if ch.Kind == chargedesk.ChangeAmended && ch.Seq > 0 {
			amended.add(strconv.FormatInt(ch.Seq, 10))
		}
	})
	if !ok {
		return
	}
	defer done()
	stream, err := sse.Start(w, sse.Limits{})
	if err != nil {
		return
	}
	var shown time.Time // the conversation's UpdatedAt last sent
	still := c.signedInStill(r)
	err = stream.Run(ctx, wake, func() error {
		if err := still(); err != nil {
			return err
		}
		conv, err := c.cfg.Store.Conversation(ctx, id)
		if err != nil {
			return err
		}
		turns, err := c.cfg.Store.Turns(ctx, id)
		if err != nil {
			return err
		}
		again, _ := amended.take()
		sent := 0
		for _, t := range turns {
			if t.Seq <= after && !slices.Contains(again, strconv.FormatInt(t.Seq, 10)) {
				continue
			}
			if sent++; sent > maxTurnsOnStream {
				break
			}
			data, err := json.Marshal(turnOf(t))
			if err != nil {
				return err
			}
			if err := stream.Event("turn", strconv.FormatInt(max(t.Seq, after), 10), data); err != nil {
				return err
			}
			after = max(after, t.Seq)
		}
		if !conv.UpdatedAt.Equal(shown) {
			shown = conv.UpdatedAt
			data, err := json.Marshal(c.panel(conv))
			if err != nil {
				return err
			}
			return stream.Event("conversation", "", data)
		}
		return nil
	})
	c.streamEnded(ctx, err)
}

// back redirects to the conversation's page with a message for the
// operator.
func back(w http.ResponseWriter, r *http.Request, id, done string) {
	http.Redirect(w, r, "/console/conversations/"+url.PathEscape(id)+"?done="+url.QueryEscape(done), http.StatusSeeOther)
}

// takeOver gives the conversation to the signed-in operator: the agent
// stops answering; the driver is told through their channel (a call is
// transferred to the staff's number).
func (c *Console) takeOver(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	si := operatorOf(ctx)
	id := r.PathValue("id")
	if c.cfg.Assistant == nil {
		c.fail(w, r, http.StatusConflict, "Taking conversations over is not available on this server.")
		return
	}
	conv, err := c.cfg.Store.Conversation(ctx, id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	if conv.Operator == si.op.Username {
		back(w, r, id, "You have this conversation already.")
		return
	}
	if c.cfg.Outbound != nil && conv.Operator == "" {
		if err := c.cfg.Outbound.Check(conv, chargedesk.OutboundTakeover); err != nil {
			c.audit(ctx, si.op, chargedesk.TakeoverAuditKind, id, "refused", chargedesk.ErrorMessage(err))
			c.failErr(w, r, err)
			return
		}
	}
	conv, notice, err := c.cfg.Assistant.TakeOver(ctx, id, si.op.Username)
	if err != nil {
		c.audit(ctx, si.op, chargedesk.TakeoverAuditKind, id, "refused", chargedesk.ErrorMessage(err))
		c.failErr(w, r, err)
		return
	}
	done := "You have this conversation now: the agent will not answer until you hand it back."
	outcome := "ok"
	if notice != nil && c.cfg.Outbound != nil {
		if err := c.cfg.Outbound.Send(context.WithoutCancel(ctx), conv, chargedesk.OutboundTakeover, notice.Text); err != nil {
			c.log.Warn("console: the takeover's notice did not reach the driver", "conversation_id", id, "err", err)
			done = "You have this conversation now, but the driver could not be told: " + chargedesk.ErrorMessage(err)
			outcome = "ok, driver not reached"
		} else if conv.Channel == chargedesk.ChannelVoice {
			done = "You have this call now: it is being transferred to the staff's number."
		}
	}
	c.audit(ctx, si.op, chargedesk.TakeoverAuditKind, id, outcome, string(conv.Channel))
	back(w, r, id, done)
}

// handBack gives the conversation back to the agent; the driver is told.
// Only the operator who has it may, or an admin.
func (c *Console) handBack(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	si := operatorOf(ctx)
	id := r.PathValue("id")
	if c.cfg.Assistant == nil {
		c.fail(w, r, http.StatusConflict, "Taking conversations over is not available on this server.")
		return
	}
	conv, err := c.cfg.Store.Conversation(ctx, id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	if conv.Operator == "" {
		back(w, r, id, "The agent has this conversation already.")
		return
	}
	force := conv.Operator != si.op.Username && si.op.Role == chargedesk.RoleAdmin
	conv, notice, err := c.cfg.Assistant.HandBack(ctx, id, si.op.Username, force)
	if err != nil {
		c.audit(ctx, si.op, "console.handback", id, "refused", chargedesk.ErrorMessage(err))
		c.failErr(w, r, err)
		return
	}
	done := "The agent answers this conversation again."
	outcome := "ok"
	if notice != nil && c.cfg.Outbound != nil {
		if err := c.cfg.Outbound.Send(context.WithoutCancel(ctx), conv, chargedesk.OutboundHandback, notice.Text); err != nil {
			c.log.Warn("console: the hand back's notice did not reach the driver", "conversation_id", id, "err", err)
			done = "The agent answers this conversation again, but the driver could not be told: " + chargedesk.ErrorMessage(err)
			outcome = "ok, driver not reached"
		}
	}
	reason := string(conv.Channel)
	if force {
		reason += ", taken from another operator"
	}
	c.audit(ctx, si.op, "console.handback", id, outcome, reason)
	back(w, r, id, done)
}

// operatorText checks and tidies an operator's message: trimmed, UTF-8,
// 1 to MaxOperatorMessageLen characters, no control characters but line
// breaks and tabs (a carriage return goes).
func operatorText(s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r", ""))
	if !utf8.ValidString(s) {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "The message is not text.")
	}
	if s == "" {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "Write a message first.")
	}
	if n := utf8.RuneCountInString(s); n > chargedesk.MaxOperatorMessageLen {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "A message is at most %d characters, not %d.", chargedesk.MaxOperatorMessageLen, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", chargedesk.Errorf(chargedesk.EINVALID, "The message holds a control character.")
		}
	}
	return s, nil
}

// message stores what the operator who has the conversation writes, as an
// operator turn, and sends it to the driver through their channel.
func (c *Console) message(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	si := operatorOf(ctx)
	id := r.PathValue("id")
	if r.PostForm == nil {
		// Sent with the token in a header: the body was not read yet.
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	text, err := operatorText(r.PostFormValue("text"))
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	conv, err := c.cfg.Store.Conversation(ctx, id)
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	if conv.Operator != si.op.Username {
		c.fail(w, r, http.StatusConflict, "Take the conversation over before you write to the driver.")
		return
	}
	if c.cfg.Outbound != nil {
		if err := c.cfg.Outbound.Check(conv, chargedesk.OutboundMessage); err != nil {
			c.failErr(w, r, err)
			return
		}
	}
	meta, _ := json.Marshal(map[string]string{"operator": si.op.Username})
	t := &chargedesk.Turn{ConversationID: id, At: c.cfg.Now(), Role: chargedesk.RoleOperatorTurn, Text: text, Meta: meta}
	if err := c.cfg.Store.AppendTurn(ctx, t); err != nil {
		c.failErr(w, r, err)
		return
	}
	done := "Sent."
	outcome := "ok"
	if c.cfg.Outbound != nil {
		if err := c.cfg.Outbound.Send(context.WithoutCancel(ctx), conv, chargedesk.OutboundMessage, text); err != nil {
			c.log.Warn("console: an operator's message did not reach the driver", "conversation_id", id, "err", err)
			done = "Your message is in the transcript, but it did not reach the driver: " + chargedesk.ErrorMessage(err)
			outcome = "not delivered"
		}
	}
	c.audit(ctx, si.op, "console.message", id, outcome, fmt.Sprintf("turn %d, %d characters", t.Seq, utf8.RuneCountInString(text)))
	back(w, r, id, done)
}

// stamp is a time as the console shows it.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// maskedFrom is the caller's address as the console shows it: a phone's
// last 4 digits only; nothing for a chat's session handle.
func maskedFrom(c *chargedesk.Conversation) string {
	if c.Channel != chargedesk.ChannelSMS && c.Channel != chargedesk.ChannelVoice || c.From == "" {
		return ""
	}
	return maskDigits(c.From)
}

// maskDigits keeps the last 4 digits of a number.
func maskDigits(s string) string {
	var digits []rune
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) <= 4 {
		return "••••"
	}
	return "••• " + string(digits[len(digits)-4:])
}

// longNumber is a run of 10 to 19 digits, possibly grouped by single
// spaces, dots, dashes or parentheses, as a phone or a card number is
// written: the console shows only its last 4 digits.
var longNumber = regexp.MustCompile(`\+?\(?\d(?:[ .\-()]{0,2}\d){9,18}`)

// maskText masks the phone and card numbers in a text.
func maskText(s string) string {
	return longNumber.ReplaceAllStringFunc(s, maskDigits)
}
