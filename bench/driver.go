package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/payments"
	"github.com/chargedesk/chargedesk/sim"
)

// agentState is the part of the conversation's stored state the oracle
// driver reacts to: what the agent asked for. A person reads it from the
// agent's words; the oracle driver reads the agent's own record of its
// question, so it measures the playbooks alone and is blind to the
// conversation (the honest driver, honest.go, is the headline). Grading
// reads it too, after the conversation.
type agentState struct {
	Ask       string `json:"ask"`
	PayLinkID string `json:"payLinkId"`
	Nearest   string `json:"nearest"`
}

// driver is the oracle simulated driver: the task's facts, the persona's
// words, the channel's noise, and hands to act at the charger. The honest
// driver embeds it for its hands, noise and bookkeeping, and replaces its
// decisions.
type driver struct {
	w   *world
	tr  transport
	rng *rand.Rand
	// choice is what the driver does when offered a payment link: "link"
	// (pay it), "app" (update the card in the app) or "no".
	choice string

	conv       *chargedesk.Conversation
	turns      int
	agentTime  time.Duration
	began      time.Time
	doneAt     time.Duration
	doneAgent  time.Duration
	complained int
	walked     bool
	tappedOwn  bool
	// waitedOnline is set once the driver waited for a dark charger.
	waitedOnline bool
	restated     int
	misheard     bool
	// exact: the next message is sent as written, without the channel's
	// noise (an operator's opening).
	exact      bool
	transcript []string
	err        error

	// exchanges are the conversation as the conversation grader reads
	// it: each driver message with the agent's reply.
	exchanges []exchange
	// speaking is the language the driver writes in now ("" is the
	// task's); gaveNow the facts the next message gives correctly; notes
	// what the driver did at the charger before it.
	speaking string
	gaveNow  []string
	notes    []string
	// doneTurns is how many messages the driver had sent when the goal
	// was met.
	doneTurns int
}

// exchange is one driver message and the agent's reply.
type exchange struct {
	Driver string
	// Lang is the language the driver speaks at this message: the one the
	// reply should be in.
	Lang string
	// Gave lists the facts (question names of hear.go) the message gives
	// correctly.
	Gave []string
	// Notes are what the driver did at the charger before writing.
	Notes   []string
	Agent   string
	Actions []agent.Action
}

func newDriver(w *world, trial int) *driver {
	d := &driver{w: w, rng: rand.New(rand.NewPCG(w.task.Seed, uint64(trial)+1))}
	switch w.task.Fault {
	case "hard_decline":
		d.choice = []string{"link", "app", "no"}[d.rng.IntN(3)]
	default:
		d.choice = []string{"link", "app"}[d.rng.IntN(2)]
	}
	return d
}

// pick returns one of the phrase's variants in the task's language.
func (d *driver) pick(key string, args ...any) string {
	vs := phrases[key][d.w.task.Lang]
	s := vs[d.rng.IntN(len(vs))]
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

func (d *driver) symptom() string {
	vs := symptoms[d.w.task.Fault][d.w.task.Lang]
	return vs[d.rng.IntN(len(vs))]
}

// label is how the driver gives the charger's label; a voice transcript
// may mishear one digit the first time.
func (d *driver) label(careful bool) string {
	id := d.w.id
	if d.w.task.Channel == chargedesk.ChannelVoice && !careful && !d.misheard && d.rng.IntN(4) == 0 {
		d.misheard = true
		b := []byte(id)
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] >= '0' && b[i] <= '9' {
				b[i] = '0' + (b[i]-'0'+byte(1+d.rng.IntN(8)))%10
				break
			}
		}
		id = string(b)
	}
	return id
}

// opening is the driver's first message.
func (d *driver) opening() string {
	t := d.w.task
	if t.Opening != "" {
		// An operator's opening, exactly as written.
		d.exact = true
		return t.Opening
	}
	at := d.pick(pAtCharger, d.label(false))
	switch t.Persona {
	case PersonaTerse:
		return shortSymptoms[t.Category][t.Lang] + " " + d.label(false)
	case PersonaConfused:
		return d.pick(pVague)
	case PersonaTrickster:
		vs := injections[t.Lang]
		return vs[d.rng.IntN(len(vs))]
	case PersonaAngry:
		return strings.ToUpper(d.symptom()[:1]) + d.symptom()[1:] + " " + at + "! " + d.pick(pAngry)
	}
	if d.rng.IntN(2) == 0 {
		return at + ", " + d.symptom()
	}
	return d.symptom() + " " + at
}

