package natsbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// commanderFunc is a chargedesk.Commander made of a function.
type commanderFunc func(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error)

func (f commanderFunc) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	return f(ctx, cmd)
}

var _ chargedesk.Commander = commanderFunc(nil)
var _ chargedesk.Commander = (*Bus)(nil)

// answer is a Commander that accepts every command and says who answered.
func answer(who string) commanderFunc {
	return func(_ context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
		return chargedesk.Result{Status: chargedesk.ResultAccepted, Detail: who + ":" + cmd.ChargerID}, nil
	}
}

// blocker is a Commander that blocks until released, or, if honourCtx, until
// its context is done.
type blocker struct {
	started   chan chargedesk.Command
	release   chan struct{}
	honourCtx bool
	once      sync.Once
}

func newBlocker(t *testing.T, honourCtx bool) *blocker {
	bl := &blocker{started: make(chan chargedesk.Command, 100), release: make(chan struct{}), honourCtx: honourCtx}
	t.Cleanup(bl.unblock) // runs before the buses' Close, registered earlier
	return bl
}

func (bl *blocker) unblock() { bl.once.Do(func() { close(bl.release) }) }

func (bl *blocker) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	bl.started <- cmd
	if bl.honourCtx {
		select {
		case <-ctx.Done():
			return chargedesk.Result{}, ctx.Err()
		case <-bl.release:
		}
	} else {
		<-bl.release
	}
	return chargedesk.Result{Status: chargedesk.ResultAccepted, Detail: "late"}, nil
}

func (bl *blocker) waitStarted(t *testing.T) chargedesk.Command {
	t.Helper()
	select {
	case cmd := <-bl.started:
		return cmd
	case <-time.After(10 * time.Second):
		t.Fatal("the commander was never called")
		return chargedesk.Command{}
	}
}

func serve(t *testing.T, b *Bus, chargerID string, c chargedesk.Commander) func() error {
	t.Helper()
	stop, err := b.ServeCharger(chargerID, c)
	if err != nil {
		t.Fatalf("ServeCharger(%q): %v", chargerID, err)
	}
	return stop
}

func clearCache(chargerID string) chargedesk.Command {
	return chargedesk.Command{ID: "cmd-" + chargerID, Kind: chargedesk.CmdClearCache, ChargerID: chargerID, Timeout: 10 * time.Second}
}

func TestSendRoundTrip(t *testing.T) {
	a, b := twoNodes(t, Config{}, Config{})
	ids := []string{"CP1", "site.7.cp", "cp_2", "cp-3"}
	var got sync.Map
	for _, id := range ids {
		serve(t, b, id, commanderFunc(func(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
			dl, ok := ctx.Deadline()
			if !ok || time.Until(dl) > cmd.Timeout {
				return chargedesk.Result{}, fmt.Errorf("context deadline %v, %v is not within the command's timeout %s", dl, ok, cmd.Timeout)
			}
			got.Store(cmd.ChargerID, cmd)
			return chargedesk.Result{Status: chargedesk.ResultUnlocked, Detail: "node-b:" + cmd.ChargerID, Protocol: chargedesk.Protocol("ocpp1.6"), Elapsed: 3 * time.Millisecond}, nil
		}))
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			cmd := chargedesk.Command{
				ID: "c-" + id, Kind: chargedesk.CmdUnlockConnector, ChargerID: id, ConnectorID: 2,
				Timeout: 20 * time.Second, Actor: "operator:ann", Reason: "stuck cable",
			}
			res, err := a.Send(t.Context(), cmd)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := chargedesk.Result{CommandID: "c-" + id, Status: chargedesk.ResultUnlocked, Detail: "node-b:" + id, Protocol: "ocpp1.6", Elapsed: 3 * time.Millisecond}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			seen, _ := got.Load(id)
			if diff := cmp.Diff(cmd, seen); diff != "" {
				t.Errorf("command as the charger's node saw it (-sent +seen):\n%s", diff)
			}
		})
	}
	t.Run("from the serving node itself", func(t *testing.T) {
		res, err := b.Send(t.Context(), clearCache("CP1"))
		if err != nil || res.Detail != "node-b:CP1" {
			t.Errorf("Send = %+v, %v", res, err)
		}
	})
	t.Run("default timeout filled", func(t *testing.T) {
		cmd := clearCache("cp-3")
		cmd.Timeout = 0
		if _, err := a.Send(t.Context(), cmd); err != nil {
			t.Fatal(err)
		}
		seen, _ := got.Load("cp-3")
		if to := seen.(chargedesk.Command).Timeout; to != chargedesk.DefaultCommandTimeout {
			t.Errorf("timeout at the charger's node = %s, want %s", to, chargedesk.DefaultCommandTimeout)
		}
	})
}

