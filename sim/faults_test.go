package sim

// Every fault of the catalogue (FAULTS.md) is tested here against
// chargedesk's own central system (csms on a SQLite store) over a loopback
// socket, for both protocol versions, with commands sent through the policy
// gateway as the agent and operators send them. The tests assert what the
// central system stored (connector status and error code, transactions,
// meter values), the command results, and the audit trail; each shows what
// fixes the fault and what does not.
//
// No fault test uses the small test CSMS of csms_test.go: every fault's
// behaviour can be provoked through the real central system. That mock
// remains only for the charger tests (charger_test.go) that need what the
// real central system does not do on demand: a scripted Pending, Rejected,
// Accepted boot sequence, CALLs left unanswered, raw frames on the wire.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/policy"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// stack is chargedesk's central system on SQLite behind a loopback HTTP
// server, with the policy gateway in front of its commands.
type stack struct {
	srv   *csms.Server
	store *sqlstore.Store
	url   string
	gw    *policy.Gateway
	seq   atomic.Int64
}

func newStack(t *testing.T) *stack {
	t.Helper()
	srv, store, url := realCSMS(t)
	gw := &policy.Gateway{
		Policy: &policy.Rules{Store: store, Now: time.Now},
		Audit:  store, Next: srv, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	}
	return &stack{srv: srv, store: store, url: url, gw: gw}
}

// callCounter counts the CALLs a charger sent, by action, and keeps its
// answers to the CSMS's CALLs, by action.
type callCounter struct {
	mu       sync.Mutex
	sent     map[string]int
	incoming map[string]string            // message id → action of a CSMS CALL
	answers  map[string][]json.RawMessage // action → the charger's CALLRESULT payloads
}

func newCallCounter() *callCounter {
	return &callCounter{sent: map[string]int{}, incoming: map[string]string{}, answers: map[string][]json.RawMessage{}}
}

func (l *callCounter) record(f Frame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case f.Dir == DirOut && f.Message.Type == ocpp.Call:
		l.sent[f.Message.Action]++
	case f.Dir == DirIn && f.Message.Type == ocpp.Call:
		l.incoming[f.Message.ID] = f.Message.Action
	case f.Dir == DirOut && f.Message.Type == ocpp.CallResult:
		if a, ok := l.incoming[f.Message.ID]; ok {
			l.answers[a] = append(l.answers[a], f.Message.Payload)
		}
	}
}

func (l *callCounter) count(action string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent[action]
}

// answered returns the charger's answers to the CSMS's CALLs of action.
func (l *callCounter) answered(action string) []json.RawMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.answers[action])
}

// faultEnv is one simulated charger on the real stack, with two drivers'
// tokens stored Accepted: drv (the caller) and other (someone else).
type faultEnv struct {
	ctx    context.Context
	st     *stack
	c      *Charger
	p      chargedesk.Protocol
	id     string
	drv    string
	other  string
	frames *callCounter
}

const simPassword = "sim-charger-secret-1"

// newFaultEnv registers charger id and two tokens in the stack's store,
// runs the charger and waits until the central system has stored its
// connectors.
func newFaultEnv(t *testing.T, st *stack, p chargedesk.Protocol, id string, edit func(*ChargerConfig)) *faultEnv {
	t.Helper()
	return newFaultEnvAfter(t, st, p, id, edit, nil)
}

// newFaultEnvAfter is newFaultEnv calling before, when not nil, with the
// environment and its charger before the charger runs.
func newFaultEnvAfter(t *testing.T, st *stack, p chargedesk.Protocol, id string, edit func(*ChargerConfig), before func(*faultEnv)) *faultEnv {
	t.Helper()
	ctx := testCtx(t)
	n := st.seq.Add(1)
	e := &faultEnv{ctx: ctx, st: st, p: p, id: id, drv: fmt.Sprintf("DRV-%04d", n), other: fmt.Sprintf("OTH-%04d", n),
		frames: newCallCounter()}
	if _, err := st.store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id,
		PasswordHash: chargedesk.HashPassword(simPassword), BootStatus: chargedesk.RegistrationAccepted}); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{e.drv, e.other} {
		if err := st.store.PutToken(ctx, &chargedesk.Token{IDTag: tag, Status: chargedesk.AuthAccepted}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := ChargerConfig{ID: id, Password: simPassword, Protocol: p, URL: st.url, Validator: testValidator,
		CallTimeout: 5 * time.Second, CommDropShort: 1500 * time.Millisecond, OnFrame: e.frames.record}
	if edit != nil {
		edit(&cfg)
	}
	var pre func(*Charger)
	if before != nil {
		pre = func(c *Charger) { e.c = c; before(e) }
	}
	e.c = startChargerAfter(t, cfg, pre)
	waitState(ctx, t, e.c, "online", func(s Snapshot) bool { return s.Connected && s.BootStatus == chargedesk.RegistrationAccepted })
	e.waitConnector(t, 1, "first status stored", func(k chargedesk.Connector) bool { return k.Status != "" })
	e.waitOnline(t)
	return e
}

// by returns the 1.6 or the 2.0.1 value, as the charger's version says.
func by[T any](p chargedesk.Protocol, v16, v201 T) T {
	if p == chargedesk.OCPP16 {
		return v16
	}
	return v201
}

// poll calls get every 10ms until it reports done or the test's deadline
// passes.
func poll[T any](ctx context.Context, t *testing.T, what string, get func() (T, bool)) T {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		v, ok := get()
		if ok {
			return v
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last %+v", what, v)
			return v
		}
	}
}

