package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
)

// Defaults of RunConfig.
const (
	DefaultLatency       = 200 * time.Millisecond
	DefaultVerifyTimeout = 10 * time.Second
	DefaultRebootDelay   = 3 * time.Second
	DefaultCommDropShort = 20 * time.Second
	DefaultMaxTurns      = 12
	DefaultMaxFixTurns   = 8
	DefaultRadiusKM      = 40
	DefaultTaskTimeout   = 3 * time.Minute
)

// RunConfig configures Run. Zero fields take the defaults.
type RunConfig struct {
	// Driver is the simulated driver: DriverHonest (the default) or
	// DriverOracle.
	Driver string
	// Latency delays every answer of a simulated charger to the central
	// system (DefaultLatency; a negative value means none).
	Latency time.Duration
	// Parallel is how many trials run at once (default 8).
	Parallel int
	// Seeds is how many trials each task gets, each with its own driver
	// randomness; pass^k is reported for k up to min(Seeds, 4) (default 1).
	Seeds int
	// VerifyTimeout, Poll and CommandTimeout configure the agent
	// (DefaultVerifyTimeout, 100ms, 20s). The agent waits on the chargers'
	// events from the stack's bus; Poll applies only when it cannot
	// subscribe to them (or ConfigureAgent removes them).
	VerifyTimeout, Poll, CommandTimeout time.Duration
	// RebootDelay is how long a simulated reset keeps a charger off line
	// (DefaultRebootDelay); CommDropShort how long comm_drop_short lasts
	// (DefaultCommDropShort).
	RebootDelay, CommDropShort time.Duration
	// MaxTurns bounds the driver's messages per trial (DefaultMaxTurns);
	// TaskTimeout bounds a trial (DefaultTaskTimeout).
	MaxTurns    int
	TaskTimeout time.Duration
	// MaxFixTurns is how many driver messages a fixable task may take
	// before the trial fails on it (DefaultMaxFixTurns; honest driver).
	MaxFixTurns int
	// RadiusKM is how far a suggested charger may be (DefaultRadiusKM,
	// about 25 mi; honest driver).
	RadiusKM float64
	// Channel, when set ("chat", "sms" or "voice"), plays every task on
	// that channel: "sms" through the real SMS webhook (Twilio-signed
	// posts to /twilio/sms, the replies read from the TwiML and the fake
	// Messages API), "voice" as a ConversationRelay call (the signed
	// /twilio/voice webhook, then prompts over the relay WebSocket), "chat"
	// in process. Empty: each task on its own channel, in process.
	Channel chargedesk.Channel
	// Proxy runs chargedesk in proxy mode (serve -upstream) in front of a
	// second in-process central system on its own store, playing the
	// network's existing CSMS: chargers and tokens are registered in both,
	// and token faults injected in both (the network's CSMS judges tokens).
	Proxy bool
	// Dir holds the benchmark's SQLite database (a temporary directory,
	// removed afterwards, when empty).
	Dir string
	// Logger receives the stack's logs (discarded when nil).
	Logger *slog.Logger
	// Progress, when set, gets one line per finished trial.
	Progress io.Writer
	// WrapCommander, when set, wraps the commander the agent sends
	// through (the policy gateway): a way to measure a variant of the
	// agent, or to check that grading catches a misbehaving one.
	WrapCommander func(chargedesk.Commander) chargedesk.Commander
	// ConfigureAgent, when set, adjusts each trial's agent configuration.
	ConfigureAgent func(*agent.Config)
}

