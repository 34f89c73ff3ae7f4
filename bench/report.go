package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/chargedesk/chargedesk"
)

// Result is one graded trial.
type Result struct {
	TaskID         string              `json:"taskId"`
	Trial          int                 `json:"trial"`
	Fault          string              `json:"fault"`
	Category       string              `json:"category"`
	Persona        Persona             `json:"persona"`
	Lang           string              `json:"lang"`
	Channel        chargedesk.Channel  `json:"channel"`
	Protocol       chargedesk.Protocol `json:"protocol"`
	ConversationID string              `json:"conversationId,omitempty"`
	// OpeningID is the id of the opening line the task was built from.
	OpeningID string `json:"openingId,omitempty"`
	// Passed: the expected outcome reached, nothing forbidden, the audit
	// log consistent.
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
	// Unsafe lists the unsafe attempts (each also fails the trial).
	Unsafe            []string `json:"unsafe,omitempty"`
	Fixable           bool     `json:"fixable"`
	ExpectEscalation  bool     `json:"expectEscalation"`
	Escalated         bool     `json:"escalated"`
	EscalationCorrect bool     `json:"escalationCorrect"`
	// FalseResolution: the agent ended the conversation resolved while the
	// charger's state says the problem remains.
	FalseResolution bool `json:"falseResolution,omitempty"`
	Turns           int  `json:"turns"`
	// TurnsToGoal is how many driver messages it took to reach the goal
	// (0 when it was not reached).
	TurnsToGoal int `json:"turnsToGoal,omitempty"`
	// Dialogue counts what went wrong in the conversation itself (honest
	// driver only); any count fails the trial.
	Dialogue DialogueFaults `json:"dialogue"`
	// Commands counts the commands the policy allowed; RefusedByLimits
	// those refused by rate limits (not counted as unsafe).
	Commands        int     `json:"commands"`
	RefusedByLimits int     `json:"refusedByLimits,omitempty"`
	WallSeconds     float64 `json:"wallSeconds"`
	AgentSeconds    float64 `json:"agentSeconds"`
	// ResolutionSeconds is the wall time from the driver's first message
	// to the goal (passed trials only); ResolutionAgentSeconds the agent's
	// own share of it (time inside Handle).
	ResolutionSeconds      float64  `json:"resolutionSeconds,omitempty"`
	ResolutionAgentSeconds float64  `json:"resolutionAgentSeconds,omitempty"`
	Error                  string   `json:"error,omitempty"`
	Transcript             []string `json:"transcript,omitempty"`
	// FirstTextMS are, on a relay call, the times from each prompt to the
	// line's first text token when that token began the answer;
	// FirstHoldMS when it began a holding line (the agent waited on a
	// charger).
	FirstTextMS []float64 `json:"firstTextMs,omitempty"`
	FirstHoldMS []float64 `json:"firstHoldMs,omitempty"`
	// Webhooks counts the signed Twilio webhooks the trial posted (each SMS;
	// a call's /twilio/voice and <Connect action>), Prompts the relay
	// prompts it sent, Texts the replies and links it read from the
	// Messages API (an SMS reply sent late, a link texted during a call).
	Webhooks int `json:"webhooks,omitempty"`
	Prompts  int `json:"prompts,omitempty"`
	Texts    int `json:"texts,omitempty"`
}

// VoiceTiming is the phone line's time from a prompt to its first text
// token, over the turns of a relay run.
type VoiceTiming struct {
	// AnswerTurns are the turns the line answered at once (no holding
	// line), with the p50 and p99 of their first token.
	AnswerTurns int     `json:"answerTurns"`
	AnswerP50MS float64 `json:"answerP50Ms"`
	AnswerP99MS float64 `json:"answerP99Ms"`
	// HoldTurns are the turns that began with a holding line, with the
	// p50 and p99 of its first token.
	HoldTurns int     `json:"holdTurns"`
	HoldP50MS float64 `json:"holdP50Ms"`
	HoldP99MS float64 `json:"holdP99Ms"`
}

// Summary aggregates trials.
type Summary struct {
	Trials int `json:"trials"`
	Passed int `json:"passed"`
	// ResolutionRate is Passed/Trials.
	ResolutionRate float64 `json:"resolutionRate"`
	// Fixable* cover the remotely fixable faults alone.
	FixableTrials int     `json:"fixableTrials"`
	FixablePassed int     `json:"fixablePassed"`
	FixableRate   float64 `json:"fixableRate"`
	// PassK[k-1] is pass^k: the chance that k trials of the same task all
	// pass, averaged over tasks (τ-bench).
	PassK []float64 `json:"passK"`
	// Escalation precision: correct hand-overs among all hand-overs;
	// recall: correct hand-overs among the trials that needed one. NaN-free:
	// 1 when there is nothing to count.
	EscalationPrecision float64 `json:"escalationPrecision"`
	EscalationRecall    float64 `json:"escalationRecall"`
	Escalations         int     `json:"escalations"`
	EscalationsExpected int     `json:"escalationsExpected"`
	Unsafe              int     `json:"unsafe"`
	UnsafeTrials        int     `json:"unsafeTrials"`
	FalseResolutions    int     `json:"falseResolutions"`
	Errors              int     `json:"errors"`
	// Time to resolution over passed trials, seconds.
	MedianResolution      float64 `json:"medianResolutionSeconds"`
	P95Resolution         float64 `json:"p95ResolutionSeconds"`
	MedianResolutionAgent float64 `json:"medianResolutionAgentSeconds"`
	P95ResolutionAgent    float64 `json:"p95ResolutionAgentSeconds"`
	MeanTurns             float64 `json:"meanTurns"`
	MeanCommands          float64 `json:"meanCommands"`
	// MedianTurnsToFix is the median number of driver messages to the
	// goal over passed fixable trials.
	MedianTurnsToFix float64 `json:"medianTurnsToFix"`
	// Dialogue sums the conversation faults; DialogueTrials counts the
	// trials with any.
	Dialogue       DialogueFaults `json:"dialogue"`
	DialogueTrials int            `json:"dialogueTrials"`
}

// GroupSummary is the summary of the trials of one language or channel.
type GroupSummary struct {
	Group string `json:"group"`
	Summary
}

// CategorySummary is one category's summary.
type CategorySummary struct {
	Category string `json:"category"`
	Summary
}

// Report is the benchmark's outcome.
type Report struct {
	// Driver is the simulated driver the run used.
	Driver string `json:"driver"`
	// Channel is the channel every task was played on ("" when each task
	// kept its own); Transport how the driver's messages reached the agent
	// (TransportDirect, TransportSMS or TransportRelay).
	Channel   chargedesk.Channel `json:"channel,omitempty"`
	Transport string             `json:"transport"`
	// Voice is the line's first-token timing on a relay run.
	Voice      *VoiceTiming      `json:"voice,omitempty"`
	Tasks      int               `json:"tasks"`
	Seeds      int               `json:"seeds"`
	LatencyMS  int64             `json:"latencyMs"`
	Elapsed    string            `json:"elapsed"`
	Overall    Summary           `json:"overall"`
	Categories []CategorySummary `json:"categories"`
	Faults     []CategorySummary `json:"faults"`
	// Languages and Channels break the trials down by the driver's
	// language and channel.
	Languages  []GroupSummary `json:"languages"`
	Channels   []GroupSummary `json:"channels"`
	AuditError string         `json:"auditError,omitempty"`
	// Openings, when the tasks came from an openings file
	// (BuildOpenings), says how many of its lines were used and skipped.
	Openings *OpeningsNote `json:"openings,omitempty"`
	Results  []Result      `json:"results"`
}

func newReport(results []Result, cfg RunConfig) *Report {
	rep := &Report{Driver: cfg.Driver, Seeds: cfg.Seeds, LatencyMS: cfg.Latency.Milliseconds(), Results: results}
	rep.Tasks = len(results) / max(cfg.Seeds, 1)
	rep.Channel, rep.Transport = cfg.Channel, transportOf(cfg.Channel)
	if rep.Transport == TransportRelay {
		var text, hold []float64
		for _, r := range results {
			text, hold = append(text, r.FirstTextMS...), append(hold, r.FirstHoldMS...)
		}
		rep.Voice = &VoiceTiming{AnswerTurns: len(text), AnswerP50MS: quantile(text, 0.5), AnswerP99MS: quantile(text, 0.99),
			HoldTurns: len(hold), HoldP50MS: quantile(hold, 0.5), HoldP99MS: quantile(hold, 0.99)}
	}
	rep.Overall = summarize(results, cfg.Seeds)
	for _, c := range CategoryOrder() {
		var rs []Result
		for _, r := range results {
			if r.Category == c {
				rs = append(rs, r)
			}
		}
		if len(rs) > 0 {
			rep.Categories = append(rep.Categories, CategorySummary{Category: c, Summary: summarize(rs, cfg.Seeds)})
		}
	}
	for _, f := range faults {
		var rs []Result
		for _, r := range results {
			if r.Fault == f.Name {
				rs = append(rs, r)
			}
		}
		if len(rs) > 0 {
			rep.Faults = append(rep.Faults, CategorySummary{Category: f.Name, Summary: summarize(rs, cfg.Seeds)})
		}
	}
	for _, l := range Languages() {
		if rs := filter(results, func(r Result) bool { return r.Lang == l }); len(rs) > 0 {
			rep.Languages = append(rep.Languages, GroupSummary{Group: l, Summary: summarize(rs, cfg.Seeds)})
		}
	}
	for _, c := range Channels() {
		if rs := filter(results, func(r Result) bool { return r.Channel == c }); len(rs) > 0 {
			rep.Channels = append(rep.Channels, GroupSummary{Group: string(c), Summary: summarize(rs, cfg.Seeds)})
		}
	}
	return rep
}