// charger reads the stored charger.
func (e *faultEnv) charger(t *testing.T) *chargedesk.Charger {
	t.Helper()
	ch, err := e.st.store.Charger(e.ctx, e.id)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// waitCharger waits until the stored charger satisfies cond.
func (e *faultEnv) waitCharger(t *testing.T, what string, cond func(*chargedesk.Charger) bool) *chargedesk.Charger {
	t.Helper()
	return poll(e.ctx, t, "stored charger: "+what, func() (*chargedesk.Charger, bool) {
		ch := e.charger(t)
		return ch, cond(ch)
	})
}

// waitConnector waits until stored connector id satisfies cond.
func (e *faultEnv) waitConnector(t *testing.T, id int, what string, cond func(chargedesk.Connector) bool) chargedesk.Connector {
	t.Helper()
	return poll(e.ctx, t, fmt.Sprintf("stored connector %d: %s", id, what), func() (chargedesk.Connector, bool) {
		k := e.charger(t).Connector(id)
		if k == nil {
			return chargedesk.Connector{}, false
		}
		return *k, cond(*k)
	})
}

// waitStatus waits until stored connector 1 has status st and, when ec is
// not empty, the evidence of error code ec: for a 1.6 charger the stored
// error code, for a 2.0.1 charger (whose StatusNotification has none) the
// NotifyEvent Problem reports in the central system's frame history.
func (e *faultEnv) waitStatus(t *testing.T, st chargedesk.ConnectorStatus, ec string) chargedesk.Connector {
	t.Helper()
	return e.waitConnector(t, 1, string(st)+" "+ec, func(k chargedesk.Connector) bool {
		if k.Status != st || ec == "" {
			return k.Status == st
		}
		if e.p == chargedesk.OCPP16 {
			return k.ErrorCode == ec
		}
		return e.problemEvidence(t, ec)
	})
}

// problemReport is one Problem datum of a NotifyEvent the central system
// received.
type problemReport struct {
	component string
	evse      int
	techCode  string
	raised    bool
	techInfo  string
}

// problemReports returns the Problem data of the NotifyEvents stored in
// the charger's frame history, newest first.
func (e *faultEnv) problemReports(t *testing.T) []problemReport {
	t.Helper()
	evs, err := e.st.store.RecentEvents(e.ctx, e.id, chargedesk.MaxRecentEvents)
	if err != nil {
		t.Fatal(err)
	}
	var out []problemReport
	for _, ev := range evs {
		if ev.Direction != chargedesk.DirIn || ev.Type != "CALL" || ev.Action != "NotifyEvent" {
			continue
		}
		var req struct {
			EventData []struct {
				ActualValue string `json:"actualValue"`
				TechCode    string `json:"techCode"`
				TechInfo    string `json:"techInfo"`
				Component   struct {
					Name string `json:"name"`
					Evse *struct {
						ID int `json:"id"`
					} `json:"evse"`
				} `json:"component"`
				Variable struct {
					Name string `json:"name"`
				} `json:"variable"`
			} `json:"eventData"`
		}
		if err := json.Unmarshal(ev.Payload, &req); err != nil {
			t.Fatalf("stored NotifyEvent %s: %v", ev.Payload, err)
		}
		for i := len(req.EventData) - 1; i >= 0; i-- {
			d := req.EventData[i]
			if d.Variable.Name != "Problem" {
				continue
			}
			r := problemReport{component: d.Component.Name, techCode: d.TechCode, raised: d.ActualValue == "true", techInfo: d.TechInfo}
			if d.Component.Evse != nil {
				r.evse = d.Component.Evse.ID
			}
			out = append(out, r)
		}
	}
	return out
}

// problemEvidence reports whether the central system holds a 2.0.1
// charger's evidence of error code ec on connector 1: its newest report
// raises ec (on the TokenReader for ReaderFailure); for NoError, every
// problem ever raised there has been cleared since.
func (e *faultEnv) problemEvidence(t *testing.T, ec string) bool {
	t.Helper()
	newest := map[string]bool{} // component/techCode → raised
	for _, r := range e.problemReports(t) {
		if r.component == "Connector" && r.evse != 1 {
			continue
		}
		k := r.component + "/" + r.techCode
		if _, seen := newest[k]; !seen {
			newest[k] = r.raised
		}
	}
	if ec == "NoError" {
		for _, raised := range newest {
			if raised {
				return false
			}
		}
		return true
	}
	comp := "Connector"
	if ec == "ReaderFailure" {
		comp = "TokenReader"
	}
	return newest[comp+"/"+ec]
}

// waitOnline waits until the central system holds the charger's socket
// and has stored it connected.
func (e *faultEnv) waitOnline(t *testing.T) {
	t.Helper()
	poll(e.ctx, t, "charger online in the CSMS", func() (bool, bool) { return true, e.st.srv.Connected(e.id) })
	e.waitCharger(t, "connected", func(ch *chargedesk.Charger) bool { return ch.Connected })
}

// txs lists the charger's stored transactions, newest first.
func (e *faultEnv) txs(t *testing.T, activeOnly bool) []*chargedesk.Transaction {
	t.Helper()
	txs, err := e.st.store.Transactions(e.ctx, chargedesk.TransactionFilter{ChargerID: e.id, ActiveOnly: activeOnly})
	if err != nil {
		t.Fatal(err)
	}
	return txs
}

// waitTx waits for a stored transaction of the charger satisfying cond.
func (e *faultEnv) waitTx(t *testing.T, what string, cond func(*chargedesk.Transaction) bool) *chargedesk.Transaction {
	t.Helper()
	return poll(e.ctx, t, "stored transaction: "+what, func() (*chargedesk.Transaction, bool) {
		for _, tx := range e.txs(t, false) {
			if cond(tx) {
				return tx, true
			}
		}
		return nil, false
	})
}

// waitActiveTx waits for an active transaction of idTag on connector 1.
func (e *faultEnv) waitActiveTx(t *testing.T, idTag string) *chargedesk.Transaction {
	t.Helper()
	return e.waitTx(t, "active for "+idTag, func(tx *chargedesk.Transaction) bool {
		return tx.Active() && tx.IDTag == idTag && tx.ConnectorID == 1
	})
}

// waitStopped waits until transaction id is stored as ended.
func (e *faultEnv) waitStopped(t *testing.T, id string) *chargedesk.Transaction {
	t.Helper()
	return e.waitTx(t, id+" stopped", func(tx *chargedesk.Transaction) bool { return tx.ID == id && !tx.Active() })
}

// noNewTx fails if, within d, the charger or the central system shows a
// transaction beyond the want already stored.
//
// This is bounded evidence, not proof: a negative cannot be observed to
// completion. It is sound here because nothing in the simulator delays a
// start by a timer: a tap starts before TapCard returns, and a remote
// start's follow-up runs as soon as the answer is written (an Authorize
// at most, then the start), and the charger counts TransactionsStarted
// in the step that starts, before any message is sent. d covers that
// loopback follow-up many times over; the positive checks after each fix
// show the same path does start once the fault is gone.
func (e *faultEnv) noNewTx(t *testing.T, d time.Duration, want int) {
	t.Helper()
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if n := len(e.txs(t, false)); n != want {
			t.Fatalf("%d transactions stored, want %d", n, want)
		}
		if s := e.c.State(); s.Counters.TransactionsStarted > want {
			t.Fatalf("the charger started %d transactions, want %d", s.Counters.TransactionsStarted, want)
		}
		select {
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}

// send sends cmd through the policy gateway as an operator would (the
// agent's own, stricter rules are tested with the agent) and checks the
// audit trail it leaves: a decision, and an outcome with the
// result's status unless the policy refused.
func (e *faultEnv) send(t *testing.T, cmd chargedesk.Command) chargedesk.Result {
	t.Helper()
	cmd.ChargerID = e.id
	cmd.Actor, cmd.Reason = "operator:fault-test", "fault test"
	if cmd.Timeout == 0 {
		cmd.Timeout = 5 * time.Second
	}
	res, err := e.st.gw.Send(e.ctx, cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Kind, err)
	}
	entries, err := e.st.store.AuditEntries(e.ctx, chargedesk.AuditFilter{CommandID: res.CommandID})
	if err != nil {
		t.Fatal(err)
	}
	refused := res.Status == chargedesk.ResultRefused
	switch {
	case refused && len(entries) != 1, !refused && len(entries) != 2:
		t.Fatalf("%s %s: %d audit entries", cmd.Kind, res.Status, len(entries))
	case entries[0].Stage != chargedesk.AuditDecision || entries[0].Allowed == refused || entries[0].ChargerID != e.id:
		t.Errorf("%s: decision entry %+v", cmd.Kind, entries[0])
	case refused && entries[0].Outcome != string(chargedesk.ResultRefused):
		t.Errorf("%s: refused decision has outcome %q", cmd.Kind, entries[0].Outcome)
	case !refused && (entries[1].Stage != chargedesk.AuditOutcome || entries[1].Outcome != string(res.Status)):
		t.Errorf("%s: outcome entry %+v, result %s", cmd.Kind, entries[1], res.Status)
	}
	return res
}

// want sends cmd and fails unless the result has status st.
func (e *faultEnv) want(t *testing.T, cmd chargedesk.Command, st chargedesk.ResultStatus) chargedesk.Result {
	t.Helper()
	res := e.send(t, cmd)
	if res.Status != st {
		t.Fatalf("%s: %s (%s), want %s", cmd.Kind, res.Status, res.Detail, st)
	}
	return res
}

// refusedUnsent sends cmd and fails unless the policy refused it (for a
// reason containing why) and the charger received nothing.
func (e *faultEnv) refusedUnsent(t *testing.T, cmd chargedesk.Command, why string) {
	t.Helper()
	calls := e.c.State().Counters.CallsReceived
	res := e.want(t, cmd, chargedesk.ResultRefused)
	if !strings.Contains(res.Detail, why) {
		t.Errorf("%s refused for %q, want a reason with %q", cmd.Kind, res.Detail, why)
	}
	if n := e.c.State().Counters.CallsReceived; n != calls {
		t.Errorf("the charger received %d CALLs for a refused %s", n-calls, cmd.Kind)
	}
}

// direct sends cmd to the central system past the policy, to show what the
// charger itself does with a command the policy would refuse.
func (e *faultEnv) direct(t *testing.T, cmd chargedesk.Command, st chargedesk.ResultStatus) {
	t.Helper()
	cmd.ChargerID, cmd.Timeout = e.id, 5*time.Second
	res, err := e.st.srv.Send(e.ctx, cmd)
	if err != nil || res.Status != st {
		t.Fatalf("%s sent directly: %+v %v, want %s", cmd.Kind, res, err, st)
	}
}

func remoteStart(idTag string) chargedesk.Command {
	return chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ConnectorID: 1, IDTag: idTag}
}

