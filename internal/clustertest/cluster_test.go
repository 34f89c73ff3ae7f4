package clustertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sim"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// commandResult is the API's answer to a command.
type commandResult struct {
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// TestClusterRouting: three nodes, twelve chargers spread over them by the
// balancer. A command sent through any node reaches the charger wherever
// it is connected; a driver's conversation started on one node goes on on
// the others, and on a third after the node of its last turn is killed.
func TestClusterRouting(t *testing.T) {
	c := newCluster(t, 3)
	f := newFleet(t, c, 12)
	ctx := context.Background()

	held := map[string]int{}
	for _, ch := range f.chargers {
		held[c.holder(ch.ID()).name]++
	}
	if len(held) < 2 {
		t.Fatalf("the balancer put every charger on one node: %v", held)
	}
	t.Logf("chargers per node: %v", held)

	// Commands through a node that does not hold the charger.
	for i, ch := range f.chargers {
		h := c.holder(ch.ID())
		other, err := c.anyLive(h)
		if err != nil {
			t.Fatal(err)
		}
		var res commandResult
		c.mustAPI(other, "POST", "/api/v1/chargers/"+ch.ID()+"/commands",
			map[string]any{"kind": "TriggerMessage", "trigger": "StatusNotification", "connectorId": 1, "reason": "cluster test"}, &res)
		if res.Status != "Accepted" {
			t.Fatalf("trigger to %s (on %s) through %s: %+v", ch.ID(), h.name, other.name, res)
		}
		if i >= 2 {
			continue
		}
		// A remote start and stop, the start checked in the store.
		if err := ch.PlugIn(ctx, 1); err != nil {
			t.Fatal(err)
		}
		c.mustAPI(other, "POST", "/api/v1/chargers/"+ch.ID()+"/commands",
			map[string]any{"kind": "RemoteStart", "connectorId": 1, "idTag": f.tags[i], "reason": "cluster test"}, &res)
		if res.Status != "Accepted" {
			t.Fatalf("remote start on %s through %s: %+v", ch.ID(), other.name, res)
		}
		var txs struct {
			Transactions []chargedesk.Transaction `json:"transactions"`
		}
		eventually(t, 20*time.Second, "the remote start stored", func() bool {
			c.mustAPI(other, "GET", "/api/v1/chargers/"+ch.ID()+"/transactions?active=true", nil, &txs)
			return len(txs.Transactions) == 1
		})
		c.mustAPI(other, "POST", "/api/v1/chargers/"+ch.ID()+"/commands",
			map[string]any{"kind": "RemoteStop", "transactionId": txs.Transactions[0].ID, "reason": "cluster test"}, &res)
		if res.Status != "Accepted" {
			t.Fatalf("remote stop on %s through %s: %+v", ch.ID(), other.name, res)
		}
		eventually(t, 20*time.Second, "the remote stop stored", func() bool {
			c.mustAPI(other, "GET", "/api/v1/chargers/"+ch.ID()+"/transactions?active=true", nil, &txs)
			return len(txs.Transactions) == 0
		})
	}

	// A conversation: one turn per node, then the node of the last turn
	// dies and the next turn is taken by another.
	var conv struct {
		ID       string `json:"id"`
		Language string `json:"language"`
	}
	c.mustAPI(c.nodes[0], "POST", "/api/v1/conversations", map[string]any{"channel": "api", "language": "fr"}, &conv)
	say := func(nd *node, text string) string {
		t.Helper()
		var out struct {
			Reply        string                  `json:"reply"`
			Conversation chargedesk.Conversation `json:"conversation"`
		}
		c.mustAPI(nd, "POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"text": text}, &out)
		if out.Reply == "" || out.Conversation.Language != "fr" {
			t.Fatalf("%s answered %q in %q", nd.name, out.Reply, out.Conversation.Language)
		}
		t.Logf("%s: %q → %q", nd.name, text, out.Reply)
		return out.Reply
	}
	r1 := say(c.nodes[0], "bonjour, la borne ne veut pas démarrer")
	r2 := say(c.nodes[1], "c'est la borne "+f.chargers[3].ID())
	if r2 == r1 {
		t.Fatalf("node-b asked again what node-a asked: %q", r2)
	}
	c.kill(c.nodes[1])
	r3 := say(c.nodes[2], "le connecteur 2")
	if r3 == r2 {
		t.Fatalf("node-c repeated node-b's answer: %q", r3)
	}
	var full struct {
		Charger string            `json:"chargerId"`
		Turns   []chargedesk.Turn `json:"turns"`
	}
	c.mustAPI(c.nodes[2], "GET", "/api/v1/conversations/"+conv.ID, nil, &full)
	if full.Charger != f.chargers[3].ID() {
		t.Errorf("the conversation's charger is %q, want the one named on node-b", full.Charger)
	}
	if len(full.Turns) != 7 { // greeting + three exchanges
		var b strings.Builder
		for _, tu := range full.Turns {
			fmt.Fprintf(&b, "\n  %s: %s", tu.Role, tu.Text)
		}
		t.Fatalf("%d turns, want 7:%s", len(full.Turns), b.String())
	}
	c.start(c.nodes[1])
}

// TestClusterNodeKills: three nodes, ten chargers charging in a loop
// (drivers plug in, tap, charge with meter values every second, stop,
// unplug), operators' commands through random nodes, and twenty SIGKILLs
// of a random node, each restarted with the same name. Afterwards every
// transaction, stop and meter sample a charger had acknowledged is in the
// store exactly once, nothing else is, the audit chain verifies, and every
// command answered with a result.
func TestClusterNodeKills(t *testing.T) {
	if testing.Short() {
		t.Skip("twenty node kills take a minute or two")
	}
	c := newCluster(t, 3)
	f := newFleet(t, c, 10)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	var wg sync.WaitGroup
	cycles := f.drive(ctx, &wg)
	// Operators' commands through random live nodes: each ends with a
	// result (or a refused connection to a node that just died), never
	// hangs past its timeout.
	var sent, answered, unreachable atomic.Int64
	statuses := sync.Map{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			nd, err := c.anyLive(nil)
			ch := f.chargers[rand.IntN(len(f.chargers))]
			if err == nil {
				sent.Add(1)
				cctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
				var res commandResult
				_, err := nd.api(cctx, "POST", "/api/v1/chargers/"+ch.ID()+"/commands",
					map[string]any{"kind": "TriggerMessage", "trigger": "MeterValues", "connectorId": 1, "timeout": "10s", "reason": "cluster chaos"}, &res)
				hung := cctx.Err() != nil
				cancel()
				switch {
				case hung:
					t.Errorf("command through %s hung: %v", nd.name, err)
				case err == nil:
					answered.Add(1)
					n, _ := statuses.LoadOrStore(res.Status, new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
				default:
					unreachable.Add(1) // the node died meanwhile: no answer, nothing acknowledged
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()

	const kills = 20
	for k := range kills {
		time.Sleep(time.Duration(1500+rand.IntN(1500)) * time.Millisecond)
		victim := c.nodes[rand.IntN(len(c.nodes))]
		c.kill(victim)
		t.Logf("kill %d: %s (%d charge cycles so far)", k+1, victim.name, cycles.Load())
		time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
		c.start(victim)
	}
	stop()
	wg.Wait()
	c.waitFleetConnected(f, 90*time.Second)

	// Every charger has delivered what it queued.
	f.waitDelivered(t, 90*time.Second)
	total := c.checkStored(t, f)
	if total < 20 {
		t.Errorf("only %d transactions over the run: too few to say anything", total)
	}
	var counts []string
	statuses.Range(func(k, v any) bool {
		counts = append(counts, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("%d kills, %d charge cycles, %d transactions; commands: %d sent, %d answered (%s), %d to a node that had just died",
		kills, cycles.Load(), total, sent.Load(), answered.Load(), strings.Join(counts, ", "), unreachable.Load())
	if answered.Load() == 0 {
		t.Error("no command was answered")
	}
}

// driveOnce is one charge as a driver does it: plug in, tap, charge a
// second or two, stop, unplug. It reports whether the charge ran; a step
// the charger refuses (off line, busy) ends the attempt.
func driveOnce(ctx context.Context, ch interface {
	PlugIn(context.Context, int) error
	TapCard(context.Context, int, string) (string, error)
	StopLocal(context.Context, int) error
	Unplug(context.Context, int) error
}, conn int, tag string) bool {
	pause := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	if err := ch.PlugIn(ctx, conn); err != nil {
		pause(300 * time.Millisecond)
		_ = ch.Unplug(ctx, conn)
		return false
	}
	status, err := ch.TapCard(ctx, conn, tag)
	if err != nil || status != "Accepted" {
		_ = ch.Unplug(ctx, conn)
		pause(300 * time.Millisecond)
		return false
	}
	// Charging, whatever happens to the nodes meanwhile.
	time.Sleep(time.Duration(1000+rand.IntN(1500)) * time.Millisecond)
	for ch.StopLocal(context.Background(), conn) != nil {
		// No transaction (the start never went through): nothing to stop.
		break
	}
	for range 50 {
		if ch.Unplug(context.Background(), conn) == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	pause(200 * time.Millisecond)
	return true
}

// checkLedger compares what a charger had acknowledged with the store and
// returns its transactions.
func checkLedger(t *testing.T, c *cluster, id string, l *ledger) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	rows, err := c.db.Query(`SELECT id, stopped_at IS NOT NULL, meter_stop_wh FROM transactions WHERE charger_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var txID string
		var stopped bool
		var meterStop int64
		if err := rows.Scan(&txID, &stopped, &meterStop); err != nil {
			t.Fatal(err)
		}
		if stored[txID] {
			t.Errorf("%s: transaction %s stored twice", id, txID)
		}
		stored[txID] = true
		n, acked := l.started[txID]
		_, stopSent := l.stopsSent[txID]
		switch {
		case !acked && !stopSent:
			// Neither started nor stopped by the charger on its wire (a 1.6
			// charger knows the id only from the start's answer): a double.
			t.Errorf("%s: transaction %s stored, but the charger never started or stopped it (a double)", id, txID)
		case n > 1 && l.proto == chargedesk.OCPP201:
			t.Errorf("%s: transaction %s started %d times", id, txID, n)
		}
		want, acked := l.stopped[txID]
		if !acked {
			// Sent, its answer lost with a node: stored all the same.
			want, acked = l.stopsSent[txID]
		}
		if acked {
			if !stopped {
				t.Errorf("%s: transaction %s stopped by the charger, stored running", id, txID)
			} else if l.proto == chargedesk.OCPP16 && meterStop != want {
				t.Errorf("%s: transaction %s stored meterStop %d, the charger sent %d", id, txID, meterStop, want)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for txID := range l.started {
		if !stored[txID] {
			t.Errorf("%s: acknowledged transaction %s lost", id, txID)
		}
		_, stopAcked := l.stopped[txID]
		_, stopSent := l.stopsSent[txID]
		if !stopAcked && !stopSent {
			t.Errorf("%s: transaction %s never stopped by the charger (the test's drivers stop every charge)", id, txID)
		}
	}
	// Every acknowledged sample is stored; more may be (a message stored
	// by a node that died before answering), never more than were sent,
	// and none twice.
	var samples, distinct int
	if err := c.db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT (transaction_id, at, connector_id, measurand, phase, context, location))
		FROM meter_values WHERE charger_id = $1`, id).Scan(&samples, &distinct); err != nil {
		t.Fatal(err)
	}
	if samples < l.samples || samples > l.samplesSent || distinct != samples {
		t.Errorf("%s: %d meter samples stored (%d distinct), %d acknowledged, %d sent", id, samples, distinct, l.samples, l.samplesSent)
	}
	return len(stored)
}

// TestClusterAgentNodeDies: the node working on a driver's message dies
// while the charger has not yet answered the agent's remote start. While
// the dead turn's lease runs, another node tells the driver the agent is
// still on it; after, the next message is told the step was interrupted
// and the agent looks again: a start that went through (the charger was on
// another node) is confirmed, one that was lost with the node (it held the
// charger) is sent again once the charger is back — never a ticket, never
// a silence. Both OCPP versions.
func TestClusterAgentNodeDies(t *testing.T) {
	c := newCluster(t, 3)
	f := newFleet(t, c, 2, func(i int, cfg *sim.ChargerConfig) {
		cfg.ResponseLatency = 4 * time.Second // the chargers answer commands slowly
	})
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cases := []struct {
		name       string
		killHolder bool
	}{
		{"start completed by the charger's node", false},
		{"start lost with the charger's node", true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := f.chargers[i]
			phone := fmt.Sprintf("+1514555012%d", i)
			driver := fmt.Sprintf("drv-%d", i)
			if err := st.PutDriver(ctx, &chargedesk.Driver{ID: driver, Name: "Ana Ruiz", Phone: phone, Language: "en"}); err != nil {
				t.Fatal(err)
			}
			if err := st.PutToken(ctx, &chargedesk.Token{IDTag: f.tags[i], Status: chargedesk.AuthAccepted, DriverID: driver}); err != nil {
				t.Fatal(err)
			}
			if err := ch.PlugIn(ctx, 1); err != nil {
				t.Fatal(err)
			}
			// The node that takes the message: the charger's own, or
			// another; it is the one that dies.
			holder := c.holder(ch.ID())
			worker := holder
			if !tc.killHolder {
				if worker, err = c.anyLive(holder); err != nil {
					t.Fatal(err)
				}
			}
			other, err := c.anyLive(worker)
			if err != nil {
				t.Fatal(err)
			}
			var conv struct {
				ID string `json:"id"`
			}
			c.mustAPI(worker, "POST", "/api/v1/conversations", map[string]any{"channel": "sms", "from": phone, "language": "en"}, &conv)
			first := make(chan error, 1)
			go func() {
				_, err := worker.api(ctx, "POST", "/api/v1/conversations/"+conv.ID+"/messages",
					map[string]any{"text": "charger " + ch.ID() + " connector 1 won't start, I'm plugged in"}, nil)
				first <- err
			}()
			eventually(t, 30*time.Second, "the agent's remote start on its way", func() bool {
				var n int
				_ = c.db.QueryRow(`SELECT COUNT(*) FROM audit WHERE charger_id = $1 AND kind = 'RemoteStart' AND stage = 'decision'`, ch.ID()).Scan(&n)
				return n > 0
			})
			time.Sleep(500 * time.Millisecond)
			c.kill(worker)
			defer c.start(worker)
			if err := <-first; err == nil {
				t.Fatalf("%s answered although it was killed mid-command", worker.name)
			}
			var out struct {
				Reply string `json:"reply"`
			}
			c.mustAPI(other, "POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"text": "hello? is it charging?"}, &out)
			t.Logf("%s: %q", other.name, out.Reply)
			if !strings.Contains(out.Reply, "still waiting for the charger") {
				t.Fatalf("while the dead turn's lease runs, %s answered %q: want that the agent is still on it", other.name, out.Reply)
			}
			time.Sleep(13 * time.Second) // the lease runs out
			c.mustAPI(other, "POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"text": "any news?"}, &out)
			t.Logf("%s: %q", other.name, out.Reply)
			if !strings.Contains(out.Reply, "interrupted") || !strings.Contains(out.Reply, "You're charging") {
				t.Errorf("after the lease ran out %s answered %q: want the interruption said and the charge confirmed", other.name, out.Reply)
			}
			eventually(t, 20*time.Second, "the charge running on the charger", func() bool {
				return ch.State().Connectors[0].TransactionID != ""
			})
			var turns struct {
				Status string            `json:"status"`
				Turns  []chargedesk.Turn `json:"turns"`
			}
			c.mustAPI(other, "GET", "/api/v1/conversations/"+conv.ID, nil, &turns)
			for _, tu := range turns.Turns {
				t.Logf("  %s: %s", tu.Role, tu.Text)
				if strings.HasPrefix(tu.Text, "ticket") {
					t.Errorf("a ticket was opened: %s", tu.Text)
				}
			}
			var txs int
			_ = c.db.QueryRow(`SELECT COUNT(*) FROM transactions WHERE charger_id = $1`, ch.ID()).Scan(&txs)
			if txs != 1 {
				t.Errorf("%d transactions on %s, want the one charge", txs, ch.ID())
			}
		})
	}
}

// TestClusterDependencyOutages: PostgreSQL refuses every connection for
// 30 s, later the NATS server is killed and started again, while chargers
// charge. Chargers stay connected to their nodes throughout; a node says
// what is down in /metrics and its log; every transaction, stop and meter
// sample a charger had acknowledged is stored once afterwards (messages
// the store could not take were refused, and the chargers sent them again);
// commands across nodes work again once NATS is back.
func TestClusterDependencyOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s database outage")
	}
	c := newClusterWith(t, 2, options{ownNATS: true, gatedDB: true})
	f := newFleet(t, c, 6)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	cycles := f.drive(ctx, &wg)
	connectsBefore := map[string]int{}
	for _, ch := range f.chargers {
		connectsBefore[ch.ID()] = ch.State().Counters.Connects
	}

	time.Sleep(3 * time.Second)
	c.dbGate.close()
	t.Log("PostgreSQL unreachable")
	c.waitMetric(10*time.Second, `chargedesk_dependency_up{dependency="store"} 0`)
	time.Sleep(27 * time.Second)
	for _, ch := range f.chargers {
		if s := ch.State(); !s.Connected || s.Counters.Connects != connectsBefore[ch.ID()] {
			t.Errorf("%s dropped during the database outage: connected %v, connects %d → %d", ch.ID(), s.Connected, connectsBefore[ch.ID()], s.Counters.Connects)
		}
	}
	c.dbGate.open()
	t.Logf("PostgreSQL back after 30 s (%d charge cycles so far)", cycles.Load())
	c.waitMetric(20*time.Second, `chargedesk_dependency_up{dependency="store"} 1`)
	time.Sleep(5 * time.Second)

	c.natsd.stop()
	t.Log("NATS down")
	c.waitMetric(10*time.Second, `chargedesk_dependency_up{dependency="bus"} 0`)
	time.Sleep(3 * time.Second)
	c.natsd.start()
	t.Log("NATS back")
	c.waitMetric(30*time.Second, `chargedesk_dependency_up{dependency="bus"} 1`)
	// Commands across nodes again.
	eventually(t, 30*time.Second, "commands through the other node answered again", func() bool {
		for _, ch := range f.chargers {
			h := c.holder(ch.ID())
			other, err := c.anyLive(h)
			if err != nil {
				return false
			}
			var res commandResult
			cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			_, err = other.api(cctx, "POST", "/api/v1/chargers/"+ch.ID()+"/commands",
				map[string]any{"kind": "TriggerMessage", "trigger": "StatusNotification", "connectorId": 1, "timeout": "5s", "reason": "after the outage"}, &res)
			cancel()
			if err != nil || res.Status != "Accepted" {
				return false
			}
		}
		return true
	})
	stop()
	wg.Wait()
	c.waitFleetConnected(f, 60*time.Second)
	f.waitDelivered(t, 90*time.Second)
	total := c.checkStored(t, f)
	logs, _ := os.ReadFile(filepath.Join(c.logsDir, c.nodes[0].name+".log"))
	for _, want := range []string{`msg="dependency not answering" dependency=store`, `msg="dependency answering again" dependency=store`,
		`msg="dependency not answering" dependency=bus`, `msg="dependency answering again" dependency=bus`} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("node-a's log lacks %s", want)
		}
	}
	t.Logf("%d charge cycles, %d transactions", cycles.Load(), total)
}

// drive has each charger's driver charge in a loop (driveOnce, on
// connector 1 or 2) until ctx ends, and counts the charges that ran.
func (f *fleet) drive(ctx context.Context, wg *sync.WaitGroup) *atomic.Int64 {
	cycles := new(atomic.Int64)
	for i, ch := range f.chargers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if driveOnce(ctx, ch, 1+i%2, f.tags[i]) {
					cycles.Add(1)
				}
			}
		}()
	}
	return cycles
}

// checkStored compares every charger's ledger with the store, checks the
// audit chain, and returns the transactions stored.
func (c *cluster) checkStored(t *testing.T, f *fleet) int {
	t.Helper()
	total := 0
	for _, ch := range f.chargers {
		total += checkLedger(t, c, ch.ID(), f.ledgers[ch.ID()])
	}
	var verify struct {
		OK      bool   `json:"ok"`
		Problem string `json:"problem"`
	}
	c.mustAPI(c.nodes[0], "GET", "/api/v1/audit/verify", nil, &verify)
	if !verify.OK {
		t.Errorf("audit chain broken: %s", verify.Problem)
	}
	return total
}