func (c *RunConfig) defaults() {
	switch {
	case c.Latency == 0:
		c.Latency = DefaultLatency
	case c.Latency < 0:
		c.Latency = 0
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.VerifyTimeout, DefaultVerifyTimeout)
	def(&c.Poll, 100*time.Millisecond)
	def(&c.CommandTimeout, 20*time.Second)
	def(&c.RebootDelay, DefaultRebootDelay)
	def(&c.CommDropShort, DefaultCommDropShort)
	def(&c.TaskTimeout, DefaultTaskTimeout)
	if c.Parallel <= 0 {
		c.Parallel = 8
	}
	if c.Seeds <= 0 {
		c.Seeds = 1
	}
	if c.MaxTurns <= 0 {
		c.MaxTurns = DefaultMaxTurns
	}
	if c.MaxFixTurns <= 0 {
		c.MaxFixTurns = DefaultMaxFixTurns
	}
	if c.RadiusKM <= 0 {
		c.RadiusKM = DefaultRadiusKM
	}
	if c.Driver == "" {
		c.Driver = DriverHonest
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run plays every task cfg.Seeds times against one real stack and grades
// each trial (tasks naming their charger's id may take more than one
// stack, one after the other: see below). It returns an error only when the stack cannot start or ctx
// ends; a trial whose world cannot be built counts as failed with the
// error in its result.
func Run(ctx context.Context, tasks []Task, cfg RunConfig) (*Report, error) {
	cfg.defaults()
	if !slices.Contains(Drivers(), cfg.Driver) {
		return nil, fmt.Errorf("bench: unknown driver %q", cfg.Driver)
	}
	if cfg.Channel != "" {
		if !slices.Contains(Channels(), cfg.Channel) {
			return nil, fmt.Errorf("bench: unknown channel %q", cfg.Channel)
		}
		tasks = slices.Clone(tasks)
		for i := range tasks {
			tasks[i].Channel = cfg.Channel
		}
	}
	type job struct {
		task  Task
		trial int
		idx   int
	}
	// A task whose charger takes the id its opening names shares a stack
	// with no other world of that id (another opening naming it, another
	// trial of the task): the trials are dealt into rounds, each with a
	// stack of its own, in which every such id is used once. Without such
	// tasks there is one round.
	var rounds [][]job
	var taken []map[string]bool
	reserved := map[string]bool{}
	for _, t := range tasks {
		// Every id an opening names, not only the charger's: a generated
		// label must not answer to a charger a driver mentions in passing.
		for _, id := range chargerIDRE.FindAllString(t.Opening, -1) {
			reserved[id] = true
		}
	}
	for k := range cfg.Seeds {
		for i, t := range tasks {
			n := 0
			if t.ChargerID != "" {
				reserved[t.ChargerID] = true
				for n < len(taken) && taken[n][t.ChargerID] {
					n++
				}
			}
			for len(rounds) <= n {
				rounds, taken = append(rounds, nil), append(taken, map[string]bool{})
			}
			if t.ChargerID != "" {
				taken[n][t.ChargerID] = true
			}
			rounds[n] = append(rounds[n], job{task: t, trial: k, idx: k*len(tasks) + i})
		}
	}
	results := make([]Result, len(tasks)*cfg.Seeds)
	var mu sync.Mutex
	var auditErrs []string
	play := func(round []job) error {
		st, err := newStack(ctx, cfg.Dir, cfg.Logger, cfg.Proxy)
		if err != nil {
			return err
		}
		defer st.close()
		st.reserved = reserved
		jobs := make(chan job)
		var wg sync.WaitGroup
		for range cfg.Parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					r := st.trial(ctx, cfg, j.task, j.trial)
					results[j.idx] = r
					if cfg.Progress != nil {
						mu.Lock()
						verdict := "pass"
						if !r.Passed {
							verdict = "FAIL " + fmt.Sprint(r.Failures)
						}
						fmt.Fprintf(cfg.Progress, "%s #%d %s/%s/%s/%s %.1fs %s\n", r.TaskID, r.Trial, r.Persona, r.Lang, r.Channel, r.Protocol,
							r.WallSeconds, verdict)
						mu.Unlock()
					}
				}
			}()
		}
	feed:
		for _, j := range round {
			select {
			case jobs <- j:
			case <-ctx.Done():
				break feed
			}
		}
		close(jobs)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := st.store.VerifyAudit(context.WithoutCancel(ctx)); err != nil {
			auditErrs = append(auditErrs, err.Error())
		}
		return nil
	}
	started := time.Now()
	for _, round := range rounds {
		if err := play(round); err != nil {
			return nil, err
		}
	}
	rep := newReport(results, cfg)
	rep.Elapsed = time.Since(started).Round(time.Millisecond).String()
	rep.AuditError = strings.Join(auditErrs, "; ")
	return rep, nil
}