func remoteStop(txID string) chargedesk.Command {
	return chargedesk.Command{Kind: chargedesk.CmdRemoteStop, TransactionID: txID}
}

func unlock() chargedesk.Command {
	return chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ConnectorID: 1}
}

func trigger(msg string) chargedesk.Command {
	return chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ConnectorID: 1, Trigger: msg}
}

func softReset() chargedesk.Command {
	return chargedesk.Command{Kind: chargedesk.CmdReset, ResetType: chargedesk.ResetSoft}
}

// reset sends a soft reset, waits for the charger to boot again and
// returns when the central system stored that boot.
func (e *faultEnv) reset(t *testing.T) time.Time {
	t.Helper()
	boots := e.c.State().Counters.Boots
	prev := e.charger(t).LastBootAt
	answers := len(e.frames.answered("Reset"))
	res := e.send(t, softReset())
	if res.Status == chargedesk.ResultChargerOffline {
		// Known csms bug (see the report): when the charger closes its
		// socket right after answering, conn.call may pick the closed
		// connection over the answer already delivered. Tolerated only
		// when the charger did answer Accepted.
		got := e.frames.answered("Reset")
		if len(got) <= answers || !strings.Contains(string(got[len(got)-1]), `"Accepted"`) {
			t.Fatalf("Reset: ChargerOffline and the charger did not answer Accepted (%s)", got)
		}
		t.Logf("csms reported ChargerOffline for a Reset the charger answered %s", got[len(got)-1])
	} else if res.Status != chargedesk.ResultAccepted {
		t.Fatalf("Reset: %s (%s), want Accepted", res.Status, res.Detail)
	}
	waitState(e.ctx, t, e.c, "reboot", func(s Snapshot) bool { return s.Counters.Boots > boots && s.Connected })
	ch := e.waitCharger(t, "boot after reset", func(ch *chargedesk.Charger) bool { return ch.LastBootAt.After(prev) })
	e.waitOnline(t)
	return ch.LastBootAt
}

// statusAfter waits for connector 1's first status stored at or after t0
// (a boot) and returns it.
func (e *faultEnv) statusAfter(t *testing.T, t0 time.Time) chargedesk.Connector {
	t.Helper()
	return e.waitConnector(t, 1, "status after "+t0.String(), func(k chargedesk.Connector) bool { return !k.UpdatedAt.Before(t0) })
}

