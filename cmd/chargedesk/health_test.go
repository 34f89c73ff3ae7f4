package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestWatchDependencies: a dependency that stops answering shows 0 in
// /metrics with one log line saying why, and 1 again with one line saying
// how long it was gone.
func TestWatchDependencies(t *testing.T) {
	var failing atomic.Bool
	var mu sync.Mutex
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchDependencies(ctx, reg, log, 10*time.Millisecond,
			dependency{"store", func(context.Context) error {
				if failing.Load() {
					return errors.New("connection refused")
				}
				return nil
			}},
			dependency{"bus", func(context.Context) error { return nil }})
	}()
	value := func(name, dep string) float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == dep {
					return m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
		return -1
	}
	gauge := func(dep string) float64 { return value("chargedesk_dependency_up", dep) }
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("store up", func() bool { return gauge("store") == 1 && gauge("bus") == 1 })
	failing.Store(true)
	wait("store down", func() bool { return gauge("store") == 0 })
	time.Sleep(50 * time.Millisecond)
	failing.Store(false)
	wait("store up again", func() bool { return gauge("store") == 1 })
	cancel()
	<-done
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Count(out, "dependency not answering") != 1 || !strings.Contains(out, "connection refused") ||
		strings.Count(out, "dependency answering again") != 1 {
		t.Errorf("log:\n%s", out)
	}
	if n := value("chargedesk_dependency_down_total", "store"); n != 1 {
		t.Errorf("down count %v", n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
