package csms

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the central system's Prometheus metrics.
type metrics struct {
	connected      prometheus.Gauge
	refused        *prometheus.CounterVec
	messages       *prometheus.CounterVec
	errors         *prometheus.CounterVec
	roundTrip      *prometheus.HistogramVec
	historyDropped prometheus.Counter

	// Proxy mode.
	upstreamUp           *prometheus.GaugeVec
	upstreamHeld         *prometheus.GaugeVec
	upstreamLatency      *prometheus.HistogramVec
	upstreamTimeouts     prometheus.Counter
	upstreamRefused      prometheus.Counter
	upstreamDialFailures prometheus.Counter
	upstreamClashes      prometheus.Counter

	// messageCounters caches the children of messages by messageKey, so
	// that counting a frame does not hash its labels each time.
	countersMu      sync.RWMutex
	messageCounters map[messageKey]prometheus.Counter
}

type messageKey struct{ action, direction, typ string }

// message returns the frame counter of an action, direction and type.
func (m *metrics) message(action, direction, typ string) prometheus.Counter {
	k := messageKey{action, direction, typ}
	m.countersMu.RLock()
	c := m.messageCounters[k]
	m.countersMu.RUnlock()
	if c != nil {
		return c
	}
	c = m.messages.WithLabelValues(action, direction, typ)
	m.countersMu.Lock()
	if m.messageCounters == nil {
		m.messageCounters = make(map[messageKey]prometheus.Counter)
	}
	m.messageCounters[k] = c
	m.countersMu.Unlock()
	return c
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chargedesk_chargers_connected", Help: "Chargers connected to this node.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargedesk_ocpp_connections_refused_total", Help: "OCPP connections refused, by HTTP status or reason.",
		}, []string{"reason"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargedesk_ocpp_messages_total", Help: "OCPP frames by action, direction (in: from chargers) and message type.",
		}, []string{"action", "direction", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chargedesk_ocpp_errors_total", Help: "OCPP CallErrors and malformed frames by code and direction.",
		}, []string{"code", "direction"}),
		roundTrip: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chargedesk_ocpp_call_duration_seconds",
			Help:    "Round trip of CALLs sent to chargers, by action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"action"}),
		historyDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargedesk_history_events_dropped_total", Help: "Frame-history events not written because the queue was full or the store failed.",
		}),
		upstreamUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargedesk_upstream_link_up", Help: "Proxy mode: 1 while a connected charger's link to the upstream central system is up, 0 while down.",
		}, []string{"charger"}),
		upstreamHeld: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chargedesk_upstream_held_messages", Help: "Proxy mode: a connected charger's messages answered locally and waiting for the upstream.",
		}, []string{"charger"}),
		upstreamLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chargedesk_upstream_relay_duration_seconds",
			Help:    "Proxy mode: round trip of charger CALLs relayed to the upstream, by action.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"action"}),
		upstreamTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargedesk_upstream_timeouts_total", Help: "Proxy mode: charger CALLs the upstream did not answer in time (answered locally).",
		}),
		upstreamRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargedesk_upstream_held_refused_total", Help: "Proxy mode: held messages the upstream answered with a CallError on delivery.",
		}),
		upstreamDialFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargedesk_upstream_dial_failures_total", Help: "Proxy mode: dials of a charger's upstream link that failed (refused, unreachable, timed out).",
		}),
		upstreamClashes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chargedesk_upstream_clashes_total", Help: "Proxy mode: chargedesk's own commands refused because an upstream command on the same connector was in flight.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.refused, m.messages, m.errors, m.roundTrip, m.historyDropped,
			m.upstreamUp, m.upstreamHeld, m.upstreamLatency, m.upstreamTimeouts, m.upstreamRefused,
			m.upstreamDialFailures, m.upstreamClashes)
	}
	return m
}
