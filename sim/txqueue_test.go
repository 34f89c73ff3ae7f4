package sim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// startAction is the message that opens a transaction in p.
func startAction(p chargedesk.Protocol) (string, func(map[string]any) bool) {
	if p == chargedesk.OCPP16 {
		return "StartTransaction", nil
	}
	return "TransactionEvent", func(q map[string]any) bool { return q["eventType"] == "Started" }
}

// stopAction is the message that closes a transaction in p.
func stopAction(p chargedesk.Protocol) (string, func(map[string]any) bool) {
	if p == chargedesk.OCPP16 {
		return "StopTransaction", nil
	}
	return "TransactionEvent", func(q map[string]any) bool { return q["eventType"] == "Ended" }
}

func txIDOf(q map[string]any) any {
	if info, ok := q["transactionInfo"].(map[string]any); ok {
		return info["transactionId"]
	}
	return q["transactionId"]
}

// TestTransactionMessagesAreRetried: a start message answered with a
// CALLERROR, or not answered within CallTimeout, is sent again; the
// transaction gets the CSMS's id and its stop names it.
func TestTransactionMessagesAreRetried(t *testing.T) {
	modes := []string{"callerror", "timeout"}
	for _, p := range protocols {
		for _, mode := range modes {
			t.Run(string(p)+"/"+mode, func(t *testing.T) {
				ctx := testCtx(t)
				m := newTestCSMS(t)
				m.tags["T1"] = "Accepted"
				id := "CP-RETRY"
				cfg := baseConfig(m, id, p)
				cfg.CallTimeout = 300 * time.Millisecond
				cfg.Settings[keyTransactionMessageAttempts] = "3"
				cfg.Settings[keyTransactionMessageRetryInterval] = "0"
				c := startCharger(t, cfg)
				waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
				act, isStart := startAction(p)
				m.mu.Lock()
				if mode == "callerror" {
					m.failNext[act] = 1
				} else {
					m.ignoreNext[act] = 1
				}
				m.mu.Unlock()
				if err := c.PlugIn(ctx, 1); err != nil {
					t.Fatal(err)
				}
				if st, err := c.TapCard(ctx, 1, "T1"); err != nil || st != AuthAccepted {
					t.Fatalf("tap: %q %v", st, err)
				}
				second := m.waitCall(ctx, t, id, act, 2, isStart)
				s := waitState(ctx, t, c, "transaction numbered", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
				txID := s.Connector(1).TransactionID
				if p == chargedesk.OCPP201 && txIDOf(second) != txID {
					t.Errorf("retried Started names %v, want %s", txIDOf(second), txID)
				}
				if err := c.StopLocal(ctx, 1); err != nil {
					t.Fatal(err)
				}
				sa, isStop := stopAction(p)
				stop := m.waitCall(ctx, t, id, sa, 1, isStop)
				want := any(txID)
				if p == chargedesk.OCPP16 {
					want = 1.0 // the id the CSMS gave the answered start
				}
				if txIDOf(stop) != want {
					t.Errorf("stop names transaction %v, want %v", txIDOf(stop), want)
				}
			})
		}
	}
}

// TestTransactionMessageOutlivesCallerContext: the caller's context ending
// (a driver action whose request was cancelled) does not lose the start.
func TestTransactionMessageOutlivesCallerContext(t *testing.T) {
	for _, p := range protocols {
		t.Run(string(p), func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.tags["T1"] = "Accepted"
			id := "CP-CTX"
			c := startCharger(t, baseConfig(m, id, p))
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
			if st, err := c.TapCard(ctx, 1, "T1"); err != nil || st != AuthAccepted {
				t.Fatalf("tap: %q %v", st, err)
			}
			gone, cancel := context.WithCancel(ctx)
			cancel()
			if err := c.PlugIn(gone, 1); err != nil {
				t.Fatal(err)
			}
			act, isStart := startAction(p)
			m.waitCall(ctx, t, id, act, 1, isStart)
			waitState(ctx, t, c, "transaction numbered", func(s Snapshot) bool { return s.Connector(1).TransactionID != "" })
		})
	}
}