// noise turns what the driver means into what the agent receives on the
// channel: voice transcripts lose punctuation and case and may spell
// digits out; chat messages carry typos.
func (d *driver) noise(s string) string {
	switch d.w.task.Channel {
	case chargedesk.ChannelVoice:
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			switch {
			case r == '-' || r == '.' || r == ',' || r == '!' || r == '?' || r == '¿' || r == '¡' || r == ':':
				b.WriteRune(' ')
			default:
				b.WriteRune(r)
			}
		}
		return strings.Join(strings.Fields(b.String()), " ")
	case chargedesk.ChannelChat:
		words := strings.Fields(s)
		for i, w := range words {
			rs := []rune(w)
			if len(rs) < 4 || strings.ContainsFunc(w, unicode.IsDigit) || strings.ContainsRune(w, '-') || d.rng.IntN(12) != 0 {
				continue
			}
			j := 1 + d.rng.IntN(len(rs)-2)
			if d.rng.IntN(2) == 0 {
				rs[j], rs[j+1] = rs[j+1], rs[j]
			} else {
				rs = append(rs[:j], rs[j+1:]...)
			}
			words[i] = string(rs)
		}
		return strings.Join(words, " ")
	}
	return s
}

// spelledLabelRe is a charger label read out on a call, letter by letter
// and digit by digit: "M P L, T O R, one two three four".
var spelledLabelRe = func() *regexp.Regexp {
	var alts []string
	for _, ws := range digitWords {
		alts = append(alts, ws...)
	}
	// Longest first, so that "uno" is not heard as "un".
	slices.SortFunc(alts, func(a, b string) int { return len(b) - len(a) })
	d := "(?:" + strings.Join(alts, "|") + ")"
	return regexp.MustCompile(`\b([A-Z]) ([A-Z]) ([A-Z]), ([A-Z]) ([A-Z]) ([A-Z]), (` + d + `(?: ` + d + `){3,4})\b`)
}()

// heardLabels is what a caller understands of charger labels read out on
// a call: each spelled label becomes the label as printed.
func heardLabels(text string) string {
	return spelledLabelRe.ReplaceAllStringFunc(text, func(m string) string {
		g := spelledLabelRe.FindStringSubmatch(m)
		var digits strings.Builder
		for _, w := range strings.Fields(g[7]) {
			for _, ws := range digitWords {
				if i := slices.Index(ws, w); i >= 0 {
					digits.WriteByte(byte('0' + i))
					break
				}
			}
		}
		return strings.Join(g[1:4], "") + "-" + strings.Join(g[4:7], "") + "-" + digits.String()
	})
}

// spoken writes a phone number as the driver gives it on the channel.
func (d *driver) phoneText() string {
	p := strings.TrimPrefix(d.w.phone, "+1")
	national := p[:3] + " " + p[3:6] + " " + p[6:]
	if d.w.task.Channel != chargedesk.ChannelVoice || d.rng.IntN(2) == 0 {
		return national
	}
	words := digitWords[d.w.task.Lang]
	var out []string
	for _, r := range p {
		out = append(out, words[r-'0'])
	}
	return strings.Join(out, " ")
}

// say sends one message and records the time the agent took.
func (d *driver) say(ctx context.Context, text string) (agent.Reply, error) {
	if !d.exact {
		text = d.noise(text)
	}
	d.exact = false
	d.turns++
	t0 := time.Now()
	var r agent.Reply
	var err error
	r.Text, err = d.tr.say(ctx, text)
	d.agentTime += time.Since(t0)
	if err == nil {
		var c *chargedesk.Conversation
		if c, r.Actions, err = d.tr.state(ctx); err == nil && c == nil {
			err = errors.New("no conversation after the reply")
		}
		r.Conversation = c
	}
	for _, n := range d.notes {
		d.transcript = append(d.transcript, "  ("+n+")")
	}
	d.transcript = append(d.transcript, "driver: "+text)
	lang := d.speaking
	if lang == "" {
		lang = d.w.task.Lang
	}
	ex := exchange{Driver: text, Lang: lang, Gave: d.gaveNow, Notes: d.notes}
	d.gaveNow, d.notes = nil, nil
	if errors.Is(err, errCallEnded) {
		d.transcript = append(d.transcript, "  (the line had ended the call)")
	}
	if err != nil {
		return r, err
	}
	d.conv = r.Conversation
	line := "agent: " + r.Text
	for _, a := range r.Actions {
		line += fmt.Sprintf(" [%s %s]", a.Kind, a.Status)
	}
	d.transcript = append(d.transcript, line)
	ex.Agent, ex.Actions = r.Text, r.Actions
	d.exchanges = append(d.exchanges, ex)
	return r, nil
}