func (e *faultEnv) inject(t *testing.T, f Fault, opts FaultOptions) {
	t.Helper()
	if err := e.c.InjectFault(e.ctx, 1, f, opts); err != nil {
		t.Fatalf("inject %s: %v", f, err)
	}
}

// listed reports whether the charger's snapshot lists fault f.
func listed(s Snapshot, f Fault) bool {
	return slices.ContainsFunc(s.Faults, func(a ActiveFault) bool { return a.Name == f })
}

// fixed fails unless the charger listed f before the fix and stops
// listing it once fixed.
func (e *faultEnv) fixed(t *testing.T, f Fault, wasListed bool) {
	t.Helper()
	if !wasListed {
		t.Errorf("%s was not listed before the fix", f)
	}
	waitState(e.ctx, t, e.c, string(f)+" no longer listed", func(s Snapshot) bool { return !listed(s, f) })
}

func (e *faultEnv) plugIn(t *testing.T) {
	t.Helper()
	if err := e.c.PlugIn(e.ctx, 1); err != nil {
		t.Fatal(err)
	}
}

// tap presents idTag and fails unless the charger reports status st.
func (e *faultEnv) tap(t *testing.T, idTag, st string) {
	t.Helper()
	got, err := e.c.TapCard(e.ctx, 1, idTag)
	if err != nil || got != st {
		t.Fatalf("tap %s: %q %v, want %q", idTag, got, err, st)
	}
}

// power returns the newest stored Power.Active.Import sample of a
// transaction, in W, once there is one.
func (e *faultEnv) power(t *testing.T, txID string) float64 {
	t.Helper()
	return poll(e.ctx, t, "stored power sample", func() (float64, bool) {
		ms, err := e.st.store.MeterValues(e.ctx, e.id, txID, 100)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(ms) - 1; i >= 0; i-- {
			if ms[i].Measurand == "Power.Active.Import" {
				return ms[i].Value, true
			}
		}
		return 0, false
	})
}

// startWindow bounds noNewTx's watch for a transaction that must not
// start (see noNewTx for why a bound is enough).
const startWindow = 300 * time.Millisecond