// TestGivenUpStartSendsNoStop: once a 1.6 StartTransaction has failed
// TransactionMessageAttempts times, the transaction has no CSMS id and no
// StopTransaction is ever sent for it (never transactionId 0). The next
// transaction's StartTransaction, queued after the stop, shows the stop
// was dropped rather than still waiting.
func TestGivenUpStartSendsNoStop(t *testing.T) {
	ctx := testCtx(t)
	m := newTestCSMS(t)
	m.tags["T1"] = "Accepted"
	id := "CP-GIVEUP"
	cfg := baseConfig(m, id, chargedesk.OCPP16)
	cfg.Settings[keyTransactionMessageAttempts] = "2"
	cfg.Settings[keyTransactionMessageRetryInterval] = "0"
	c := startCharger(t, cfg)
	waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
	m.mu.Lock()
	m.failNext["StartTransaction"] = 2
	m.mu.Unlock()
	if err := c.PlugIn(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TapCard(ctx, 1, "T1"); err != nil {
		t.Fatal(err)
	}
	m.waitCall(ctx, t, id, "StartTransaction", 2, nil)
	if err := c.StopLocal(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TapCard(ctx, 1, "T1"); err != nil {
		t.Fatal(err)
	}
	m.waitCall(ctx, t, id, "StartTransaction", 3, nil)
	waitState(ctx, t, c, "second transaction numbered", func(s Snapshot) bool { return s.Connector(1).TransactionID == "1" })
	acts := m.actions(id)
	if n := countOf(acts, "StartTransaction"); n != 3 {
		t.Errorf("%d StartTransaction, want 2 attempts and the next transaction's: %v", n, acts)
	}
	if n := countOf(acts, "StopTransaction"); n != 0 {
		t.Errorf("%d StopTransaction for a transaction the CSMS never numbered: %v", n, acts)
	}
}

// TestRemoteStartKeepsTokenType201: a 2.0.1 remote start authorizes (when
// AuthorizeRemoteStart is set) and starts with the request's idToken, value
// and type alike.
func TestRemoteStartKeepsTokenType201(t *testing.T) {
	tests := []struct {
		name, typ string
		authFirst bool
	}{
		{"eMAID", "eMAID", true},
		{"Central", "Central", false},
		{"KeyCode authorized first", "KeyCode", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			m := newTestCSMS(t)
			m.tags["APP-7"] = "Accepted"
			id := "CP-TOKTYPE"
			cfg := baseConfig(m, id, chargedesk.OCPP201)
			cfg.Settings[keyAuthorizeRemoteTxRequests] = fmt.Sprint(tt.authFirst)
			c := startCharger(t, cfg)
			waitState(ctx, t, c, "online", func(s Snapshot) bool { return s.Connected })
			if err := c.PlugIn(ctx, 1); err != nil {
				t.Fatal(err)
			}
			tok := map[string]any{"idToken": "APP-7", "type": tt.typ}
			if ans := m.mustCall(ctx, t, id, "RequestStartTransaction", map[string]any{"evseId": 1, "remoteStartId": 9, "idToken": tok}); ans["status"] != "Accepted" {
				t.Fatalf("remote start: %v", ans)
			}
			started := m.waitCall(ctx, t, id, "TransactionEvent", 1, func(q map[string]any) bool { return q["eventType"] == "Started" })
			if got, _ := started["idToken"].(map[string]any); got["idToken"] != "APP-7" || got["type"] != tt.typ {
				t.Errorf("Started carries idToken %v, want APP-7 of type %s", got, tt.typ)
			}
			if tt.authFirst {
				auth := m.waitCall(ctx, t, id, "Authorize", 1, nil)
				if got, _ := auth["idToken"].(map[string]any); got["idToken"] != "APP-7" || got["type"] != tt.typ {
					t.Errorf("Authorize carries idToken %v, want APP-7 of type %s", got, tt.typ)
				}
			}
		})
	}
}