// filter returns the results for which keep holds.
func filter(rs []Result, keep func(Result) bool) []Result {
	var out []Result
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func summarize(rs []Result, seeds int) Summary {
	var s Summary
	var res, resAgent, fixTurns []float64
	var turns, cmds int
	var escTP, escFP, escFN int
	perTask := map[string][2]int{} // passes, trials
	for _, r := range rs {
		s.Trials++
		pt := perTask[r.TaskID]
		pt[1]++
		if r.Passed {
			s.Passed++
			pt[0]++
			res = append(res, r.ResolutionSeconds)
			resAgent = append(resAgent, r.ResolutionAgentSeconds)
		}
		perTask[r.TaskID] = pt
		if r.Fixable {
			s.FixableTrials++
			if r.Passed {
				s.FixablePassed++
				if r.TurnsToGoal > 0 {
					fixTurns = append(fixTurns, float64(r.TurnsToGoal))
				}
			}
		}
		s.Dialogue.add(r.Dialogue)
		if r.Dialogue.Total() > 0 {
			s.DialogueTrials++
		}
		if r.Escalated {
			s.Escalations++
		}
		if r.ExpectEscalation {
			s.EscalationsExpected++
		}
		switch {
		case r.ExpectEscalation && r.EscalationCorrect:
			escTP++
		case r.ExpectEscalation:
			escFN++
			if r.Escalated {
				escFP++ // handed over to the wrong queue
			}
		case r.Escalated:
			escFP++
		}
		s.Unsafe += len(r.Unsafe)
		if len(r.Unsafe) > 0 {
			s.UnsafeTrials++
		}
		if r.FalseResolution {
			s.FalseResolutions++
		}
		if r.Error != "" {
			s.Errors++
		}
		turns += r.Turns
		cmds += r.Commands
	}
	if s.Trials == 0 {
		return s
	}
	s.ResolutionRate = ratio(s.Passed, s.Trials)
	s.FixableRate = ratio(s.FixablePassed, s.FixableTrials)
	s.EscalationPrecision = ratio(escTP, escTP+escFP)
	s.EscalationRecall = ratio(escTP, escTP+escFN)
	s.MeanTurns = round3(float64(turns) / float64(s.Trials))
	s.MeanCommands = round3(float64(cmds) / float64(s.Trials))
	s.MedianResolution, s.P95Resolution = quantile(res, 0.5), quantile(res, 0.95)
	s.MedianResolutionAgent, s.P95ResolutionAgent = quantile(resAgent, 0.5), quantile(resAgent, 0.95)
	s.MedianTurnsToFix = quantile(fixTurns, 0.5)
	for k := 1; k <= min(seeds, 4); k++ {
		var sum float64
		var n int
		for _, pt := range perTask {
			if pt[1] < k {
				continue
			}
			sum += binom(pt[0], k) / binom(pt[1], k)
			n++
		}
		if n > 0 {
			s.PassK = append(s.PassK, round3(sum/float64(n)))
		}
	}
	return s
}

// ratio is a/b, or 1 when b is 0 (nothing to get wrong).
func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return round3(float64(a) / float64(b))
}

func binom(n, k int) float64 {
	if k > n {
		return 0
	}
	r := 1.0
	for i := range k {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}

// quantile returns the q-quantile (nearest rank) of xs, 0 when empty.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return round3(s[max(0, min(i, len(s)-1))])
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// writeDialogueTable writes the conversation faults overall, per
// language and per channel.
func (r *Report) writeDialogueTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "conversation\ttrials\tresolved\tfixable\tlang-drift\trepeated\tneedless-q\timpossible-q\tfar-nearest\tfalse-ticket\ttoo-long\tturns to fix p50\t\n")
	row := func(name string, s Summary) {
		fixable := "-"
		if s.FixableTrials > 0 {
			fixable = fmt.Sprintf("%d/%d", s.FixablePassed, s.FixableTrials)
		}
		d := s.Dialogue
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t\n", name, s.Trials, 100*s.ResolutionRate, fixable,
			d.LanguageDrift, d.RepeatedReplies, d.NeedlessQuestions, d.ImpossibleQuestions, d.FarSuggestions, d.FalseTickets,
			d.TooManyTurns, s.MedianTurnsToFix)
	}
	for _, g := range r.Languages {
		row(g.Group, g.Summary)
	}
	for _, g := range r.Channels {
		row(g.Group, g.Summary)
	}
	row("OVERALL", r.Overall)
	return tw.Flush()
}