// converse holds the conversation until the driver's goal is met, the
// driver gives up, or the turn limit.
func (d *driver) converse(ctx context.Context) {
	if !d.start(ctx) {
		return
	}
	msg := d.opening()
	for d.turns < d.w.cfg.MaxTurns {
		r, err := d.say(ctx, msg)
		if err != nil {
			d.fail(err)
			return
		}
		if d.goalMet(ctx, r) {
			d.done()
			if d.w.spec.goal == goalCableOut && d.conv.Status != chargedesk.ConversationResolved {
				_, _ = d.say(ctx, d.pick(pGotOut)) // a courtesy: nothing more to do
			}
			return
		}
		msg = d.next(ctx, r)
		if msg == "" {
			return
		}
	}
}

// start opens the conversation through the transport; false when it
// cannot (d.err says why).
func (d *driver) start(ctx context.Context) bool {
	d.began = time.Now()
	err := d.tr.start(ctx)
	if err == nil {
		d.conv, _, err = d.tr.state(ctx)
	}
	if err != nil {
		d.err = err
		return false
	}
	return true
}

// fail ends the conversation on err; a call the line ended is no error.
func (d *driver) fail(err error) {
	if !errors.Is(err, errCallEnded) {
		d.err = err
	}
}

func (d *driver) done() {
	if d.doneAt == 0 {
		d.doneAt, d.doneAgent, d.doneTurns = time.Since(d.began), d.agentTime, d.turns
	}
}

// chargingAt reports whether the driver's car charges on c.
func (d *driver) chargingAt(ctx context.Context, c *sim.Charger) bool {
	if c == nil {
		return false
	}
	mine := func(k sim.ConnectorState) bool { return k.IDTag == d.w.tag && k.TransactionID != "" }
	k := c.State().Connector(1)
	if k.IDTag != d.w.tag {
		return false
	}
	switch {
	case mine(k) && k.Status == chargedesk.StatusCharging:
		return true
	case k.Status == chargedesk.StatusSuspendedEV, k.Status == chargedesk.StatusSuspendedEVSE:
		return false
	}
	// A session just started gets its 1.6 transaction id (the central
	// system's answer, which the agent may have seen stored first) and
	// reports Charging within a moment.
	return waitFor(ctx, 2*time.Second, func() bool {
		k := c.State().Connector(1)
		return mine(k) && k.Status == chargedesk.StatusCharging
	}) == nil
}

// goalMet reports whether the driver has what they called for, as far as
// they can tell.
func (d *driver) goalMet(ctx context.Context, r agent.Reply) bool {
	switch d.w.spec.goal {
	case goalCharging:
		if d.w.task.Fault == "hard_decline" && d.choice == "no" {
			return r.Conversation.Status != chargedesk.ConversationOpen || d.turns >= 3
		}
		return d.chargingAt(ctx, d.w.c) || d.chargingAt(ctx, d.w.alt)
	case goalCableOut:
		return !d.w.c.State().Connector(1).Plugged
	}
	return r.Conversation.Status == chargedesk.ConversationResolved || r.Conversation.Status == chargedesk.ConversationEscalated
}

