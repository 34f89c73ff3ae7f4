package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/sim"
)

// fleet is the simulated chargers of a cluster test, each with a ledger of
// what the central system acknowledged to it.
type fleet struct {
	chargers []*sim.Charger
	ledgers  map[string]*ledger
	tags     []string
}

// ledger records, from the charger's side of the wire, the transaction
// messages the central system acknowledged: what must be in the store once,
// whichever node took them.
type ledger struct {
	mu      sync.Mutex
	proto   chargedesk.Protocol
	calls   map[string]ocpp.Message // CALLs sent, by message id
	started map[string]int          // transaction id → acknowledged starts
	stopped map[string]int64        // transaction id → meterStop (1.6) or 0
	samples int                     // meter samples in acknowledged MeterValues
	// stopsSent are the stops the charger sent, answered or not (its
	// node may have died first): once its queue is empty, each is stored.
	stopsSent map[string]int64
	// samplesSent counts the samples of every transaction message sent,
	// answered or not.
	samplesSent int
}

// sent notes a stop the charger sent, and the samples of what it sent.
func (l *ledger) sent(m ocpp.Message) {
	var withSamples struct {
		MeterValue      []meterValue `json:"meterValue"`
		TransactionData []meterValue `json:"transactionData"`
	}
	if m.Action == "MeterValues" || m.Action == "TransactionEvent" || m.Action == "StopTransaction" {
		_ = json.Unmarshal(m.Payload, &withSamples)
		l.samplesSent += samplesIn(withSamples.MeterValue) + samplesIn(withSamples.TransactionData)
	}
	switch m.Action {
	case "StopTransaction":
		var r struct {
			TransactionID int64 `json:"transactionId"`
			MeterStop     int64 `json:"meterStop"`
		}
		_ = json.Unmarshal(m.Payload, &r)
		l.stopsSent[fmt.Sprint(r.TransactionID)] = r.MeterStop
	case "TransactionEvent":
		var r struct {
			EventType       string `json:"eventType"`
			TransactionInfo struct {
				TransactionID string `json:"transactionId"`
			} `json:"transactionInfo"`
		}
		_ = json.Unmarshal(m.Payload, &r)
		if r.EventType == "Ended" {
			l.stopsSent[r.TransactionInfo.TransactionID] = 0
		}
	}
}

func (l *ledger) onFrame(f sim.Frame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := f.Message
	switch {
	case f.Dir == sim.DirOut && m.Type == ocpp.Call:
		l.calls[m.ID] = m
		l.sent(m)
	case f.Dir == sim.DirIn && m.Type == ocpp.CallResult:
		req, ok := l.calls[m.ID]
		if !ok {
			return
		}
		delete(l.calls, m.ID)
		l.acknowledged(req, m.Payload)
	}
}

// acknowledged notes a transaction message the central system answered.
func (l *ledger) acknowledged(req ocpp.Message, answer json.RawMessage) {
	switch req.Action {
	case "StartTransaction":
		var a struct {
			TransactionID int64 `json:"transactionId"`
		}
		_ = json.Unmarshal(answer, &a)
		l.started[fmt.Sprint(a.TransactionID)]++
	case "StopTransaction":
		var r struct {
			TransactionID   int64        `json:"transactionId"`
			MeterStop       int64        `json:"meterStop"`
			TransactionData []meterValue `json:"transactionData"`
		}
		_ = json.Unmarshal(req.Payload, &r)
		l.stopped[fmt.Sprint(r.TransactionID)] = r.MeterStop
		l.samples += samplesIn(r.TransactionData)
	case "MeterValues":
		var r struct {
			MeterValue []meterValue `json:"meterValue"`
		}
		_ = json.Unmarshal(req.Payload, &r)
		l.samples += samplesIn(r.MeterValue)
	case "TransactionEvent":
		var r struct {
			EventType       string `json:"eventType"`
			TransactionInfo struct {
				TransactionID string `json:"transactionId"`
			} `json:"transactionInfo"`
			MeterValue []meterValue `json:"meterValue"`
		}
		_ = json.Unmarshal(req.Payload, &r)
		switch r.EventType {
		case "Started":
			l.started[r.TransactionInfo.TransactionID]++
		case "Ended":
			l.stopped[r.TransactionInfo.TransactionID] = 0
		}
		l.samples += samplesIn(r.MeterValue)
	}
}

// meterValue is an OCPP meterValue as far as counting its samples goes.
type meterValue struct {
	SampledValue []json.RawMessage `json:"sampledValue"`
}