func TestFaults(t *testing.T) {
	st := newStack(t)
	occupied := func(p chargedesk.Protocol, s16 chargedesk.ConnectorStatus) chargedesk.ConnectorStatus {
		return by(p, s16, chargedesk.StatusOccupied)
	}
	tests := []struct {
		fault Fault
		run   func(t *testing.T, e *faultEnv)
	}{
		{FaultStaleTransaction, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultStaleTransaction, FaultOptions{IDTag: e.other, Age: 20 * time.Minute})
			stale := e.waitActiveTx(t, e.other)
			k := e.waitStatus(t, occupied(e.p, chargedesk.StatusFinishing), "")
			// Forgotten twenty minutes ago: started then, no energy since,
			// and the status it shows dates from then.
			if ago := time.Since(stale.StartedAt); ago < 19*time.Minute || ago > 21*time.Minute {
				t.Errorf("stale transaction started %s ago, want 20 min", ago)
			}
			if !stale.EnergyAt.Equal(stale.StartedAt) {
				t.Errorf("stale transaction energy rose at %v, started %v", stale.EnergyAt, stale.StartedAt)
			}
			if ago := time.Since(k.StatusAt); ago < 19*time.Minute {
				t.Errorf("status reported as of %s ago, want 20 min", ago)
			}
			// The stale transaction holds the old driver's card elsewhere.
			e2 := newFaultEnv(t, e.st, e.p, e.id+"-B", nil)
			e2.tap(t, e.other, AuthConcurrentTx)
			// Not fixed by: a remote start (Rejected), the driver's tap
			// (authorized, but nothing starts).
			e.plugIn(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultRejected)
			e.tap(t, e.drv, AuthAccepted)
			e.noNewTx(t, startWindow, 1)
			// Fixed by: ending the stale transaction, then a remote start.
			was := listed(e.c.State(), FaultStaleTransaction)
			e.want(t, remoteStop(stale.ID), chargedesk.ResultAccepted)
			if tx := e.waitStopped(t, stale.ID); tx.StopReason != "Remote" {
				t.Errorf("stale transaction stop reason %q", tx.StopReason)
			}
			e.fixed(t, FaultStaleTransaction, was)
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			if tx := e.waitActiveTx(t, e.drv); tx.ID == stale.ID || tx.AuthStatus != chargedesk.AuthAccepted {
				t.Errorf("new transaction %+v", tx)
			}
			e.waitStatus(t, occupied(e.p, chargedesk.StatusCharging), "")
		}},
		{FaultControllerHung, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultControllerHung, FaultOptions{})
			e.waitStatus(t, occupied(e.p, chargedesk.StatusPreparing), "")
			// Not fixed by: a local start, a remote start, a status trigger.
			e.tap(t, e.drv, AuthAccepted)
			e.want(t, remoteStart(e.drv), chargedesk.ResultRejected)
			at := time.Now()
			e.want(t, trigger("StatusNotification"), chargedesk.ResultAccepted)
			if k := e.waitConnector(t, 1, "triggered status", func(k chargedesk.Connector) bool { return k.UpdatedAt.After(at) }); k.Status != occupied(e.p, chargedesk.StatusPreparing) {
				t.Errorf("triggered status %s", k.Status)
			}
			e.noNewTx(t, startWindow, 0)
			// Fixed by: a soft reset, then a remote start.
			boot := e.reset(t)
			if k := e.statusAfter(t, boot); k.Status != chargedesk.StatusAvailable {
				t.Errorf("status after reboot %s, want Available", k.Status)
			}
			e.plugIn(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.waitActiveTx(t, e.drv)
			e.waitStatus(t, occupied(e.p, chargedesk.StatusCharging), "")
		}},
		{FaultHandshakeTimeout, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultHandshakeTimeout, FaultOptions{})
			e.plugIn(t)
			if _, err := e.c.TapCard(e.ctx, 1, e.drv); !errors.Is(err, ErrHandshake) {
				t.Fatalf("first start: %v, want ErrHandshake", err)
			}
			e.waitStatus(t, occupied(e.p, chargedesk.StatusPreparing), "EVCommunicationError")
			// Not fixed by: a remote start before the cable is re-seated
			// (Accepted, but the handshake fails again).
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.noNewTx(t, startWindow, 0)
			// Fixed by: the driver re-seats the plug, then a remote start.
			if err := e.c.Unplug(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(t, chargedesk.StatusAvailable, "NoError")
			e.plugIn(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.waitActiveTx(t, e.drv)
			e.waitStatus(t, occupied(e.p, chargedesk.StatusCharging), "NoError")
		}},
		{FaultVehicleSchedule, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultVehicleSchedule, FaultOptions{})
			e.plugIn(t)
			e.tap(t, e.drv, AuthAccepted)
			tx := e.waitActiveTx(t, e.drv)
			// The vehicle refuses energy: SuspendedEV, no power.
			if e.p == chargedesk.OCPP16 {
				e.waitStatus(t, chargedesk.StatusSuspendedEV, "NoError")
				e.want(t, trigger("MeterValues"), chargedesk.ResultAccepted)
			} else if tx.ChargingState != "SuspendedEV" {
				t.Errorf("2.0.1 chargingState %q, want SuspendedEV", tx.ChargingState)
			}
			if w := e.power(t, tx.ID); w != 0 {
				t.Errorf("power %v W while the vehicle refuses energy", w)
			}
			// Fixed by: the driver disables the schedule in the car.
			if err := e.c.ClearFault(e.ctx, 1, FaultVehicleSchedule); err != nil {
				t.Fatal(err)
			}
			if e.p == chargedesk.OCPP16 {
				e.waitStatus(t, chargedesk.StatusCharging, "NoError")
			} else {
				e.waitTx(t, "charging", func(x *chargedesk.Transaction) bool { return x.ID == tx.ID && x.ChargingState == "Charging" })
			}
		}},
		{FaultRemoteStartIgnored, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultRemoteStartIgnored, FaultOptions{})
			e.plugIn(t)
			// Not fixed by: the Accepted alone, or retrying it.
			for range 2 {
				e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
				e.noNewTx(t, startWindow, 0)
			}
			// Fixed by: a soft reset, then one more remote start.
			e.reset(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.waitActiveTx(t, e.drv)
		}},
		{FaultHardwareFaultPower, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultHardwareFaultPower, FaultOptions{})
			k := e.waitStatus(t, chargedesk.StatusFaulted, "InternalError")
			if e.p == chargedesk.OCPP16 && k.VendorErrorCode == "" {
				t.Errorf("no vendor error code stored: %+v", k)
			}
			if e.p == chargedesk.OCPP201 {
				if r := e.problemReports(t); len(r) == 0 || !strings.Contains(r[0].techInfo, "PWR-MOD-07") {
					t.Errorf("no vendor error code in the NotifyEvent: %+v", r)
				}
			}
			// Not fixed by: a soft reset, then a remote start.
			boot := e.reset(t)
			if k := e.statusAfter(t, boot); k.Status != chargedesk.StatusFaulted {
				t.Errorf("status after reboot %s, want Faulted", k.Status)
			}
			e.plugIn(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultRejected)
			e.noNewTx(t, startWindow, 0)
		}},
		{FaultStaleStatus, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultStaleStatus, FaultOptions{})
			e.waitStatus(t, chargedesk.StatusUnavailable, "")
			if s := e.c.State().Connector(1).Status; s != chargedesk.StatusAvailable {
				t.Errorf("charger's own status %s", s)
			}
			// Not fixed by: a heartbeat trigger.
			e.want(t, trigger("Heartbeat"), chargedesk.ResultAccepted)
			e.waitCharger(t, "heartbeat", func(ch *chargedesk.Charger) bool { return !ch.LastHeartbeatAt.IsZero() })
			if k := e.charger(t).Connector(1); k.Status != chargedesk.StatusUnavailable {
				t.Errorf("status after a heartbeat %s", k.Status)
			}
			// Fixed by: TriggerMessage StatusNotification.
			e.want(t, trigger("StatusNotification"), chargedesk.ResultAccepted)
			e.waitStatus(t, chargedesk.StatusAvailable, "NoError")
			e.plugIn(t)
			e.tap(t, e.drv, AuthAccepted)
			e.waitActiveTx(t, e.drv)
		}},
		{FaultCommDropShort, func(t *testing.T, e *faultEnv) {
			first := e.charger(t).ConnectedAt
			e.inject(t, FaultCommDropShort, FaultOptions{})
			// During the drop: stored disconnected, commands offline.
			e.waitCharger(t, "disconnected", func(ch *chargedesk.Charger) bool { return !ch.Connected })
			e.want(t, trigger("StatusNotification"), chargedesk.ResultChargerOffline)
			// It comes back by itself; then a remote start works.
			ch := e.waitCharger(t, "reconnected", func(ch *chargedesk.Charger) bool { return ch.Connected && ch.ConnectedAt.After(first) })
			if ch.DisconnectedAt.Before(first) || ch.DisconnectedAt.After(ch.ConnectedAt) {
				t.Errorf("disconnectedAt %v, connectedAt %v then %v", ch.DisconnectedAt, first, ch.ConnectedAt)
			}
			e.waitOnline(t)
			e.fixed(t, FaultCommDropShort, true)
			e.plugIn(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.waitActiveTx(t, e.drv)
		}},
		{FaultCommDropLong, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultCommDropLong, FaultOptions{})
			ch := e.waitCharger(t, "disconnected", func(ch *chargedesk.Charger) bool { return !ch.Connected })
			if ch.DisconnectedAt.IsZero() || ch.DisconnectedAt.Before(ch.ConnectedAt) {
				t.Errorf("time of last contact: disconnectedAt %v, connectedAt %v", ch.DisconnectedAt, ch.ConnectedAt)
			}
			// No command succeeds.
			for _, cmd := range []chargedesk.Command{
				remoteStart(e.drv), softReset(), unlock(), trigger("StatusNotification"),
				{Kind: chargedesk.CmdChangeAvailability, ConnectorID: 1, Availability: chargedesk.AvailabilityOperative},
			} {
				e.want(t, cmd, chargedesk.ResultChargerOffline)
			}
			if e.st.srv.Connected(e.id) || e.c.State().Connected {
				t.Error("connected during the outage")
			}
			// Power or modem back (a technician): the charger reconnects.
			if err := e.c.ClearFault(e.ctx, 0, FaultCommDropLong); err != nil {
				t.Fatal(err)
			}
			e.waitOnline(t)
		}},
		{FaultLeftInoperative, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultLeftInoperative, FaultOptions{})
			e.waitStatus(t, chargedesk.StatusUnavailable, "")
			// Not fixed by: a soft reset (availability persists), a remote start.
			boot := e.reset(t)
			if k := e.statusAfter(t, boot); k.Status != chargedesk.StatusUnavailable {
				t.Errorf("status after reboot %s, want Unavailable", k.Status)
			}
			e.plugIn(t)
			e.want(t, remoteStart(e.drv), chargedesk.ResultRejected)
			// Fixed by: ChangeAvailability Operative.
			e.want(t, chargedesk.Command{Kind: chargedesk.CmdChangeAvailability, ConnectorID: 1, Availability: chargedesk.AvailabilityOperative}, chargedesk.ResultAccepted)
			e.waitStatus(t, occupied(e.p, chargedesk.StatusPreparing), "NoError")
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.waitActiveTx(t, e.drv)
		}},
		{FaultLockAfterSession, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultLockAfterSession, FaultOptions{})
			e.plugIn(t)
			e.tap(t, e.drv, AuthAccepted)
			tx := e.waitActiveTx(t, e.drv)
			if err := e.c.StopLocal(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			e.waitStopped(t, tx.ID)
			e.waitStatus(t, occupied(e.p, chargedesk.StatusFinishing), "ConnectorLockFailure")
			if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrCableLocked) {
				t.Fatalf("unplug after the session: %v, want ErrCableLocked", err)
			}
			// Fixed by: UnlockConnector.
			e.want(t, unlock(), chargedesk.ResultUnlocked)
			e.waitStatus(t, occupied(e.p, chargedesk.StatusFinishing), "NoError")
			if err := e.c.Unplug(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(t, chargedesk.StatusAvailable, "NoError")
		}},
		{FaultOwnSessionRunning, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultOwnSessionRunning, FaultOptions{IDTag: e.drv})
			// The active transaction is the caller's own.
			tx := e.waitActiveTx(t, e.drv)
			// Not allowed: an unlock under the running session; the policy
			// refuses it and nothing reaches the charger.
			e.refusedUnsent(t, unlock(), "stop it first")
			// Fixed by: stop the session, then unlock.
			was := listed(e.c.State(), FaultOwnSessionRunning)
			e.want(t, remoteStop(tx.ID), chargedesk.ResultAccepted)
			if got := e.waitStopped(t, tx.ID); got.StopReason != "Remote" {
				t.Errorf("stop reason %q, want Remote", got.StopReason)
			}
			e.fixed(t, FaultOwnSessionRunning, was)
			e.want(t, unlock(), chargedesk.ResultUnlocked)
			e.waitStatus(t, occupied(e.p, chargedesk.StatusFinishing), "NoError")

			// What the charger itself does with an unlock during a session
			// (sent past the policy): 1.6 ends the transaction first, 2.0.1
			// answers OngoingAuthorizedTransaction and keeps it.
			e.tap(t, e.drv, AuthAccepted)
			tx2 := e.waitTx(t, "second session", func(x *chargedesk.Transaction) bool { return x.Active() && x.ID != tx.ID })
			if e.p == chargedesk.OCPP16 {
				e.direct(t, unlock(), chargedesk.ResultUnlocked)
				if got := e.waitStopped(t, tx2.ID); got.StopReason != "UnlockCommand" {
					t.Errorf("stop reason %q, want UnlockCommand", got.StopReason)
				}
			} else {
				e.direct(t, unlock(), chargedesk.ResultOngoingAuthorizedTransaction)
				if got := e.txs(t, true); len(got) != 1 || got[0].ID != tx2.ID {
					t.Fatalf("active transactions after a refused unlock: %+v", got)
				}
				e.want(t, remoteStop(tx2.ID), chargedesk.ResultAccepted)
				e.waitStopped(t, tx2.ID)
				e.want(t, unlock(), chargedesk.ResultUnlocked)
			}
			if err := e.c.Unplug(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(t, chargedesk.StatusAvailable, "NoError")
		}},
		{FaultSomeoneElsesSession, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultSomeoneElsesSession, FaultOptions{IDTag: e.other})
			// What lets a policy refuse a stop or an unlock for the caller:
			// the connector's only active transaction belongs to someone else.
			tx := e.waitActiveTx(t, e.other)
			if act := e.txs(t, true); len(act) != 1 || act[0].IDTag == e.drv {
				t.Fatalf("active transactions %+v", act)
			}
			e.waitStatus(t, occupied(e.p, chargedesk.StatusCharging), "")
			// The caller can neither take the connector locally nor remotely.
			if _, err := e.c.TapCard(e.ctx, 1, e.drv); !errors.Is(err, ErrConnectorBusy) {
				t.Errorf("the caller's tap: %v, want ErrConnectorBusy", err)
			}
			e.want(t, remoteStart(e.drv), chargedesk.ResultRejected)
			// An unlock would cut that session: refused, nothing sent.
			e.refusedUnsent(t, unlock(), "stop it first")
			if got := e.txs(t, true); len(got) != 1 || got[0].ID != tx.ID || !got[0].Active() {
				t.Errorf("the other driver's session changed: %+v", got)
			}
			if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrCableLocked) {
				t.Errorf("unplug during the other session: %v", err)
			}
			// The other driver ends the session: the fault is over.
			was := listed(e.c.State(), FaultSomeoneElsesSession)
			if err := e.c.StopLocal(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			e.waitStopped(t, tx.ID)
			e.fixed(t, FaultSomeoneElsesSession, was)
		}},
		{FaultLockMechanical, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultLockMechanical, FaultOptions{})
			e.waitStatus(t, occupied(e.p, chargedesk.StatusFinishing), "")
			// Not fixed by: UnlockConnector, however often.
			for range 2 {
				e.want(t, unlock(), chargedesk.ResultUnlockFailed)
			}
			// 1.6 evidence for the field-service ticket.
			e.waitStatus(t, occupied(e.p, chargedesk.StatusFinishing), "ConnectorLockFailure")
			if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrCableLocked) {
				t.Errorf("unplug: %v, want ErrCableLocked", err)
			}
			audit, err := e.st.store.AuditEntries(e.ctx, chargedesk.AuditFilter{ChargerID: e.id})
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			for _, a := range audit {
				if a.Stage == chargedesk.AuditOutcome && a.Outcome == string(chargedesk.ResultUnlockFailed) {
					failed++
				}
			}
			if failed != 2 {
				t.Errorf("%d UnlockFailed outcomes audited, want 2", failed)
			}
		}},
		{FaultVehicleSideLock, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultVehicleSideLock, FaultOptions{})
			e.waitStatus(t, occupied(e.p, chargedesk.StatusFinishing), "")
			// Not fixed by: UnlockConnector (Unlocked, but the car holds
			// the plug), however often.
			for range 2 {
				e.want(t, unlock(), chargedesk.ResultUnlocked)
				if err := e.c.Unplug(e.ctx, 1); !errors.Is(err, ErrVehicleLock) {
					t.Fatalf("unplug: %v, want ErrVehicleLock", err)
				}
			}
			if k := e.charger(t).Connector(1); k.Status != occupied(e.p, chargedesk.StatusFinishing) {
				t.Errorf("status %s with the cable still in", k.Status)
			}
			// Fixed by: the driver releases it from the car.
			was := listed(e.c.State(), FaultVehicleSideLock)
			if err := e.c.ReleaseVehicleLock(1); err != nil {
				t.Fatal(err)
			}
			if err := e.c.Unplug(e.ctx, 1); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(t, chargedesk.StatusAvailable, "NoError")
			e.fixed(t, FaultVehicleSideLock, was)
		}},
		{FaultLocalListStale, func(t *testing.T, e *faultEnv) {
			testLocalListStale(t, e, false)
		}},
		{FaultLocalListStale + "/cache", func(t *testing.T, e *faultEnv) {
			testLocalListStale(t, e, true)
		}},
		{FaultReaderFault, func(t *testing.T, e *faultEnv) {
			if err := e.c.InjectFault(e.ctx, 0, FaultReaderFault, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(t, chargedesk.StatusAvailable, "ReaderFailure")
			e.plugIn(t)
			if _, err := e.c.TapCard(e.ctx, 1, e.drv); !errors.Is(err, ErrReaderFault) {
				t.Fatalf("tap: %v, want ErrReaderFault", err)
			}
			if n := e.frames.count("Authorize"); n != 0 {
				t.Errorf("%d Authorize sent with a broken reader", n)
			}
			// Fixed (for the driver) by: a remote start for the account.
			e.want(t, remoteStart(e.drv), chargedesk.ResultAccepted)
			e.waitActiveTx(t, e.drv)
		}},
		{FaultSlowCharging, func(t *testing.T, e *faultEnv) {
			e.inject(t, FaultSlowCharging, FaultOptions{})
			e.plugIn(t)
			e.tap(t, e.drv, AuthAccepted)
			tx := e.waitActiveTx(t, e.drv)
			if e.p == chargedesk.OCPP16 {
				e.want(t, trigger("MeterValues"), chargedesk.ResultAccepted)
			}
			rating := e.c.State().Connector(1).MaxPowerKW * 1000
			if w := e.power(t, tx.ID); w <= 0 || w > 0.2*rating {
				t.Errorf("stored power %v W of a %v W rating", w, rating)
			}
			e.waitStatus(t, occupied(e.p, chargedesk.StatusCharging), "NoError")
		}},
	}
	t.Run("all", func(t *testing.T) {
		for _, p := range protocols {
			for _, tt := range tests {
				t.Run(string(p)+"/"+string(tt.fault), func(t *testing.T) {
					t.Parallel()
					id := by(p, "F16-", "F201-") + strings.ReplaceAll(string(tt.fault), "/", "-")
					tt.run(t, newFaultEnv(t, st, p, id, nil))
				})
			}
		}
	})
	// Every command above left an intact audit chain.
	if err := st.store.VerifyAudit(testCtx(t)); err != nil {
		t.Error(err)
	}
}