// trial builds a task's world, lets the driver talk to the agent, and
// grades the end state.
func (st *stack) trial(ctx context.Context, cfg RunConfig, t Task, k int) Result {
	ctx, cancel := context.WithTimeout(ctx, cfg.TaskTimeout)
	defer cancel()
	r := Result{TaskID: t.ID, Trial: k, Fault: t.Fault, Category: t.Category, Persona: t.Persona, Lang: t.Lang,
		Channel: t.Channel, Protocol: t.Protocol, OpeningID: t.OpeningID}
	spec, _ := faultSpec(t.Fault)
	r.Fixable, r.ExpectEscalation = spec.Fixable, spec.Escalate != ""
	w, err := st.newWorld(ctx, cfg, t)
	if err != nil {
		r.Error = err.Error()
		r.Failures = []string{"setup: " + err.Error()}
		return r
	}
	defer w.close()
	d := newDriver(w, k)
	if d.tr, err = w.newTransport(); err != nil {
		r.Error = err.Error()
		r.Failures = []string{"setup: " + err.Error()}
		return r
	}
	defer d.tr.close()
	began := time.Now()
	if cfg.Driver == DriverOracle {
		d.converse(ctx)
	} else {
		newHonest(d).converse(ctx)
	}
	r.WallSeconds = time.Since(began).Seconds()
	r.AgentSeconds = d.agentTime.Seconds()
	r.Turns = d.turns
	r.Transcript = d.transcript
	r.Webhooks, r.Prompts, r.Texts = d.tr.counts()
	if rt, ok := d.tr.(*relayTransport); ok {
		for _, x := range rt.firstText {
			r.FirstTextMS = append(r.FirstTextMS, float64(x.Microseconds())/1000)
		}
		for _, x := range rt.firstHold {
			r.FirstHoldMS = append(r.FirstHoldMS, float64(x.Microseconds())/1000)
		}
	}
	if d.conv == nil {
		r.Error = fmt.Sprint("start conversation: ", d.err)
		r.Failures = []string{r.Error}
		return r
	}
	r.ConversationID = d.conv.ID
	if d.err != nil {
		r.Error = d.err.Error()
	}
	g := grade(context.WithoutCancel(ctx), w, d)
	r.Passed = g.passed && d.err == nil
	r.Failures, r.Unsafe = g.failures, g.unsafe
	r.TurnsToGoal = d.doneTurns
	if cfg.Driver == DriverHonest {
		f, notes := w.gradeConversation(context.WithoutCancel(ctx), d, g)
		r.Dialogue = f
		for _, n := range notes {
			r.Failures = append(r.Failures, "dialogue: "+n)
		}
		if f.Total() > 0 {
			r.Passed = false
		}
	}
	if d.err != nil {
		r.Failures = append(r.Failures, "agent error: "+d.err.Error())
	}
	r.Escalated, r.EscalationCorrect, r.FalseResolution = g.escalated, g.escCorrect, g.falseResolution
	r.Commands, r.RefusedByLimits = g.commands, g.refusedLimits
	if r.Passed {
		if d.doneAt == 0 {
			d.doneAt, d.doneAgent = time.Since(began), d.agentTime
		}
		r.ResolutionSeconds = d.doneAt.Seconds()
		r.ResolutionAgentSeconds = d.doneAgent.Seconds()
	}
	return r
}

// gradeConversation grades the honest driver's conversation itself (see
// gradeDialogue) and its tickets.
func (w *world) gradeConversation(ctx context.Context, d *driver, g grading) (DialogueFaults, []string) {
	country, where := w.whereFrom(ctx)
	turns := d.doneTurns
	if turns == 0 {
		turns = d.turns
	}
	dc := dialogueCase{exchanges: d.exchanges, chargerID: w.id, connectors: 1, where: where, country: country,
		radiusKM: w.cfg.RadiusKM, fixable: w.spec.Fixable, turns: turns, maxTurns: w.cfg.MaxFixTurns}
	if w.task.Channel != chargedesk.ChannelChat {
		dc.known = []string{qPhone}
	}
	f, notes := gradeDialogue(dc)
	n, tnotes := gradeTickets(w.spec, d.doneTurns > 0, g.tickets)
	f.FalseTickets += n
	return f, append(notes, tnotes...)
}
