package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/prometheus/client_golang/prometheus"
)

// MaxBodyBytes bounds every request body; a larger body is answered with
// 413 and code "invalid".
const MaxBodyBytes = 1 << 20

// MinAPIKeyLen is the shortest operator API key New accepts.
const MinAPIKeyLen = 16

// Config holds what the API needs. Store and Commands are required.
type Config struct {
	// Store is where chargers, transactions, tokens, events and the audit
	// log are read and written.
	Store chargedesk.Store
	// Commands sends remote commands through the policy and audit gateway.
	Commands chargedesk.Commander
	// APIKeys maps each operator API key to its name. The name becomes the
	// actor "operator:<name>" of every command sent with that key. An empty
	// map makes every /api/v1 request fail with 401.
	APIKeys map[string]string
	// Ready reports whether the process can serve (for /readyz); nil means
	// Store.Ping.
	Ready func(ctx context.Context) error
	// Metrics serves /metrics; nil leaves /metrics unrouted (404).
	Metrics http.Handler
	// Registerer, when set, receives the API's own request metrics.
	Registerer prometheus.Registerer
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Agent, when set, adds the conversation API, the agent's kill switch
	// and the web chat (/chat).
	Agent Agent
	// Sim, when set, adds the /api/v1/sim routes that drive a simulated
	// fleet (faults, driver actions); chargedesk demo sets it.
	Sim SimControl
	// Twilio, when set with an auth token, adds the Twilio webhooks
	// (/twilio/sms for SMS when Agent and Twilio.SMS are set).
	Twilio *TwilioConfig
	// Feed, when set, tells the web chat's event stream at once of the
	// turns stored on any node (the bus); without it the stream reads the
	// store every second.
	Feed chargedesk.ConversationFeed
	// Upstream, in proxy mode, is the server's default upstream URL; with
	// UpstreamStore it adds /api/v1/chargers/{id}/upstream (the charger's
	// route, link and held messages).
	Upstream      string
	UpstreamStore chargedesk.UpstreamStore
	// Now is the clock used for token timestamps; nil means time.Now.
	Now func() time.Time
}

// New returns the API's handler: all routes of routes.go behind JSON
// answers for unknown paths and methods, and, when cfg.Registerer is set,
// request metrics. It fails when a required dependency is missing, an API
// key or name is unusable, or the metrics cannot be registered.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("httpapi: config needs a Store")
	}
	if cfg.Commands == nil {
		return nil, errors.New("httpapi: config needs a Commander")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Ready == nil {
		cfg.Ready = cfg.Store.Ping
	}
	keys, err := newKeyring(cfg.APIKeys)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	mux := http.NewServeMux()
	addRoutes(mux, cfg, keys)
	var h http.Handler = jsonFallback(mux)
	if cfg.Registerer != nil {
		m, err := newMetrics(cfg.Registerer)
		if err != nil {
			return nil, fmt.Errorf("httpapi: %w", err)
		}
		h = m.instrument(h)
	}
	return h, nil
}

// jsonFallback serves mux, but answers requests that match no route (404)
// or match a route with another method (405) with the API's JSON error body
// instead of the mux's plain text.
func jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(&fallbackWriter{ResponseWriter: w}, r)
	})
}

// fallbackWriter replaces a 404 or 405 plain-text body with a JSON error
// and passes anything else (redirects to a canonical path) through.
type fallbackWriter struct {
	http.ResponseWriter
	replaced bool
}

func (f *fallbackWriter) WriteHeader(status int) {
	switch status {
	case http.StatusNotFound:
		f.replaced = true
		writeErrorBody(f.ResponseWriter, status, chargedesk.ENOTFOUND, "no such route")
	case http.StatusMethodNotAllowed:
		f.replaced = true
		writeErrorBody(f.ResponseWriter, status, chargedesk.EINVALID, "method not allowed on this route")
	default:
		f.ResponseWriter.WriteHeader(status)
	}
}

func (f *fallbackWriter) Write(b []byte) (int, error) {
	if f.replaced {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (f *fallbackWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }
