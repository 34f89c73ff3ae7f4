package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sim"
)

// Drivers Run can use.
const (
	// DriverHonest knows only what a person at the charger knows and hears
	// only the agent's words (the default, and the headline number).
	DriverHonest = "honest"
	// DriverOracle reads the agent's stored state to know what it is
	// asked, and answers in the form the agent's parser expects: a
	// regression baseline of the playbooks alone.
	DriverOracle = "oracle"
)

// Drivers returns the drivers Run can use.
func Drivers() []string { return []string{DriverHonest, DriverOracle} }

// Delays a driver may put in the way of one answer.
const (
	delayNone  = ""
	delayWrong = "wrong" // a wrong fact first, corrected when told
	delayWhy   = "why"   // "why do you need that?" first
	delayStall = "stall" // "ok" or "thanks" first, answering nothing
)

// honest is a simulated driver who knows only what a person at the
// charger knows: the goal, the car, the charging card and phone, the last
// four of the payment card, the charger's screen (its connector status, as
// the simulator shows it), the driver's own app, and the text of the
// agent's replies. It never reads the conversation's stored state. How it
// answers (bare or in sentences, facts early or late, a delay before one
// answer, a language switch) is drawn per trial.
type honest struct {
	*driver
	// lang is the language the driver speaks now.
	lang string
	// bare: answers are bare facts ("1", "yes", "4242") rather than
	// sentences (each answer flips with a small chance).
	bare bool
	// early: the first message volunteers the charger and, on chat, the
	// phone number and card digits; late: it gives no charger.
	early, late bool
	// delay is put in the way of the first identity or charger answer.
	delay   string
	delayed bool
	// ackOnly: after doing something, the driver says "ok" and no more.
	ackOnly bool
	// switchAt is the message at which a bilingual driver goes on in
	// English (0: never).
	switchAt int
	// thankAtEnd: a closing thank-you once the goal is met.
	thankAtEnd bool
	car        string

	// gave holds the facts given correctly so far; asked counts the
	// questions heard.
	gave      map[string]bool
	asked     map[string]int
	unclear   int
	declined  bool
	updated   bool
	paidLinks map[string]bool
	told      bool // the trickster told the real problem
	started   time.Time
}

func newHonest(d *driver) *honest {
	t := d.w.task
	h := &honest{driver: d, lang: t.Lang, told: t.Persona != PersonaTrickster, gave: map[string]bool{}, asked: map[string]int{}, paidLinks: map[string]bool{},
		started: time.Now().Add(-time.Duration(8+d.rng.IntN(30)) * time.Minute)}
	r := d.rng
	h.bare = t.Persona == PersonaTerse || r.IntN(3) == 0
	switch t.Persona {
	case PersonaConfused:
		h.late = true
	case PersonaTrickster:
	default:
		h.early = r.IntN(4) == 0
		h.late = !h.early && r.IntN(6) == 0
	}
	switch n := r.IntN(20); {
	case n < 3:
		h.delay = delayWrong
	case n < 6:
		h.delay = delayWhy
	case n < 9:
		h.delay = delayStall
	}
	if t.Opening != "" {
		// The opening is the operator's text: nothing is added to it.
		h.early, h.late = false, false
	}
	h.ackOnly = r.IntN(4) == 0
	if t.Lang != "en" && t.Persona != PersonaTerse && r.IntN(10) == 0 {
		h.switchAt = 3
	}
	h.thankAtEnd = r.IntN(2) == 0
	h.car = cars[r.IntN(len(cars))]
	if t.Channel != chargedesk.ChannelChat {
		// The agent has the caller's number: the call comes from it.
		h.gave[qPhone] = true
	}
	return h
}

