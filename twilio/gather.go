package twilio

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
)

// The <Gather> fallback: one webhook per turn of the caller. Everything a
// turn needs is in the store or in the URL Twilio calls back, so that any
// node may answer any turn.

// MinConfidence is the speech recognition confidence under which a
// transcript is asked again rather than acted on.
const MinConfidence = 0.4

// maxPolls bounds the holding loop of one turn (about two minutes).
const maxPolls = 40

// pollWait is how long one poll waits for the agent's answer before it
// holds again: short, so that the caller never hears long silences.
const pollWait = 3 * time.Second

// gatherAttempt is where a turn's asking stands: asked again once, or on
// the keypad menu.
type gatherAttempt struct{ retry, menu bool }

func (a gatherAttempt) query() string {
	q := url.Values{}
	if a.retry {
		q.Set("retry", "1")
	}
	if a.menu {
		q.Set("menu", "1")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// gatherInto adds a <Gather> that says say and posts the caller's answer
// to /twilio/gather, then a <Redirect> there when nothing was heard.
func gatherInto(b *twiml, base, lang, say string, a gatherAttempt) {
	action := base + "/twilio/gather" + a.query()
	code := twilioLang(lang)
	attrs := []string{"input", "speech dtmf", "action", action, "method", "POST", "language", code,
		"speechTimeout", "auto", "timeout", "6", "finishOnKey", "#"}
	if a.menu {
		attrs = append(attrs, "numDigits", "1")
	}
	b.open("Gather", attrs...)
	if say != "" {
		b.text("Say", say, "language", code)
	}
	b.close("Gather")
	b.text("Redirect", action, "method", "POST")
}

func gatherTwiML(base, lang, say string, a gatherAttempt) string {
	var b twiml
	b.open("Response")
	gatherInto(&b, base, lang, say, a)
	b.close("Response")
	return b.String()
}

// handleGather takes one turn of the caller: what they said (with the
// recogniser's confidence) or typed.
func (v *Voice) handleGather(w http.ResponseWriter, r *http.Request) {
	f, q := r.PostForm, r.URL.Query()
	ctx := r.Context()
	c, err := v.open(ctx, f.Get("CallSid"), f.Get("From"))
	if err != nil {
		v.fail(w, r, err)
		return
	}
	base, lang := v.base(r), c.Language
	turns, err := v.cfg.Store.Turns(ctx, c.ID)
	if err != nil {
		v.fail(w, r, err)
		return
	}
	text := ""
	speech := strings.TrimSpace(f.Get("SpeechResult"))
	confidence := 1.0
	if s := f.Get("Confidence"); s != "" {
		if confidence, err = strconv.ParseFloat(s, 64); err != nil {
			confidence = 0
		}
	}
	digits := strings.Trim(f.Get("Digits"), "*#")
	switch {
	case digits != "" && q.Get("menu") == "1":
		text = menuChoices[spokenLang(lang)][digits[0]]
	case digits != "":
		text = keysMean(digits, lastAgentText(turns), lang)
	case speech != "" && confidence >= MinConfidence:
		text = heardMean(textcut.Bytes(speech, MaxPromptLen), lastAgentText(turns))
	}
	if text == "" {
		// Not heard, or heard too unsure to act on: asked once more, then
		// the keypad.
		if q.Get("retry") == "" && q.Get("menu") == "" {
			writeTwiML(w, gatherTwiML(base, lang, line(lineReprompt, lang), gatherAttempt{retry: true}))
			return
		}
		writeTwiML(w, gatherTwiML(base, lang, line(lineMenu, lang), gatherAttempt{menu: true}))
		return
	}
	var after int64
	if len(turns) > 0 {
		after = turns[len(turns)-1].Seq
	}
	done := make(chan agentAnswer, 1)
	actx := chargedesk.WithProgress(context.WithoutCancel(ctx), v.doing.begin(c.ID))
	go func() {
		// The agent's work outlives this request: its answer is stored and
		// the holding loop's polls find it there, on any node.
		defer v.doing.end(c.ID)
		reply, c, err := v.cfg.Agent.Reply(actx, c.ID, text)
		done <- agentAnswer{reply, c, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			v.log.Error("agent failed on a call", "conversation_id", c.ID, "err", res.err)
			writeTwiML(w, gatherTwiML(base, lang, line(lineTrouble, lang), gatherAttempt{}))
			return
		}
		writeTwiML(w, v.gatherAnswer(ctx, base, res.c, res.reply))
	case <-time.After(v.cfg.GatherWait):
		// The agent has read the caller's language from this turn by now
		// (it stores it before it works): hold in it.
		if cur, err := v.cfg.Store.Conversation(ctx, c.ID); err == nil {
			lang = cur.Language
		}
		writeTwiML(w, holdTwiML(base, lang, v.doing.next(c.ID, lineHold), after, 1))
	}
}

// holdTwiML says a holding line and comes back for the answer.
func holdTwiML(base, lang, key string, after int64, n int) string {
	var b twiml
	b.open("Response")
	b.text("Say", line(key, lang), "language", twilioLang(lang))
	b.text("Redirect", base+"/twilio/gather/poll?"+url.Values{"after": {strconv.FormatInt(after, 10)}, "n": {strconv.Itoa(n)}}.Encode(), "method", "POST")
	b.close("Response")
	return b.String()
}

// handlePoll comes back for the answer to a turn the agent was still
// working on: the first agent turn stored after the turn's start.
func (v *Voice) handlePoll(w http.ResponseWriter, r *http.Request) {
	f, q := r.PostForm, r.URL.Query()
	id, err := conversationID(f.Get("CallSid"))
	if err != nil {
		v.fail(w, r, err)
		return
	}
	after, err1 := strconv.ParseInt(q.Get("after"), 10, 64)
	n, err2 := strconv.Atoi(q.Get("n"))
	if err1 != nil || err2 != nil || n < 1 {
		v.fail(w, r, chargedesk.Errorf(chargedesk.EINVALID, "poll needs after and n"))
		return
	}
	base := v.base(r)
	deadline := time.Now().Add(min(pollWait, v.cfg.GatherWait*3))
	for {
		c, err := v.cfg.Store.Conversation(r.Context(), id)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		turns, err := v.cfg.Store.Turns(r.Context(), id)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		for _, t := range turns {
			if t.Seq > after && t.Role == chargedesk.RoleAgent {
				writeTwiML(w, v.gatherAnswer(r.Context(), base, c, t.Text))
				return
			}
		}
		if time.Now().After(deadline) {
			if n >= maxPolls {
				writeTwiML(w, gatherTwiML(base, c.Language, line(lineNotReady, c.Language), gatherAttempt{}))
				return
			}
			writeTwiML(w, holdTwiML(base, c.Language, v.doing.next(id, lineHoldAgain), after, n+1))
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// gatherAnswer says the agent's answer and gathers the next turn, or hands
// the call to a person.
func (v *Voice) gatherAnswer(ctx context.Context, base string, c *chargedesk.Conversation, reply string) string {
	say := v.speech(ctx, c, reply)
	if h, ok := v.endOf(ctx, c); ok {
		var b twiml
		b.open("Response")
		b.text("Say", say, "language", twilioLang(c.Language))
		inner := v.personTwiML(c.ID, c.Language, h.TicketID)
		b.WriteString(strings.TrimSuffix(strings.TrimPrefix(inner, "<Response>"), "</Response>"))
		b.close("Response")
		return b.String()
	}
	return gatherTwiML(base, c.Language, say, gatherAttempt{})
}

// lastAgentText is the agent's last answer among turns.
func lastAgentText(turns []chargedesk.Turn) string {
	for i := len(turns) - 1; i >= 0; i-- {
		if turns[i].Role == chargedesk.RoleAgent {
			return turns[i].Text
		}
	}
	return ""
}