// testLocalListStale: the backend accepts the token but the charger's local
// list (or cache) holds it invalid, so the charger rejects it without
// asking. Not fixed by: tapping again, or pushing a list entry the backend
// does not hold (refused by the policy). Fixed by: SendLocalList
// Differential (or ClearCache), then a tap.
func testLocalListStale(t *testing.T, e *faultEnv, inCache bool) {
	e.inject(t, FaultLocalListStale, FaultOptions{IDTag: e.drv, InCache: inCache})
	e.plugIn(t)
	for range 2 {
		e.tap(t, e.drv, AuthInvalid)
	}
	if n := e.frames.count("Authorize"); n != 0 {
		t.Errorf("%d Authorize sent with a stale list", n)
	}
	e.noNewTx(t, 0, 0)
	e.refusedUnsent(t, chargedesk.Command{Kind: chargedesk.CmdSendLocalList, UpdateType: chargedesk.UpdateDifferential, ListVersion: 1,
		LocalList: []chargedesk.LocalListEntry{{IDTag: e.drv, Status: chargedesk.AuthAccepted}, {IDTag: "NEVER-ISSUED", Status: chargedesk.AuthAccepted}}},
		"NEVER-ISSUED is unknown")
	was := listed(e.c.State(), FaultLocalListStale)
	if inCache {
		e.want(t, chargedesk.Command{Kind: chargedesk.CmdClearCache}, chargedesk.ResultAccepted)
	} else {
		e.want(t, chargedesk.Command{Kind: chargedesk.CmdSendLocalList, UpdateType: chargedesk.UpdateDifferential, ListVersion: 1,
			LocalList: []chargedesk.LocalListEntry{{IDTag: e.drv, Status: chargedesk.AuthAccepted}}}, chargedesk.ResultAccepted)
	}
	e.fixed(t, FaultLocalListStale, was)
	e.tap(t, e.drv, AuthAccepted)
	e.waitActiveTx(t, e.drv)
}

