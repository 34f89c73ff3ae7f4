package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestRunLoadSelf(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"gateway mix", []string{"-protocol", "mix"}},
		{"bus 2.0.1", []string{"-protocol", "2.0.1", "-commander", "bus"}},
		{"split", []string{"-split"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-self", "-json", "-chargers", "15", "-rate", "300", "-heartbeat-rate", "200",
				"-status-rate", "50", "-meter-rate", "50", "-commands-rate", "40", "-duration", "400ms"}, tt.args...)
			var out, errb bytes.Buffer
			if err := runLoad(t.Context(), args, os.Getenv, &out, &errb); err != nil {
				t.Fatalf("runLoad: %v\n%s", err, errb.String())
			}
			var res loadResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			r := res.Report
			if r.Connected != 15 || r.Errors != 0 {
				t.Errorf("connected %d, errors %d %v; want 15, 0", r.Connected, r.Errors, r.ErrorSamples)
			}
			if r.Heartbeat.Count == 0 || r.Status.Count == 0 || r.Meter.Count == 0 || r.Command.Count == 0 {
				t.Errorf("some kind was never answered: %+v", r)
			}
			if tt.name == "split" && r.ServerBytesPerCharger == 0 {
				t.Errorf("split run measured no server memory")
			}
			if tt.name != "split" && res.ProcessBytesPerCharger == 0 {
				t.Errorf("self run measured no process memory")
			}
		})
	}
}

// TestRunLoadUpstreamSelf runs the load through chargedesk in proxy mode in
// front of a second chargedesk, in-process or in a child process: the
// Heartbeats the load counts are the ones the upstream answered.
func TestRunLoadUpstreamSelf(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantMode string
	}{
		{"one process", nil, "self-proxy"},
		{"split", []string{"-split"}, "self-proxy-split"},
		{"upstream child", []string{"-upstream-split"}, "self-proxy-upstream-child"},
		{"split, upstream child", []string{"-split", "-upstream-split"}, "self-proxy-split-upstream-child"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-self", "-upstream-self", "-json", "-chargers", "10", "-rate", "300", "-heartbeat-rate", "100",
				"-status-rate", "20", "-commands-rate", "20", "-duration", "400ms"}, tt.args...)
			var out, errb bytes.Buffer
			if err := runLoad(t.Context(), args, os.Getenv, &out, &errb); err != nil {
				t.Fatalf("runLoad: %v\n%s", err, errb.String())
			}
			var res loadResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			r := res.Report
			if r.Connected != 10 || r.Errors != 0 {
				t.Errorf("connected %d, errors %d %v; want 10, 0", r.Connected, r.Errors, r.ErrorSamples)
			}
			if res.Mode != tt.wantMode || res.Upstream == "" {
				t.Errorf("mode %q, upstream %q; want %q and a URL", res.Mode, res.Upstream, tt.wantMode)
			}
			rc := res.Relay
			if rc == nil {
				t.Fatal("no relay counts")
			}
			answered := uint64(r.Heartbeat.Count + r.Status.Count)
			if r.Heartbeat.Count == 0 || r.Command.Count == 0 || rc.Timeouts != 0 || rc.Relayed < answered || rc.UpstreamCalls < answered ||
				rc.Heartbeats < uint64(r.Heartbeat.Count) || rc.HeartbeatMeanSecs <= 0 {
				t.Errorf("heartbeats %d, status %d, commands %d, relay %+v: want every CALL relayed to the upstream, no timeout",
					r.Heartbeat.Count, r.Status.Count, r.Command.Count, *rc)
			}
		})
	}
}

// TestLoadFilesPerCharger checks the descriptors the measured process holds
// per charger in each arrangement.
func TestLoadFilesPerCharger(t *testing.T) {
	tests := []struct {
		o    loadOptions
		want int
	}{
		{loadOptions{}, 2},
		{loadOptions{split: true}, 1},
		{loadOptions{upstreamSelf: true}, 4},
		{loadOptions{upstreamSelf: true, split: true}, 3},
		{loadOptions{upstreamSelf: true, upstreamSplit: true}, 3},
		{loadOptions{upstreamSelf: true, upstreamSplit: true, split: true}, 2},
	}
	for _, tt := range tests {
		if got := loadFilesPerCharger(tt.o); got != tt.want {
			t.Errorf("loadFilesPerCharger(%+v) = %d, want %d", tt.o, got, tt.want)
		}
	}
}

func TestRunLoadTable(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"-self", "-chargers", "5", "-heartbeat-rate", "50", "-commands-rate", "10", "-duration", "200ms"}
	if err := runLoad(t.Context(), args, os.Getenv, &out, &errb); err != nil {
		t.Fatalf("runLoad: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"chargers connected  5 of 5", "Heartbeat", "operator command", "errors  0"} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunLoadBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"neither url nor self", nil},
		{"both", []string{"-self", "-url", "ws://127.0.0.1:1/ocpp"}},
		{"split without self", []string{"-url", "ws://127.0.0.1:1/ocpp", "-split"}},
		{"upstream-self without self", []string{"-url", "ws://127.0.0.1:1/ocpp", "-upstream-self"}},
		{"upstream-split without upstream-self", []string{"-self", "-split", "-upstream-split"}},
		{"bad protocol", []string{"-self", "-protocol", "1.5"}},
		{"bad commander", []string{"-self", "-chargers", "1", "-commander", "http"}},
		{"extra argument", []string{"-self", "extra"}},
		{"too many chargers", []string{"-url", "ws://127.0.0.1:1/ocpp", "-chargers", "300000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := runLoad(t.Context(), tt.args, os.Getenv, &out, &errb); err == nil {
				t.Errorf("runLoad(%q) succeeded", tt.args)
			}
		})
	}
}

// TestLoadMeasure runs a full load measurement when CHARGEDESK_LOAD=1, with
// the flags in CHARGEDESK_LOAD_ARGS (default: -self -chargers 1000), and
// prints the table. BENCHMARKS.md lists the runs.
//
//	CHARGEDESK_LOAD=1 CHARGEDESK_LOAD_ARGS="-self -split -chargers 10000" \
//	  go test -run TestLoadMeasure -v -timeout 10m ./cmd/chargedesk/
//
// With -upstream-self the measured chargedesk runs in proxy mode in front
// of a second chargedesk, in-process or, with -upstream-split, in a child
// process of its own; the relay's added latency is the difference with a
// run without it (same flags otherwise).
func TestLoadMeasure(t *testing.T) {
	if os.Getenv("CHARGEDESK_LOAD") != "1" {
		t.Skip("set CHARGEDESK_LOAD=1 to run the load measurement")
	}
	args := strings.Fields(os.Getenv("CHARGEDESK_LOAD_ARGS"))
	if len(args) == 0 {
		args = []string{"-self", "-chargers", "1000"}
	}
	var out bytes.Buffer
	if err := runLoad(t.Context(), args, os.Getenv, &out, os.Stderr); err != nil {
		t.Fatalf("runLoad: %v\n%s", err, out.String())
	}
	t.Logf("chargedesk sim -load %s\n%s", strings.Join(args, " "), out.String())
}