// line is a phrase of the honest driver's in the language spoken now.
func (h *honest) line(key string, args ...any) string {
	vs := honestPhrases[key][h.lang]
	s := vs[h.rng.IntN(len(vs))]
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// isBare decides the form of one answer.
func (h *honest) isBare() bool {
	if h.rng.IntN(5) == 0 {
		return !h.bare
	}
	return h.bare
}

// symptomNow describes the problem in the language spoken now.
func (h *honest) symptomNow() string {
	vs := symptoms[h.w.task.Fault][h.lang]
	return vs[h.rng.IntN(len(vs))]
}

// atCharger says where the driver is.
func (h *honest) atCharger(careful bool) string {
	vs := phrases[pAtCharger][h.lang]
	return fmt.Sprintf(vs[h.rng.IntN(len(vs))], h.giveLabel(careful))
}

// giveLabel returns the charger's label as said now, and records it as
// given when it is right.
func (h *honest) giveLabel(careful bool) string {
	l := h.label(careful)
	if l == h.w.id {
		h.gaveNow = append(h.gaveNow, qCharger)
		h.gave[qCharger] = true
	}
	return l
}

// opening is the driver's first message.
func (h *honest) opening() string {
	t := h.w.task
	if t.Opening != "" {
		// An operator's opening, exactly as written; it gives the charger
		// when it names the task's own.
		return h.openWith(t.Opening)
	}
	var msg string
	switch {
	case t.Persona == PersonaTrickster:
		vs := injections[t.Lang]
		return vs[h.rng.IntN(len(vs))]
	case h.late && t.Category != chargedesk.CategoryHardwareDamage:
		// Damage in plain sight is said at once, even by a driver vague
		// about everything else.
		msg = h.pickOld(pVague)
	case t.Persona == PersonaTerse:
		short, ok := shortFaultSymptoms[t.Fault][t.Lang]
		if !ok {
			short = shortSymptoms[t.Category][t.Lang]
		}
		msg = short + " " + h.giveLabel(false)
	case t.Persona == PersonaAngry:
		s := h.symptomNow()
		msg = strings.ToUpper(s[:1]) + s[1:] + " " + h.atCharger(false) + "! " + h.pickOld(pAngry)
	case h.rng.IntN(2) == 0:
		msg = h.atCharger(false) + ", " + h.symptomNow()
	default:
		msg = h.symptomNow() + " " + h.atCharger(false)
	}
	if h.early {
		if t.Channel == chargedesk.ChannelChat {
			msg += ". " + h.line(hEarly, h.phoneText(), h.w.last4)
			h.gaveNow = append(h.gaveNow, qPhone, qLast4)
			h.gave[qPhone], h.gave[qLast4] = true, true
		}
		msg += ". " + h.line(hCar, h.car)
	}
	return msg
}

// openWith sends text as the first message exactly as written (no
// channel noise), and records the charger as given when text names it.
func (h *honest) openWith(text string) string {
	h.exact = true
	if strings.Contains(text, h.w.id) {
		h.gaveNow = append(h.gaveNow, qCharger)
		h.gave[qCharger] = true
	}
	return text
}

// pickOld picks one of the oracle driver's shared phrases in the language
// spoken now.
func (h *honest) pickOld(key string) string {
	vs := phrases[key][h.lang]
	return vs[h.rng.IntN(len(vs))]
}

// note records what the driver did at the charger.
func (h *honest) note(format string, args ...any) {
	h.notes = append(h.notes, fmt.Sprintf(format, args...))
}

// converse holds the conversation until the goal is met, the driver gives
// up, or the turn limit.
func (h *honest) converse(ctx context.Context) {
	if !h.start(ctx) {
		return
	}
	defer func() {
		// What the driver did after the last message.
		for _, n := range h.notes {
			h.transcript = append(h.transcript, "  ("+n+")")
		}
	}()
	msg := h.opening()
	for h.turns < h.w.cfg.MaxTurns {
		if h.switchAt > 0 && h.turns+1 == h.switchAt && h.lang != "en" {
			h.lang = "en"
			msg = h.line(hSwitchLang) + " " + h.translate(msg)
			if h.translate(msg) != msg {
				// Only ids and numbers carried over: a fact said in words
				// ("hace 5 minutos") is not given by its number alone.
				h.gaveNow = slices.DeleteFunc(h.gaveNow, func(q string) bool { return q == qStartTime })
			}
		}
		h.speaking = h.lang
		r, err := h.driver.say(ctx, msg)
		if err != nil {
			h.fail(err)
			return
		}
		text := r.Text
		if h.w.task.Channel == chargedesk.ChannelVoice {
			// A label read out on a call is heard as the label.
			text = heardLabels(text)
		}
		heard := hear(text, h.lang)
		if h.goalMet(ctx, heard) {
			h.done()
			if h.thankAtEnd && h.turns < h.w.cfg.MaxTurns {
				h.speaking = h.lang
				if _, err := h.driver.say(ctx, h.line(hThanks)); err != nil {
					h.fail(err)
				}
			}
			return
		}
		msg = h.respond(ctx, heard)
		if msg == "" {
			return
		}
	}
}

// translate is what the driver who switched to English says instead of
// msg: the facts it carries, in English words.
func (h *honest) translate(msg string) string {
	var keep []string
	for _, f := range strings.Fields(msg) {
		if strings.ContainsAny(f, "0123456789") {
			keep = append(keep, strings.Trim(f, ".,!?"))
		}
	}
	if len(keep) == 0 {
		return h.line(hOK)
	}
	return strings.Join(keep, " ")
}

// goalMet reports whether the driver has what they called for, as far as
// they can see.
func (h *honest) goalMet(ctx context.Context, heard heard) bool {
	w := h.w
	if w.task.Persona == PersonaTrickster && !h.told {
		// The trickster has not said what is really wrong yet.
		return false
	}
	switch w.spec.goal {
	case goalCharging:
		if h.declined && len(heard.asked()) == 0 {
			return true
		}
		return h.chargingAt(ctx, w.c) || h.walked && h.chargingAt(ctx, w.alt)
	case goalCableOut:
		return !w.c.State().Connector(1).Plugged
	}
	// An answer: the agent asks nothing more and wants nothing done.
	return len(heard.asked()) == 0 && !heard.has(doPlugIn, doReplug, doSchedule, doRemoveCable, doUnlockCar, doWaitOnline) &&
		heard.link == ""
}

// respond decides what the driver does and says after a reply; "" ends
// the conversation.
func (h *honest) respond(ctx context.Context, heard heard) string {
	w := h.w
	c := w.c
	if heard.understood() {
		h.unclear = 0
	}
	switch {
	case heard.has(qAtCharger):
		// The driver is at the charger: that comes before anything the
		// same reply says will happen.
		return h.answer(ctx, qAtCharger, heard)
	case heard.link != "" && h.choice != "no" && !h.paidLinks[heard.link]:
		id := heard.link[strings.LastIndex(heard.link, "/")+1:]
		if _, err := w.st.pay.MarkPayLinkPaid(ctx, id); err != nil {
			h.note("the payment page for %s failed: %v", heard.link, err)
			return h.line(hWhat)
		}
		h.paidLinks[heard.link] = true
		h.note("driver pays the link on the phone")
		return h.ack(hPaid)
	case heard.has(doUnlockCar) && w.spec.goal == goalCableOut:
		_ = c.ReleaseVehicleLock(1)
		if err := c.Unplug(ctx, 1); err == nil {
			h.note("driver unlocks the car and pulls the cable: out")
			return h.ack(hCarUnlocked)
		}
		h.note("driver unlocks the car and pulls the cable: stuck")
		return h.complain(hStillStuck)
	case heard.has(doRemoveCable) && w.spec.goal == goalCableOut:
		if err := c.Unplug(ctx, 1); err == nil {
			h.note("driver pulls the cable: out")
			return h.ack(hGotOut)
		}
		h.note("driver pulls the cable: stuck")
		return h.complain(hStillStuck)
	case heard.has(doReplug):
		_ = c.Unplug(ctx, 1)
		_ = c.PlugIn(ctx, 1)
		h.note("driver unplugs and plugs the cable back in")
		return h.ack(hReplugged)
	case heard.has(doSchedule):
		_ = c.ClearFault(ctx, 1, sim.FaultVehicleSchedule)
		h.note("driver turns the charging schedule off in the car")
		return h.ack(hScheduleOff)
	case heard.has(doWaitOnline):
		return h.waitOnline(ctx)
	}
	if qs := heard.asked(); len(qs) > 0 {
		return h.answer(ctx, qs[0], heard)
	}
	switch {
	case heard.has(doPlugIn) && w.spec.goal == goalCharging:
		_ = c.PlugIn(ctx, 1)
		if heard.has(doTapCard) && h.rng.IntN(2) == 0 {
			_, _ = c.TapCard(ctx, 1, w.tag)
			h.note("driver plugs in and taps the card")
			if h.chargingAt(ctx, c) {
				h.done()
				return ""
			}
			return h.ack(hTapped)
		}
		h.note("driver plugs in")
		return h.ack(hPluggedIn)
	case heard.has(doUpdateCard) && w.spec.goal == goalCharging && !h.updated:
		if h.choice == "no" {
			h.declined = true
			return ""
		}
		return h.updateCardNow(ctx)
	case len(h.otherLabels(heard)) > 0:
		return h.goElsewhere(ctx, heard)
	case heard.has(toldRefused) && w.task.Persona == PersonaTrickster && !h.told:
		return h.tellProblem(false)
	case heard.has(toldTicket):
		// A person took the case, or a repair was sent: nothing more to
		// do here.
		return ""
	case heard.understood():
		return h.checkScreen(ctx)
	}
	h.unclear++
	switch h.unclear {
	case 1:
		return h.line(hWhat)
	case 2:
		return h.tellProblem(true)
	}
	return ""
}

// tellProblem describes the problem and the charger.
func (h *honest) tellProblem(careful bool) string {
	h.told = true
	return h.symptomNow() + " " + h.atCharger(careful)
}

// ack is a short acknowledgement or, for a driver who says more, the
// sentence key.
func (h *honest) ack(key string) string {
	if h.ackOnly {
		return h.line(hOK)
	}
	return h.line(key)
}

// complain says key twice; the third time the driver gives up.
func (h *honest) complain(key string) string {
	if h.complained > 1 {
		return ""
	}
	h.complained++
	return h.line(key)
}

// waitOnline waits by a dark charger for its screen to come back.
func (h *honest) waitOnline(ctx context.Context) string {
	c := h.w.c
	if h.waitedOnline {
		return ""
	}
	h.waitedOnline = true
	if waitFor(ctx, 3*h.w.cfg.CommDropShort+5*time.Second, func() bool { return c.State().Connected }) == nil {
		h.note("driver waits: the screen comes back")
		return h.line(hBackOnline)
	}
	h.note("driver waits: the screen stays dark")
	return h.line(hStillDark)
}

// updateCardNow adds a valid card in the app and says so.
func (h *honest) updateCardNow(ctx context.Context) string {
	h.updated = true
	h.note("driver adds a new card in the app")
	if msg := h.updateCard(ctx); msg != "" {
		return h.line(hUpdatedCard)
	}
	return ""
}

// otherLabels returns the chargers the reply names other than the
// driver's own.
func (h *honest) otherLabels(heard heard) []string {
	var out []string
	for _, l := range heard.labels {
		if l != h.w.id && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// goElsewhere follows a suggestion of another charger: the driver walks to
// it when it is near, plugs in and taps the card.
func (h *honest) goElsewhere(ctx context.Context, heard heard) string {
	w := h.w
	if heard.distanceKM > h.w.cfg.RadiusKM {
		return h.complain(hTooFar)
	}
	if h.walked || w.alt == nil || !slices.Contains(h.otherLabels(heard), w.altID) {
		// A charger the driver cannot reach in this world, or one tried.
		return ""
	}
	h.walked = true
	_ = w.alt.PlugIn(ctx, 1)
	_, _ = w.alt.TapCard(ctx, 1, w.tag)
	h.note("driver drives to %s, plugs in and taps the card", w.altID)
	if h.chargingAt(ctx, w.alt) {
		h.done()
	}
	return ""
}

// checkScreen looks at the charger after a reply that asks nothing: the
// driver acts on what the screen shows, or says it still doesn't work.
func (h *honest) checkScreen(ctx context.Context) string {
	w := h.w
	c := w.c
	switch w.spec.goal {
	case goalCharging:
		if !c.State().Connected && !h.waitedOnline {
			return h.waitOnline(ctx)
		}
		k := c.State().Connector(1)
		if !h.tappedOwn && k.TransactionID == "" && c.State().Connected && w.spec.Category != chargedesk.CategoryPaymentFailure &&
			(k.Status == chargedesk.StatusAvailable || k.Status == chargedesk.StatusPreparing || k.Status == chargedesk.StatusOccupied) {
			h.tappedOwn = true
			_ = c.PlugIn(ctx, 1)
			_, _ = c.TapCard(ctx, 1, w.tag)
			h.note("driver plugs in and taps the card (screen: %s)", k.Status)
			if h.chargingAt(ctx, c) {
				h.done()
				return ""
			}
			return h.ack(hTapped)
		}
		return h.complain(hNotCharging)
	case goalCableOut:
		if err := c.Unplug(ctx, 1); err == nil {
			h.note("driver pulls the cable: out")
			return h.ack(hGotOut)
		}
		h.note("driver pulls the cable: stuck")
		return h.complain(hStillStuck)
	}
	if !h.told {
		// The agent is on the wrong track: the driver says what it is
		// really about.
		return h.tellProblem(true)
	}
	return ""
}

// delayable reports whether the trial's delay may fall on question q.
func delayable(q string) bool {
	switch q {
	case qCharger, qPhone, qLast4, qConnector, qStartTime:
		return true
	}
	return false
}

// answer answers question q.
func (h *honest) answer(ctx context.Context, q string, heard heard) string {
	h.asked[q]++
	w := h.w
	if h.delay != delayNone && !h.delayed && delayable(q) {
		h.delayed = true
		switch {
		case h.delay == delayStall:
			if h.rng.IntN(2) == 0 {
				return h.line(hOK)
			}
			return h.line(hThanks)
		case h.delay == delayWhy && q != qCharger:
			return h.line(hWhy)
		case h.delay == delayWrong && q == qLast4:
			return h.fact(q, wrongDigits(w.last4), hLast4, false)
		case h.delay == delayWrong && q == qCharger:
			return h.fact(q, wrongDigits(w.id), hLabel, false)
		}
		h.delayed = false
	}
	switch q {
	case qProblem:
		return h.tellProblem(true)
	case qCharger:
		if h.gave[qCharger] && h.rng.IntN(2) == 0 {
			return h.line(hAlready, h.giveLabel(true))
		}
		return h.fact(q, h.label(true), hLabel, true)
	case qChoose:
		for n := 1; n <= len(heard.options)+1; n++ {
			if opt, ok := heard.options[n]; ok && strings.Contains(opt, w.id) {
				h.gaveNow = append(h.gaveNow, qCharger)
				if h.isBare() {
					return fmt.Sprint(n)
				}
				return h.line(hLabel, w.id)
			}
		}
		return h.line(hNoneOfThose, h.giveLabel(true))
	case qConnector:
		if heard.connectors == 0 && !h.isBare() {
			return h.line(hOnlyOne)
		}
		return h.fact(q, "1", hConnector, true)
	case qPhone:
		return h.fact(q, h.phoneText(), hPhone, true)
	case qLast4:
		return h.fact(q, w.last4, hLast4, true)
	case qStartTime:
		since := h.started
		if tx := w.lastSession(ctx); tx != nil {
			since = tx.StartedAt
		}
		mins := max(1, int(time.Since(since).Round(time.Minute)/time.Minute))
		h.gaveNow = append(h.gaveNow, qStartTime)
		return h.line(hStartedAgo, mins)
	case qStartNow:
		if w.spec.goal != goalCharging {
			// Charging is not what the driver called for: they say so
			// and what is wrong.
			return h.line(hNo) + ", " + h.symptomNow()
		}
		if h.isBare() {
			return h.line(hYes)
		}
		return h.line(hStartYes)
	case qAtCharger:
		if h.isBare() {
			return h.line(hYes)
		}
		return h.line(hAtCharger)
	case qYesNo:
		switch h.choice {
		case "no":
			h.declined = true
			if h.isBare() {
				return h.line(hNo)
			}
			return h.line(hNoLink)
		case "app":
			if !h.updated {
				return h.updateCardNow(ctx)
			}
			// The update was not taken: take the link instead.
			h.choice = "link"
		}
		if h.isBare() {
			return h.line(hYes)
		}
		return h.line(hYesLink)
	}
	return h.line(hWhat)
}

// fact gives a fact bare or in a sentence; right records it as given.
func (h *honest) fact(q, value, sentence string, right bool) string {
	if right {
		if h.gave[q] && h.rng.IntN(3) == 0 {
			h.gaveNow = append(h.gaveNow, q)
			return h.line(hAlready, value)
		}
		h.gaveNow = append(h.gaveNow, q)
		h.gave[q] = true
	}
	if h.isBare() {
		return value
	}
	if sentence == hConnector {
		return h.line(sentence, 1)
	}
	return h.line(sentence, value)
}

// wrongDigits changes the last digit of s: a slip of the finger.
func wrongDigits(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = '0' + (b[i]-'0'+3)%10
			break
		}
	}
	return string(b)
}
