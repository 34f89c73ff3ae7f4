package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk/sim"
)

// demoProc is "chargedesk demo" running as a child process.
type demoProc struct {
	proc
	key      string
	admin    string            // the console admin's password
	injected map[string]string // fault -> charger id
	out      *syncBuf
}

var (
	demoKey       = regexp.MustCompile(`^\s+API key\s+(\S+)`)
	demoAPI       = regexp.MustCompile(`^\s+operator API\s+(\S+)/api/v1/chargers`)
	demoAdmin     = regexp.MustCompile(`^\s+console\s+\S+\s+\(sign in as admin, password (\S+)\)`)
	demoFaultLine = regexp.MustCompile(`^\s+(\S+)(?: connector \d+)?\s+([a-z_]+)\s`)
)

func startDemo(t *testing.T, chargers int) *demoProc {
	t.Helper()
	args := []string{"demo", "-http", "127.0.0.1:0", "-ocpp", "127.0.0.1:0", "-chargers", strconvI(chargers), "-data", t.TempDir()}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &demoProc{proc: proc{cmd: cmd, stderr: &bytes.Buffer{}, waitDone: make(chan struct{})}, injected: map[string]string{}, out: newSyncBuf()}
	cmd.Stderr = &lockedWriter{w: d.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { cmd.Wait(); close(d.waitDone) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.waitDone
		if t.Failed() {
			t.Logf("demo stdout:\n%s\nstderr:\n%s", d.out, d.stderr)
		}
	})
	deadline := time.After(60 * time.Second)
	inFaults := false
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early:\n%s\n%s", d.out, d.stderr)
			}
			d.out.Write([]byte(line + "\n"))
			if m := demoKey.FindStringSubmatch(line); m != nil {
				d.key = m[1]
			}
			if m := demoAPI.FindStringSubmatch(line); m != nil {
				d.apiURL = m[1]
			}
			if m := demoAdmin.FindStringSubmatch(line); m != nil {
				d.admin = m[1]
			}
			switch {
			case strings.HasPrefix(line, "Faults injected now:"):
				inFaults = true
			case strings.HasPrefix(line, "Things to try"), strings.HasPrefix(line, "Try in"):
				inFaults = false
			case inFaults:
				if m := demoFaultLine.FindStringSubmatch(line); m != nil {
					d.injected[m[2]] = m[1]
				}
			}
			if strings.HasPrefix(line, "fleet:") {
				go func() {
					for l := range lines {
						d.out.Write([]byte(l + "\n"))
					}
				}()
				return d
			}
		case <-deadline:
			t.Fatalf("demo did not report its fleet within 60s:\n%s", d.out)
		}
	}
}

func strconvI(n int) string { b, _ := json.Marshal(n); return string(b) }

// call uses the demo's generated key.
func (d *demoProc) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, d.apiURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+d.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// TestDemo runs "chargedesk demo" as a newcomer would and fixes two of its
// faults through the operator API.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process with a simulated fleet")
	}
	d := startDemo(t, 14)
	var list struct {
		Chargers []struct {
			ID        string
			Connected bool
		}
	}
	d.call(t, "GET", "/api/v1/chargers", "", &list)
	connected := 0
	for _, c := range list.Chargers {
		if c.Connected {
			connected++
		}
	}
	if len(list.Chargers) != 14 || connected < 13 { // one charger of the mix is offline for good
		t.Fatalf("%d chargers, %d connected", len(list.Chargers), connected)
	}

	// The stuck lock: one unlock fixes it.
	stuck := d.injected["lock_after_session"]
	if stuck == "" {
		t.Fatalf("no lock_after_session charger in the guide: %v", d.injected)
	}
	var res struct{ Status, Detail string }
	d.call(t, "POST", "/api/v1/chargers/"+stuck+"/commands", `{"kind":"UnlockConnector","connectorId":1,"reason":"test"}`, &res)
	if res.Status != "Unlocked" {
		t.Fatalf("unlock %s: %+v", stuck, res)
	}
	var snap struct {
		Connectors []struct {
			ID          int
			LockEngaged bool
		}
	}
	d.call(t, "GET", "/api/v1/sim/chargers/"+stuck, "", &snap)
	if len(snap.Connectors) == 0 || snap.Connectors[0].LockEngaged {
		t.Fatalf("lock still engaged: %+v", snap)
	}

	// A fault injected through the API: the lock breaks, unlock fails.
	healthy := ""
	for _, c := range list.Chargers {
		busy := false
		for _, id := range d.injected {
			busy = busy || id == c.ID
		}
		if !busy && c.Connected {
			healthy = c.ID
			break
		}
	}
	if code := d.call(t, "POST", "/api/v1/sim/chargers/"+healthy+"/faults", `{"fault":"lock_mechanical","connectorId":1}`, nil); code != http.StatusOK {
		t.Fatalf("inject: %d", code)
	}
	d.call(t, "POST", "/api/v1/chargers/"+healthy+"/commands", `{"kind":"UnlockConnector","connectorId":1}`, &res)
	if res.Status != "UnlockFailed" {
		t.Fatalf("unlock with a broken lock: %+v", res)
	}
	var verify struct{ OK bool }
	d.call(t, "GET", "/api/v1/audit/verify", "", &verify)
	if !verify.OK {
		t.Fatal("audit chain does not verify")
	}

	// A driver types the problem into the web chat, in a real browser, and
	// the charger gets fixed: the connector left Inoperative is Available
	// again on the charger's own word.
	inop := d.injected["left_inoperative"]
	if inop == "" {
		t.Fatalf("no left_inoperative charger in the guide: %v", d.injected)
	}
	// The driver is one of the demo's (same seed): the agent binds the chat
	// to the account by the phone on file and a card's last four digits.
	driver := demoDriver(sim.GenerateNetwork(2026, 14))
	turns := chatInBrowser(t, d.apiURL+"/chat", "en", "hi, charger "+inop+" says unavailable, i can't charge",
		driver.Phone, "my card ends in "+driver.Payments[0].Last4)
	last := turns[len(turns)-1]
	if len(turns) < 3 || last.Role != "agent" || !strings.Contains(strings.ToLower(last.Text), "available") {
		t.Fatalf("web chat shows %+v", turns)
	}
	t.Logf("web chat: %+v", turns)
	var ch struct {
		Connectors []struct {
			ID     int
			Status string
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		d.call(t, "GET", "/api/v1/chargers/"+inop, "", &ch)
		if len(ch.Connectors) > 1 && ch.Connectors[1].ID == 1 && ch.Connectors[1].Status == "Available" ||
			len(ch.Connectors) > 0 && ch.Connectors[0].ID == 1 && ch.Connectors[0].Status == "Available" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connector 1 of %s not Available after the chat: %+v (chat: %+v)", inop, ch, turns)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Ctrl-C stops everything cleanly.
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.waitDone:
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of SIGINT")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	time.Sleep(50 * time.Millisecond) // the last line of stdout
	if !strings.Contains(d.out.String(), "chargedesk demo stopped") {
		t.Errorf("no clean stop message:\n%s", d.out)
	}
}