// TestBackendFaults injects the token faults into the central system's
// store: the charger behaves normally and gets the backend's verdict.
func TestBackendFaults(t *testing.T) {
	st := newStack(t)
	tests := []struct {
		fault      Fault
		tap16      string
		tap201     string
		refusedFor string
	}{
		{FaultTokenBlocked, AuthBlocked, AuthBlocked, "Blocked"},
		{FaultTokenExpired, AuthExpired, AuthExpired, "Expired"},
		{FaultTokenUnknown, AuthInvalid, "Unknown", "unknown"},
	}
	for _, p := range protocols {
		for _, tt := range tests {
			t.Run(string(p)+"/"+string(tt.fault), func(t *testing.T) {
				t.Parallel()
				e := newFaultEnv(t, st, p, by(p, "B16-", "B201-")+string(tt.fault), nil)
				before, err := st.store.Token(e.ctx, e.drv)
				if err != nil {
					t.Fatal(err)
				}
				restore, err := InjectBackendFault(e.ctx, st.store, time.Now(), e.drv, tt.fault)
				if err != nil {
					t.Fatal(err)
				}
				e.plugIn(t)
				// The card is refused and nothing starts.
				e.tap(t, e.drv, by(p, tt.tap16, tt.tap201))
				e.noNewTx(t, startWindow, 0)
				// A remote start with it is refused by the policy; nothing
				// reaches the charger.
				e.refusedUnsent(t, remoteStart(e.drv), "token "+e.drv+" is "+tt.refusedFor)
				// After restore the token is as it was and a tap charges.
				if err := restore(e.ctx); err != nil {
					t.Fatal(err)
				}
				after, err := st.store.Token(e.ctx, e.drv)
				if err != nil {
					t.Fatal(err)
				}
				if after.Status != before.Status || !after.ExpiresAt.Equal(before.ExpiresAt) || !after.CreatedAt.Equal(before.CreatedAt) {
					t.Errorf("restored token %+v, was %+v", after, before)
				}
				e.tap(t, e.drv, AuthAccepted)
				if tx := e.waitActiveTx(t, e.drv); tx.AuthStatus != chargedesk.AuthAccepted {
					t.Errorf("transaction verdict %s", tx.AuthStatus)
				}
			})
		}
	}
}

