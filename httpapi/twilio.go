package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/twilio"
	"github.com/prometheus/client_golang/prometheus"
)

// TwilioConfig connects chargedesk to a Twilio account. Its routes are
// mounted only when Client is set with an auth token.
type TwilioConfig struct {
	// Client holds the account (SID, auth token, public base URL, From
	// number) and calls the REST API.
	Client *twilio.Client
	// SMS, when set, adds POST /twilio/sms: the SMS channel, which keeps
	// each number's thread and the handled message ids there.
	SMS chargedesk.SMSStore
	// SMSIdle is how long a number's conversation stays the one its next
	// message goes to (DefaultSMSIdle).
	SMSIdle time.Duration
	// SMSReplyWait is how long the SMS webhook waits for the agent before
	// answering empty and sending the reply later through the REST API
	// (DefaultSMSReplyWait; Twilio gives up on a webhook after 15 s).
	SMSReplyWait time.Duration
	// SMSLateTimeout bounds the agent's work on a message whose reply is
	// sent later, and that sending (DefaultSMSLateTimeout).
	SMSLateTimeout time.Duration
}

// enabled reports whether the Twilio routes are mounted.
func (c *TwilioConfig) enabled() bool {
	return c != nil && c.Client != nil && c.Client.Config().AuthToken != ""
}

// maxTwilioForm bounds a Twilio webhook's body (an SMS body is at most
// 1,600 characters; the other parameters are short).
const maxTwilioForm = 64 << 10

// twilioGuard refuses requests that do not carry Twilio's signature for
// the account, logging and counting each refusal.
type twilioGuard struct {
	token, public string
	refused       *prometheus.CounterVec
	log           *slog.Logger
}

// newTwilioGuard returns the guard of the account cfg; the refusal counter
// (chargedesk_twilio_signature_failures_total, by route) is registered
// with reg when set, shared when already registered.
func newTwilioGuard(cfg *TwilioConfig, reg prometheus.Registerer, log *slog.Logger) *twilioGuard {
	c := cfg.Client.Config()
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chargedesk_twilio_signature_failures_total",
		Help: "Requests to the Twilio webhooks refused because their X-Twilio-Signature did not verify, by route.",
	}, []string{"route"})
	if reg != nil {
		if err := reg.Register(refused); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
					refused = existing
				}
			} else {
				log.Error("register twilio metrics", "err", err)
			}
		}
	}
	return &twilioGuard{token: c.AuthToken, public: c.PublicBaseURL, refused: refused, log: log}
}

// form reads a webhook's form-encoded body (bounded) and verifies its
// signature; it answers 400 or 403 itself and returns ok false then.
func (g *twilioGuard) form(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTwilioForm)
	if err := r.ParseForm(); err != nil {
		writeErrorBody(w, http.StatusBadRequest, chargedesk.EINVALID, "the body is not a form of at most 64 KiB")
		return nil, false
	}
	if !g.verify(w, r, r.PostForm) {
		return nil, false
	}
	return r.PostForm, true
}

// verify checks the signature of r over form (empty for a WebSocket
// upgrade) and answers 403 when it does not verify.
func (g *twilioGuard) verify(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	if twilio.Verify(g.token, g.public, r, form) {
		return true
	}
	route := r.Pattern
	if route == "" {
		route = r.URL.Path
	}
	g.refused.WithLabelValues(route).Inc()
	g.log.Warn("twilio webhook refused: signature does not verify", "route", route,
		"remote", clientAddr(r), "signed", r.Header.Get(twilio.SignatureHeader) != "")
	writeErrorBody(w, http.StatusForbidden, chargedesk.EFORBIDDEN, "the request does not carry a valid X-Twilio-Signature")
	return false
}