// next decides what the driver does and says after the agent's reply; ""
// ends the conversation.
func (d *driver) next(ctx context.Context, r agent.Reply) string {
	var st agentState
	_ = json.Unmarshal(r.Conversation.Data, &st)
	w := d.w
	c := w.c
	switch st.Ask {
	case "problem":
		return d.symptom() + " " + d.pick(pAtCharger, d.label(true))
	case "charger", "choose":
		return d.pick(pGiveCharger, d.label(true))
	case "connector":
		return d.pick(pConnector)
	case "identity":
		return d.pick(pGivePhone, d.phoneText())
	case "last4":
		return d.pick(pGiveLast4, w.last4)
	case "replug":
		_ = c.Unplug(ctx, 1)
		_ = c.PlugIn(ctx, 1)
		return d.pick(pReplugged)
	case "plug_in":
		_ = c.PlugIn(ctx, 1)
		return d.pick(pPluggedIn)
	case "schedule":
		_ = c.ClearFault(ctx, 1, sim.FaultVehicleSchedule)
		return d.pick(pScheduleOff)
	case "unplugged":
		if err := c.Unplug(ctx, 1); err == nil {
			return d.pick(pGotOut)
		}
		return d.pick(pStillStuck)
	case "car_release":
		_ = c.ReleaseVehicleLock(1)
		_ = c.Unplug(ctx, 1)
		return d.pick(pCarUnlocked)
	case "pay_consent":
		return d.payChoice(ctx)
	case "paid":
		if _, err := w.st.pay.MarkPayLinkPaid(ctx, st.PayLinkID); err != nil {
			return ""
		}
		return d.pick(pPaid)
	case "start_time":
		// The driver remembers roughly when they plugged in.
		tx := w.lastSession(ctx)
		if tx == nil {
			return ""
		}
		return d.pick(pStartedAgo, max(1, int(time.Since(tx.StartedAt).Round(time.Minute)/time.Minute)))
	case "reconnect":
		_ = waitFor(ctx, 3*w.cfg.CommDropShort+5*time.Second, func() bool { return c.State().Connected })
		return d.pick(pBackOnline)
	case "":
	default:
		return ""
	}
	status := r.Conversation.Status
	if status == chargedesk.ConversationOpen {
		if d.w.task.Persona == PersonaTrickster && d.turns == 1 {
			return d.symptom() + " " + d.pick(pAtCharger, d.label(false))
		}
		if r.Conversation.State == "waiting" && w.spec.Category == chargedesk.CategoryPaymentFailure {
			// The agent listed other ways to pay.
			if d.choice == "no" {
				return ""
			}
			return d.updateCard(ctx)
		}
		if d.restated < 2 {
			d.restated++
			return d.symptom() + " " + d.pick(pAtCharger, d.label(true))
		}
		return ""
	}
	// The agent says it is resolved or handed over, but the driver's goal
	// is not met: act where the driver can, or say so once.
	switch w.spec.goal {
	case goalCharging:
		if !d.walked && w.alt != nil && (st.Nearest == w.altID || strings.Contains(r.Text, w.altID)) {
			d.walked = true
			_ = w.alt.PlugIn(ctx, 1)
			_, _ = w.alt.TapCard(ctx, 1, w.tag)
			if d.chargingAt(ctx, w.alt) {
				d.done()
			}
			return ""
		}
		if !c.State().Connected && !d.waitedOnline {
			// The screen is dark: the driver waits a while by the charger.
			d.waitedOnline = true
			if waitFor(ctx, 3*w.cfg.CommDropShort+5*time.Second, func() bool { return c.State().Connected }) == nil {
				return d.pick(pBackOnline)
			}
			return ""
		}
		k := c.State().Connector(1)
		if status == chargedesk.ConversationResolved && !d.tappedOwn && k.TransactionID == "" && w.spec.Category != chargedesk.CategoryPaymentFailure {
			// The charger is said to be available again: plug in and tap.
			d.tappedOwn = true
			_ = c.PlugIn(ctx, 1)
			if d.rng.IntN(2) == 0 {
				_, _ = c.TapCard(ctx, 1, w.tag)
				if d.chargingAt(ctx, c) {
					d.done()
					return ""
				}
			}
			return d.pick(pPluggedIn)
		}
	case goalCableOut:
		if err := c.Unplug(ctx, 1); err == nil {
			d.done()
			return d.pick(pGotOut)
		}
		if d.complained == 0 {
			d.complained++
			return d.pick(pStillStuck)
		}
		return ""
	default:
		return ""
	}
	if status == chargedesk.ConversationEscalated || d.complained > 0 {
		return ""
	}
	d.complained++
	return d.pick(pStillBroken)
}

// payChoice answers the offer of a payment link.
func (d *driver) payChoice(ctx context.Context) string {
	switch d.choice {
	case "link":
		return d.pick(pYesLink)
	case "app":
		return d.updateCard(ctx)
	}
	return d.pick(pNoThanks)
}

// updateCard adds a valid card in the app, as the driver would on the
// phone, and says so.
func (d *driver) updateCard(ctx context.Context) string {
	if _, err := d.w.st.pay.AddAppMethod(d.w.acct, payments.Card{Brand: "Mastercard", Last4: "5454", ExpMonth: 6,
		ExpYear: time.Now().Year() + 4}); err != nil {
		return ""
	}
	d.choice = "app"
	return d.pick(pUpdatedCard)
}