func TestInjectBackendFaultErrors(t *testing.T) {
	ctx := testCtx(t)
	_, store, _ := realCSMS(t)
	if err := store.PutToken(ctx, &chargedesk.Token{IDTag: "CARD-1", Status: chargedesk.AuthAccepted}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		fault Fault
		tag   string
		code  string
	}{
		{"card_expired", FaultCardExpired, "CARD-1", chargedesk.ENOTIMPLEMENTED},
		{"transient_decline", FaultTransientDecline, "CARD-1", chargedesk.ENOTIMPLEMENTED},
		{"app_sync_delay", FaultAppSyncDelay, "CARD-1", chargedesk.ENOTIMPLEMENTED},
		{"duplicate_holds", FaultDuplicateHolds, "CARD-1", chargedesk.ENOTIMPLEMENTED},
		{"hard_decline", FaultHardDecline, "CARD-1", chargedesk.ENOTIMPLEMENTED},
		{"charger fault", FaultControllerHung, "CARD-1", chargedesk.EINVALID},
		{"unknown fault", "no_such_fault", "CARD-1", chargedesk.EINVALID},
		{"token not stored", FaultTokenBlocked, "NO-CARD", chargedesk.ENOTFOUND},
		{"token already unknown", FaultTokenUnknown, "NO-CARD", chargedesk.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			restore, err := InjectBackendFault(ctx, store, time.Now(), tt.tag, tt.fault)
			if got := chargedesk.ErrorCode(err); got != tt.code || restore != nil {
				t.Fatalf("got %v (code %q), restore set %v; want code %q", err, got, restore != nil, tt.code)
			}
		})
	}
	if tok, err := store.Token(ctx, "CARD-1"); err != nil || tok.Verdict(time.Now()) != chargedesk.AuthAccepted {
		t.Errorf("a failed injection changed the token: %+v %v", tok, err)
	}
	for _, f := range BackendFaults() {
		if IsChargerFault(f) {
			t.Errorf("%s is both a backend and a charger fault", f)
		}
	}
}

func TestAccountFaultsAreNotChargerFaults(t *testing.T) {
	c := NewCharger(ChargerConfig{ID: "CP-X", Validator: testValidator})
	for _, f := range BackendFaults() {
		t.Run(string(f), func(t *testing.T) {
			if err := c.InjectFault(context.Background(), 1, f, FaultOptions{}); !errors.Is(err, ErrNotChargerFault) {
				t.Errorf("got %v, want ErrNotChargerFault", err)
			}
		})
	}
	if err := c.InjectFault(context.Background(), 1, "no_such_fault", FaultOptions{}); err == nil {
		t.Error("unknown fault accepted")
	}
	if n := len(ChargerFaults()) + len(BackendFaults()); n != 26 {
		t.Errorf("%d faults, the catalogue has 26", n)
	}
	if !slices.Contains(BackendFaults(), FaultTokenUnknown) {
		t.Error("token_unknown is not a backend fault")
	}
}

func TestFaultInjectedBeforeRun(t *testing.T) {
	st := newStack(t)
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			id := by(p, "PRE16", "PRE201")
			if _, err := st.store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id,
				PasswordHash: chargedesk.HashPassword(simPassword), BootStatus: chargedesk.RegistrationAccepted}); err != nil {
				t.Fatal(err)
			}
			cfg := ChargerConfig{ID: id, Password: simPassword, Protocol: p, URL: st.url, Validator: testValidator,
				Connectors: []ConnectorSpec{{Type: CCS1, MaxPowerKW: 150}, {Type: NACS, MaxPowerKW: 150}}}
			c := NewCharger(cfg)
			if err := c.InjectFault(ctx, 2, FaultLeftInoperative, FaultOptions{}); err != nil {
				t.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = c.Run(runCtx) }()
			defer func() { cancel(); <-done }()
			ch := poll(ctx, t, "both connectors stored", func() (*chargedesk.Charger, bool) {
				ch, err := st.store.Charger(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return ch, ch.Connector(1) != nil && ch.Connector(2) != nil
			})
			if k1, k2 := ch.Connector(1), ch.Connector(2); k1.Status != chargedesk.StatusAvailable || k2.Status != chargedesk.StatusUnavailable {
				t.Errorf("stored statuses %s and %s, want Available and Unavailable", k1.Status, k2.Status)
			}
		})
	}
}
