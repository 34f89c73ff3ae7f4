package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain runs a server child instead of the tests when the parent asks
// for one (startChild re-executes this binary).
func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		if err := run(context.Background(), strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "loadcompare child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCompare runs the three servers at a small size, on loopback, and
// checks that each got every charger, answered every Heartbeat and command,
// and that the table shows them side by side.
func TestCompare(t *testing.T) {
	const chargers = 50
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	jsonPath := filepath.Join(t.TempDir(), "runs.json")
	var out, errb bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"-chargers", fmt.Sprint(chargers), "-duration", "2s", "-hb-rate", "100", "-commands-rate", "20",
		"-pause", "0", "-call-timeout", "5s", "-json", jsonPath}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, errb.String(), out.String())
	}
	t.Logf("three servers measured in %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var cmp comparison
	if err := json.Unmarshal(data, &cmp); err != nil {
		t.Fatal(err)
	}
	if len(cmp.All) != 3 {
		t.Fatalf("%d measurements, want 3 (one per server)", len(cmp.All))
	}
	for i, m := range cmp.All {
		if m.Target != allTargets[i] {
			t.Errorf("measurement %d is of %q, want %q", i, m.Target, allTargets[i])
		}
		r := m.Report
		if m.Error != "" || r.Connected != chargers || r.ConnectFailures != 0 || r.Boot.Count != chargers {
			t.Errorf("%s: error %q, connected %d, failures %d, boots %d; want all %d", m.Target, m.Error, r.Connected, r.ConnectFailures, r.Boot.Count, chargers)
		}
		if r.Errors != 0 || r.Disconnects != 0 || m.Commands.Errors != 0 {
			t.Errorf("%s: %d load errors, %d disconnects, %d command errors: %q %q", m.Target, r.Errors, r.Disconnects, m.Commands.Errors, r.ErrorSamples, m.Commands.ErrorSamples)
		}
		if r.Heartbeat.Count < 50 || r.Heartbeat.P99 <= 0 {
			t.Errorf("%s: %d Heartbeats answered (p99 %s), want about 200", m.Target, r.Heartbeat.Count, r.Heartbeat.P99)
		}
		if m.Commands.Sent < 10 || m.Commands.Latency.Count != int(m.Commands.Sent) || m.Commands.Latency.P99 <= 0 {
			t.Errorf("%s: %d of %d commands answered (p99 %s), want all of about 36", m.Target, m.Commands.Latency.Count, m.Commands.Sent, m.Commands.Latency.P99)
		}
		if r.ServerBytesPerCharger == 0 || m.ServerGoroutines == 0 || m.ServerConnectCPU <= 0 || m.ServerSteadyCPU <= 0 {
			t.Errorf("%s: server not measured: %.0f bytes per charger, %d goroutines, CPU %.3f s / %.3f", m.Target,
				r.ServerBytesPerCharger, m.ServerGoroutines, m.ServerConnectCPU, m.ServerSteadyCPU)
		}
		if m.ServerGoroutinesPerCharger < 0.9 {
			t.Errorf("%s: %.2f server goroutines per charger; every server here holds at least one per connection", m.Target, m.ServerGoroutinesPerCharger)
		}
	}
	table := out.String()
	for _, want := range []string{
		"| | chargedesk | ocpp-go v0.19.0 central system | floor (coder/websocket, fixed answers) |",
		"| chargers connected | 50/50 | 50/50 | 50/50 |",
		"| **Heartbeat p50 / p95 / p99** |", "| **command round trip p50 / p99** |",
		"| **server heap+stack per charger** |", "| errors (load + commands) / disconnects | 0 / 0 | 0 / 0 | 0 / 0 |",
		"load average (1/5/15 min):", "machine: ",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestSplitFrame(t *testing.T) {
	tests := []struct {
		in         string
		typ        byte
		id, action string
		ok         bool
	}{
		{`[2,"17","Heartbeat",{}]`, '2', "17", "Heartbeat", true},
		{`[3,"f4",{"listVersion":0}]`, '3', "f4", "", true},
		{`[4,"f5","NotImplemented","",{}]`, '4', "f5", "", true},
		{`[2,"17"]`, 0, "", "", false},
		{`{}`, 0, "", "", false},
		{`[2, "1","Heartbeat",{}]`, 0, "", "", false},
	}
	for _, tt := range tests {
		typ, id, action, ok := splitFrame([]byte(tt.in))
		if typ != tt.typ || string(id) != tt.id || string(action) != tt.action || ok != tt.ok {
			t.Errorf("splitFrame(%s) = %q %q %q %v, want %q %q %q %v", tt.in, typ, id, action, ok, tt.typ, tt.id, tt.action, tt.ok)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-only", "floor,ocppgo,floor", "-runs", "3"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.targets, ",") != "floor,ocppgo" || o.runs != 3 || o.chargers != 10000 {
		t.Errorf("targets %v, runs %d, chargers %d", o.targets, o.runs, o.chargers)
	}
	for _, args := range [][]string{{"-only", "nginx"}, {"-runs", "0"}, {"-chargers", "0"}, {"-commander", "sms"}, {"extra"}} {
		if _, err := parseOptions(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseOptions(%q) accepted", args)
		}
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4 = %v", m)
	}
}
