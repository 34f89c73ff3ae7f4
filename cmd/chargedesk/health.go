package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// dependency is something a node cannot work without (the store, the
// bus), and how to ask whether it answers.
type dependency struct {
	name string
	ping func(context.Context) error
}

// watchDependencies asks each dependency every interval whether it answers
// and says so in /metrics (chargedesk_dependency_up{dependency}) and, on
// every change, in the log: when it stopped answering and why, and how
// long it was gone. It runs until ctx ends.
func watchDependencies(ctx context.Context, reg prometheus.Registerer, log *slog.Logger, interval time.Duration, deps ...dependency) {
	up := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "chargedesk_dependency_up",
		Help: "1 while a dependency of this node (store, bus) answers its health check, 0 while it does not.",
	}, []string{"dependency"})
	downs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chargedesk_dependency_down_total",
		Help: "Times a dependency of this node (store, bus) stopped answering its health check.",
	}, []string{"dependency"})
	reg.MustRegister(up, downs)
	since := make([]time.Time, len(deps)) // zero: answering
	check := func() {
		for i, d := range deps {
			cctx, cancel := context.WithTimeout(ctx, interval)
			err := d.ping(cctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil && since[i].IsZero():
				since[i] = time.Now()
				up.WithLabelValues(d.name).Set(0)
				downs.WithLabelValues(d.name).Inc()
				log.Error("dependency not answering", "dependency", d.name, "err", err)
			case err == nil && !since[i].IsZero():
				log.Warn("dependency answering again", "dependency", d.name, "after", time.Since(since[i]).Round(time.Second).String())
				since[i] = time.Time{}
				up.WithLabelValues(d.name).Set(1)
			case err == nil:
				up.WithLabelValues(d.name).Set(1)
			}
		}
	}
	check()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}