// WriteTranscripts writes one readable text file per failed trial into
// dir (created if needed): the task, why it failed, and the conversation
// with what the driver did at the charger.
func (r *Report) WriteTranscripts(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: transcripts: %w", err)
	}
	for _, x := range r.Results {
		if x.Passed {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "task %s trial %d: fault %s (%s), %s driver, %s, %s, OCPP %s\n", x.TaskID, x.Trial, x.Fault, x.Category,
			x.Persona, x.Lang, x.Channel, x.Protocol)
		if x.OpeningID != "" {
			fmt.Fprintf(&b, "opening %s\n", x.OpeningID)
		}
		fmt.Fprintf(&b, "conversation %s, %d driver messages\n\nfailed:\n", x.ConversationID, x.Turns)
		for _, f := range x.Failures {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
		for _, u := range x.Unsafe {
			fmt.Fprintf(&b, "  - UNSAFE: %s\n", u)
		}
		b.WriteString("\n")
		for _, l := range x.Transcript {
			b.WriteString(l)
			b.WriteString("\n")
		}
		name := filepath.Join(dir, fmt.Sprintf("%s-%d.txt", x.TaskID, x.Trial))
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("bench: transcripts: %w", err)
		}
	}
	return nil
}

// WriteTable writes the report as text tables: per category, per fault,
// overall, and the failed trials.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "support benchmark: %d tasks x %d seeds, %s driver, charger latency %dms, %s\n\n", r.Tasks, r.Seeds, r.Driver,
		r.LatencyMS, r.Elapsed)
	switch r.Transport {
	case TransportSMS:
		fmt.Fprintf(w, "channel sms: every message a Twilio-signed webhook to /twilio/sms, replies from the TwiML and the Messages API\n\n")
	case TransportRelay:
		fmt.Fprintf(w, "channel voice: every task a ConversationRelay call (signed /twilio/voice, prompts over the relay WebSocket)\n")
		if v := r.Voice; v != nil {
			fmt.Fprintf(w, "prompt to first text token: answer %d turns p50/p99 %.0f/%.0f ms; holding line %d turns p50/p99 %.0f/%.0f ms\n",
				v.AnswerTurns, v.AnswerP50MS, v.AnswerP99MS, v.HoldTurns, v.HoldP50MS, v.HoldP99MS)
		}
		fmt.Fprintln(w)
	default:
		if r.Channel != "" {
			fmt.Fprintf(w, "channel %s: messages handed to the agent in process\n\n", r.Channel)
		}
	}
	if r.Openings != nil {
		r.Openings.write(w)
		fmt.Fprintln(w)
	}
	head := "\ttrials\tresolved\tfixable\tpass^k\tesc P/R\tunsafe\tfalse-res\tTTR p50/p95 s\tagent p50/p95 s\tturns\tcmds\t\n"
	row := func(name string, s Summary) {
		var pk []string
		for _, p := range s.PassK {
			pk = append(pk, fmt.Sprintf("%.2f", p))
		}
		fixable := "-"
		if s.FixableTrials > 0 {
			fixable = fmt.Sprintf("%d/%d", s.FixablePassed, s.FixableTrials)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%s\t%s\t%.2f/%.2f\t%d\t%d\t%.1f/%.1f\t%.1f/%.1f\t%.1f\t%.1f\t\n", name, s.Trials,
			100*s.ResolutionRate, fixable, strings.Join(pk, " "), s.EscalationPrecision, s.EscalationRecall, s.Unsafe,
			s.FalseResolutions, s.MedianResolution, s.P95Resolution, s.MedianResolutionAgent, s.P95ResolutionAgent, s.MeanTurns, s.MeanCommands)
	}
	fmt.Fprint(tw, "category"+head)
	for _, c := range r.Categories {
		row(c.Category, c.Summary)
	}
	row("OVERALL", r.Overall)
	fmt.Fprint(tw, "\t\t\t\t\t\t\t\t\t\t\t\t\n")
	fmt.Fprint(tw, "fault"+head)
	for _, f := range r.Faults {
		row(f.Category, f.Summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := r.writeDialogueTable(w); err != nil {
		return err
	}
	if r.AuditError != "" {
		fmt.Fprintf(w, "\nAUDIT CHAIN BROKEN: %s\n", r.AuditError)
	}
	var failed []Result
	for _, x := range r.Results {
		if !x.Passed {
			failed = append(failed, x)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nfailed trials (%d):\n", len(failed))
		for _, x := range failed {
			fmt.Fprintf(w, "  %s #%d [%s %s %s %s] %s\n", x.TaskID, x.Trial, x.Persona, x.Lang, x.Channel, x.Protocol, strings.Join(x.Failures, "; "))
			for _, u := range x.Unsafe {
				fmt.Fprintf(w, "    UNSAFE: %s\n", u)
			}
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}
