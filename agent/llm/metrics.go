package llm

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count and time the calls to the model and why its answers were
// not used.
type metrics struct {
	calls     prometheus.Counter
	latency   prometheus.Histogram
	fallbacks *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargedesk_llm_calls_total",
			Help: "Messages the offline understander was unsure of and sent to the language model.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chargedesk_llm_call_duration_seconds",
			Help:    "Time from sending a message to the language model to its answer or the fallback.",
			Buckets: []float64{.05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5},
		}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargedesk_llm_fallbacks_total",
			Help: "Calls to the language model whose answer was not used, by reason (timeout, http, malformed, schema, refusal); the offline result stood.",
		}, []string{"reason"}),
	}
	for _, r := range reasons {
		m.fallbacks.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.calls, m.latency, m.fallbacks} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register language model metrics: %w", err)
		}
	}
	return m, nil
}