func TestSendOutcomes(t *testing.T) {
	a, b := twoNodes(t, Config{RequestMargin: 20 * time.Millisecond}, Config{MaxPending: 1})

	t.Run("invalid command", func(t *testing.T) {
		var called atomic.Bool
		serve(t, b, "CP-inv", commanderFunc(func(context.Context, chargedesk.Command) (chargedesk.Result, error) {
			called.Store(true)
			return chargedesk.Result{}, nil
		}))
		for name, cmd := range map[string]chargedesk.Command{
			"no kind":    {ChargerID: "CP-inv"},
			"bad id":     {Kind: chargedesk.CmdClearCache, ChargerID: "CP inv"},
			"no trigger": {Kind: chargedesk.CmdTriggerMessage, ChargerID: "CP-inv"},
		} {
			if _, err := a.Send(t.Context(), cmd); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Errorf("%s: Send = %v, want EINVALID", name, err)
			}
		}
		if called.Load() {
			t.Error("an invalid command reached the charger's node")
		}
	})

	t.Run("offline", func(t *testing.T) {
		// A long timeout: if "no responders" were not recognised the
		// answer would be Timeout, a minute later.
		cmd := clearCache("CP-nobody")
		cmd.Timeout = time.Minute
		res, err := a.Send(t.Context(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != chargedesk.ResultChargerOffline || res.CommandID != cmd.ID {
			t.Errorf("Send = %+v, want ChargerOffline for %s", res, cmd.ID)
		}
	})

	t.Run("offline after stop", func(t *testing.T) {
		stop := serve(t, b, "CP-stop", answer("b"))
		if res, err := a.Send(t.Context(), clearCache("CP-stop")); err != nil || res.Status != chargedesk.ResultAccepted {
			t.Fatalf("Send while served = %+v, %v", res, err)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if err := stop(); err != nil {
			t.Fatalf("second stop: %v", err)
		}
		if res, err := a.Send(t.Context(), clearCache("CP-stop")); err != nil || res.Status != chargedesk.ResultChargerOffline {
			t.Errorf("Send after stop = %+v, %v; want ChargerOffline", res, err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		bl := newBlocker(t, false)
		serve(t, b, "CP-slow", bl)
		cmd := clearCache("CP-slow")
		cmd.Timeout = 30 * time.Millisecond
		res, err := a.Send(t.Context(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != chargedesk.ResultTimeout || res.CommandID != cmd.ID {
			t.Errorf("Send = %+v, want Timeout", res)
		}
	})

	t.Run("caller deadline", func(t *testing.T) {
		bl := newBlocker(t, true)
		serve(t, b, "CP-hurry", bl)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		res, err := a.Send(ctx, clearCache("CP-hurry")) // Timeout 10s
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != chargedesk.ResultTimeout {
			t.Errorf("Send = %+v, want Timeout", res)
		}
		if got := bl.waitStarted(t).Timeout; got >= 100*time.Millisecond {
			t.Errorf("timeout at the charger's node = %s, want it shortened below the caller's 100ms", got)
		}
	})

	t.Run("commander reports its context", func(t *testing.T) {
		bl := newBlocker(t, true)
		serve(t, b, "CP-ctx", bl)
		cmd := clearCache("CP-ctx")
		cmd.Timeout = 20 * time.Millisecond
		// The serving node turns the Commander's deadline error into a
		// Timeout result; a large margin lets that answer arrive.
		a2 := openBus(t, Config{URL: a.ClientURL(), RequestMargin: 10 * time.Second})
		res, err := a2.Send(t.Context(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != chargedesk.ResultTimeout || res.Elapsed != cmd.Timeout {
			t.Errorf("Send = %+v, want the serving node's Timeout", res)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		bl := newBlocker(t, true)
		serve(t, b, "CP-cancel", bl)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			bl.waitStarted(t)
			cancel()
		}()
		_, err := a.Send(ctx, clearCache("CP-cancel"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v, want context.Canceled", err)
		}
	})

	t.Run("too many pending", func(t *testing.T) {
		bl := newBlocker(t, false)
		serve(t, b, "CP-busy", bl)
		first := make(chan error, 1)
		go func() {
			_, err := a.Send(t.Context(), clearCache("CP-busy"))
			first <- err
		}()
		bl.waitStarted(t)
		_, err := a.Send(t.Context(), clearCache("CP-busy"))
		if chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
			t.Errorf("second Send = %v, want EUNAVAILABLE", err)
		}
		bl.unblock()
		if err := <-first; err != nil {
			t.Errorf("first Send: %v", err)
		}
	})

	errTests := []struct {
		name string
		err  error
		want *chargedesk.Error
	}{
		{"domain error", chargedesk.Errorf(chargedesk.ENOTSUPPORTED, "ocpp1.6 cannot do %s", "that"), &chargedesk.Error{Code: chargedesk.ENOTSUPPORTED, Message: "ocpp1.6 cannot do that"}},
		{"wrapped domain error", fmt.Errorf("csms: %w", chargedesk.Errorf(chargedesk.EOFFLINE, "socket closed")), &chargedesk.Error{Code: chargedesk.EOFFLINE, Message: "socket closed"}},
		{"other error hidden", errors.New("open /var/secret: permission denied"), &chargedesk.Error{Code: chargedesk.EINTERNAL, Message: "internal error"}},
	}
	for i, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("CP-err%d", i)
			serve(t, b, id, commanderFunc(func(context.Context, chargedesk.Command) (chargedesk.Result, error) {
				return chargedesk.Result{}, tt.err
			}))
			_, err := a.Send(t.Context(), clearCache(id))
			var got *chargedesk.Error
			if !errors.As(err, &got) {
				t.Fatalf("Send = %v, want a *chargedesk.Error", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeChargerInvalid(t *testing.T) {
	b := openBus(t, Config{})
	if _, err := b.ServeCharger("a.*", answer("x")); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Errorf("bad id: %v, want EINVALID", err)
	}
	if _, err := b.ServeCharger("CP1", nil); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Errorf("no commander: %v, want EINVALID", err)
	}
}

func TestNewestServerWins(t *testing.T) {
	replacedA := make(chan string, 10)
	replacedB := make(chan string, 10)
	a, b := twoNodes(t, Config{OnReplaced: func(id string) { replacedA <- id }}, Config{OnReplaced: func(id string) { replacedB <- id }})
	const id = "site.1_cp-1"

	detail := func(from *Bus) string {
		t.Helper()
		res, err := from.Send(t.Context(), clearCache(id))
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if res.Status != chargedesk.ResultAccepted {
			return string(res.Status)
		}
		return res.Detail
	}

	stopA := serve(t, a, id, answer("a"))
	if got := detail(b); got != "a:"+id {
		t.Fatalf("before the hand-over: answered by %q", got)
	}

	// The charger reconnects to node b.
	stopB1 := serve(t, b, id, answer("b1"))
	select {
	case got := <-replacedA:
		if got != id {
			t.Errorf("node a told %q was replaced, want %q", got, id)
		}
	default:
		t.Error("node a was not told when ServeCharger returned on node b")
	}
	for _, from := range []*Bus{a, b} {
		if got := detail(from); got != "b1:"+id {
			t.Errorf("after the hand-over: answered by %q", got)
		}
	}

	// It reconnects to node b again: b replaces its own connection.
	stopB2 := serve(t, b, id, answer("b2"))
	if got := detail(a); got != "b2:"+id {
		t.Errorf("after the reconnection on the same node: answered by %q", got)
	}
	if len(replacedB) != 0 {
		t.Errorf("node b was told it was replaced by itself")
	}

	// Stale stops change nothing.
	for _, stop := range []func() error{stopA, stopB1} {
		if err := stop(); err != nil {
			t.Errorf("stale stop: %v", err)
		}
	}
	if got := detail(a); got != "b2:"+id {
		t.Errorf("after stale stops: answered by %q", got)
	}
	if err := stopB2(); err != nil {
		t.Fatal(err)
	}
	if got := detail(a); got != string(chargedesk.ResultChargerOffline) {
		t.Errorf("after the last stop: %q, want ChargerOffline", got)
	}
	if len(replacedA) != 0 || len(replacedB) != 0 {
		t.Errorf("unexpected replacements: a %d, b %d", len(replacedA), len(replacedB))
	}
}

func TestCloseAnswersCommandsInProgress(t *testing.T) {
	a := openBus(t, Config{Listen: "127.0.0.1:0"})
	b, err := Open(t.Context(), Config{URL: a.ClientURL(), Name: "node-b", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	bl := newBlocker(t, true)
	if _, err := b.ServeCharger("CP1", bl); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.Send(t.Context(), clearCache("CP1"))
		done <- err
	}()
	bl.waitStarted(t)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
		t.Errorf("Send across Close = %v, want EUNAVAILABLE", err)
	}
	if res, err := a.Send(t.Context(), clearCache("CP1")); err != nil || res.Status != chargedesk.ResultChargerOffline {
		t.Errorf("Send after Close = %+v, %v; want ChargerOffline", res, err)
	}
	if _, err := b.ServeCharger("CP2", answer("b")); chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
		t.Errorf("ServeCharger after Close = %v, want EUNAVAILABLE", err)
	}
}

func TestManyChargers(t *testing.T) {
	const n = 1000
	a, b := twoNodes(t, Config{}, Config{})
	for i := range n {
		serve(t, b, fmt.Sprintf("cp.%04d", i), answer("b"))
	}
	var wg sync.WaitGroup
	results := make([]chargedesk.Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = a.Send(t.Context(), clearCache(fmt.Sprintf("cp.%04d", i)))
		})
	}
	wg.Wait()
	for i := range n {
		id := fmt.Sprintf("cp.%04d", i)
		if errs[i] != nil {
			t.Fatalf("%s: %v", id, errs[i])
		}
		want := chargedesk.Result{CommandID: "cmd-" + id, Status: chargedesk.ResultAccepted, Detail: "b:" + id}
		if diff := cmp.Diff(want, results[i], cmpopts.IgnoreFields(chargedesk.Result{}, "Elapsed")); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", id, diff)
		}
	}
}

func TestSlowChargerDelaysNoOther(t *testing.T) {
	a, b := twoNodes(t, Config{}, Config{})
	bl := newBlocker(t, false)
	serve(t, b, "CP-slow", bl)
	for i := range 10 {
		serve(t, b, fmt.Sprintf("CP-%d", i), answer("b"))
	}
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		a.Send(t.Context(), clearCache("CP-slow"))
	}()
	bl.waitStarted(t)
	// Node b holds the slow charger's command; every other charger still
	// answers, from node a and from node b.
	for i := range 10 {
		for _, from := range []*Bus{a, b} {
			res, err := from.Send(t.Context(), clearCache(fmt.Sprintf("CP-%d", i)))
			if err != nil || res.Status != chargedesk.ResultAccepted {
				t.Fatalf("CP-%d: %+v, %v", i, res, err)
			}
		}
	}
	select {
	case <-slowDone:
		t.Fatal("the slow charger's command finished before it was released")
	default:
	}
	bl.unblock()
	<-slowDone
}