func samplesIn(mvs []meterValue) int {
	n := 0
	for _, mv := range mvs {
		n += len(mv.SampledValue)
	}
	return n
}

// newFleet registers n chargers (half 1.6, half 2.0.1, two connectors
// each) and a token per charger through the API of a node, and runs them
// behind the balancer until the test ends.
func newFleet(t *testing.T, c *cluster, n int, edit ...func(i int, cfg *sim.ChargerConfig)) *fleet {
	t.Helper()
	v, err := ocpp.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	f := &fleet{ledgers: map[string]*ledger{}}
	simLog, err := os.Create(filepath.Join(c.logsDir, "chargers.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { simLog.Close() })
	logger := slog.New(slog.NewTextHandler(simLog, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for i := range n {
		id := fmt.Sprintf("CL-%03d", i+1)
		proto := chargedesk.OCPP16
		if i%2 == 1 {
			proto = chargedesk.OCPP201
		}
		password := "cluster-password-" + id
		c.mustAPI(c.nodes[0], "POST", "/api/v1/chargers", map[string]any{"id": id, "password": password}, nil)
		tag := fmt.Sprintf("CLTAG%03d", i+1)
		c.mustAPI(c.nodes[0], "PUT", "/api/v1/tokens/"+tag, map[string]any{"status": "Accepted"}, nil)
		f.tags = append(f.tags, tag)
		l := &ledger{proto: proto, calls: map[string]ocpp.Message{}, started: map[string]int{}, stopped: map[string]int64{}, stopsSent: map[string]int64{}}
		f.ledgers[id] = l
		cfg := sim.ChargerConfig{
			ID: id, Password: password, Protocol: proto, URL: c.lb.url(),
			Connectors: []sim.ConnectorSpec{{Type: sim.CCS1, MaxPowerKW: 150}, {Type: sim.CCS1, MaxPowerKW: 150}},
			BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second, CallTimeout: 10 * time.Second,
			Settings:  map[string]string{"MeterValueSampleInterval": "1"},
			Validator: v, OnFrame: l.onFrame, Logger: logger,
		}
		for _, e := range edit {
			e(i, &cfg)
		}
		ch := sim.NewCharger(cfg)
		f.chargers = append(f.chargers, ch)
		wg.Add(1)
		go func() { defer wg.Done(); _ = ch.Run(ctx) }()
	}
	c.waitFleetConnected(f, 60*time.Second)
	return f
}

// waitFleetConnected waits until every charger is connected and booted, in
// its own view and in the store's.
func (c *cluster) waitFleetConnected(f *fleet, d time.Duration) {
	c.t.Helper()
	eventually(c.t, d, "every charger connected", func() bool {
		for _, ch := range f.chargers {
			if !ch.State().Connected {
				return false
			}
		}
		nd, err := c.anyLive(nil)
		if err != nil {
			return false
		}
		var list struct {
			Chargers []chargedesk.Charger `json:"chargers"`
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := nd.api(ctx, "GET", "/api/v1/chargers?connected=true&limit=1000", nil, &list); err != nil {
			return false
		}
		live := map[string]bool{}
		for _, n := range c.liveNodes() {
			live[n.name] = true
		}
		held := 0
		for _, ch := range list.Chargers {
			if live[ch.Node] {
				held++
			}
		}
		return held == len(f.chargers)
	})
}

// holder returns the node the store says holds the charger.
func (c *cluster) holder(id string) *node {
	c.t.Helper()
	nd, err := c.anyLive(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	var ch chargedesk.Charger
	c.mustAPI(nd, "GET", "/api/v1/chargers/"+id+"?events=0", nil, &ch)
	return c.nodeNamed(ch.Node)
}

// waitDelivered waits until every charger is connected with nothing left
// in its transaction queue; on time-out it names those that are not.
func (f *fleet) waitDelivered(t *testing.T, d time.Duration) {
	t.Helper()
	pending := func() []string {
		var out []string
		for _, ch := range f.chargers {
			if s := ch.State(); !s.Connected || s.QueuedTx > 0 {
				out = append(out, fmt.Sprintf("%s: connected %v, %d transaction messages queued, counters %+v", ch.ID(), s.Connected, s.QueuedTx, s.Counters))
			}
		}
		return out
	}
	deadline := time.Now().Add(d)
	for {
		p := pending()
		if len(p) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, chargers still delivering:\n%s", d, strings.Join(p, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
