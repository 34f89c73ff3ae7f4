// Package console is the operator console: a network's staff sign in under
// /console to see the fleet and the live conversations, take over from the
// agent, work tickets, check the audit log and get their uptime reports.
//
// Pages are rendered on the server (html/template) with embedded assets
// and a little hand-written JavaScript; live views are Server-Sent Events
// fed from the bus, so they work the same on one node or many. Every
// state-changing request needs a signed-in session of a role that allows
// it and the session's CSRF token, and is audited with the operator as the
// actor.
package console

import (
	"context"
	"embed"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/sse"
	"github.com/chargedesk/chargedesk/policy"
)

//go:embed templates static
var assets embed.FS

// Defaults of Config.
const (
	DefaultSessionTTL = 12 * time.Hour
	// DefaultHashCost is bcrypt's cost for operators' passwords.
	DefaultHashCost = 12
)

// AgentSwitch is the agent's kill switch as the console sees it: with the
// agent off, it keeps talking to drivers but sends nothing to chargers.
type AgentSwitch interface {
	AgentEnabled() bool
	SetAgentEnabled(on bool)
}

// Config is what the console needs. Store, Operators and Commands are
// required.
type Config struct {
	Store     chargedesk.Store
	Operators chargedesk.OperatorStore
	// Commands sends an operator's remote commands: the policy gateway, as
	// for the API and the agent.
	Commands chargedesk.Commander
	// Agent, when set, lets an admin switch the agent off and on.
	Agent AgentSwitch
	// Assistant, when set, lets an operator take a conversation over from
	// the agent and hand it back, and shows what the agent found.
	Assistant Assistant
	// Outbound, when set, reaches drivers on their channel: the notices
	// of a takeover and a hand back, what an operator writes. Without it
	// nothing is sent (the web chat's page reads the transcript itself).
	Outbound chargedesk.Outbound
	// Feed, when set, wakes the live views at each conversation change on
	// any node (the bus); without it they read the store every 2 s.
	Feed chargedesk.ConversationFeed
	// Switches, when set, are the agent's switches as stored for every
	// node — the kill switch (the same as Agent's) and one per playbook —
	// which the agent page shows and an admin throws.
	Switches *policy.Switches
	// Playbooks names the agent's playbooks in the order the agent page
	// lists them (agent.Playbooks).
	Playbooks []string
	// Limits are the policy's limits on the agent as configured; the
	// agent page shows them with the defaults applied.
	Limits policy.AgentLimits
	// Comments, when set, keeps operators' comments on tickets; without
	// it the ticket page takes none.
	Comments chargedesk.TicketCommentStore
	// Events, when set, feeds the live views (a charger's page) with
	// chargers' events: the bus.
	Events EventSource
	// Reports keeps what the reports read (port history, uptime
	// exclusions, support figures); nil means Store, when it keeps them
	// (sqlstore does).
	Reports chargedesk.ReportStore
	// Upstream, in proxy mode, shows on a charger's page its link to the
	// network's central system and what is held for it.
	Upstream chargedesk.UpstreamStore
	// Secure marks the session cookie Secure: set it when the console is
	// served over TLS (directly or behind a proxy).
	Secure bool
	// SessionTTL is how long a sign-in lasts (DefaultSessionTTL).
	SessionTTL time.Duration
	// HashCost is bcrypt's cost for new password hashes (DefaultHashCost;
	// tests lower it).
	HashCost int
	Logger   *slog.Logger
	Now      func() time.Time
}

// Console is the operator console's handler and what it keeps in memory
// (the sign-in attempt limiter).
type Console struct {
	cfg      Config
	log      *slog.Logger
	pages    *pages
	attempts *attempts
	mux      *http.ServeMux
	// streams bounds the live views open at once.
	streams *sse.Limiter
	// live is the charger pages' streams' heartbeat and longest life.
	live liveTiming
	// uptime keeps recent months' uptime reports.
	uptime uptimeCache
}

// New returns the console for cfg.
func New(cfg Config) (*Console, error) {
	if cfg.Store == nil || cfg.Operators == nil || cfg.Commands == nil {
		return nil, errors.New("console: config needs a Store, an OperatorStore and a Commander")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.HashCost == 0 {
		cfg.HashCost = DefaultHashCost
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Reports == nil {
		cfg.Reports, _ = cfg.Store.(chargedesk.ReportStore)
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, log: cfg.Logger, pages: p, attempts: newAttempts(cfg.Now), mux: http.NewServeMux(),
		streams: sse.NewLimiter(maxStreams, maxStreamsPerOp), live: liveTiming{heartbeat: liveHeartbeat, maxAge: liveMaxAge}}
	c.routes()
	return c, nil
}

// ServeHTTP serves everything under /console with the console's security
// headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// routes registers every page and action. view, work and admin wrap a
// handler with the role it needs; GETs need no CSRF token, everything
// else does.
func (c *Console) routes() {
	m := c.mux
	m.Handle("GET /console/static/", http.StripPrefix("/console/", staticFiles()))
	m.HandleFunc("GET /console/signin", c.signinPage)
	m.HandleFunc("POST /console/signin", c.signin)
	m.Handle("POST /console/signout", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.signout)))
	m.Handle("GET /console/{$}", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.home)))
	// tickets
	m.Handle("GET /console/tickets", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.ticketQueue)))
	m.Handle("GET /console/tickets/{id}", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.ticketPage)))
	m.Handle("POST /console/tickets/{id}/assign", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.ticketAssign)))
	m.Handle("POST /console/tickets/{id}/comment", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.ticketComment)))
	m.Handle("POST /console/tickets/{id}/resolve", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.ticketResolve)))
	m.Handle("POST /console/tickets/{id}/reopen", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.ticketReopen)))
	// audit
	m.Handle("GET /console/audit", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.auditSearch)))
	m.Handle("GET /console/audit/{seq}", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.auditEntry)))
	m.Handle("POST /console/audit/verify", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.auditVerify)))
	m.Handle("GET /console/audit/verify", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.auditVerify)))
	// agent
	m.Handle("GET /console/agent", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.agentPage)))
	m.Handle("POST /console/agent/switch", c.need(chargedesk.RoleAdmin, http.HandlerFunc(c.agentSwitch)))
	m.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	// conversations
	m.Handle("GET /console/conversations", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.conversations)))
	m.Handle("GET /console/conversations/events", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.listEvents)))
	m.Handle("GET /console/conversations/{id}", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.conversation)))
	m.Handle("GET /console/conversations/{id}/events", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.conversationEvents)))
	m.Handle("POST /console/conversations/{id}/takeover", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.takeOver)))
	m.Handle("POST /console/conversations/{id}/handback", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.handBack)))
	m.Handle("POST /console/conversations/{id}/messages", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.message)))
	c.fleetRoutes(m)
	m.Handle("GET /console/reports", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.reportsPage)))
	m.Handle("GET /console/reports/uptime.csv", c.need(chargedesk.RoleViewer, http.HandlerFunc(c.uptimeCSV)))
	m.Handle("POST /console/reports/exclusions", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.addExclusion)))
	m.Handle("POST /console/reports/exclusions/{id}/delete", c.need(chargedesk.RoleOperator, http.HandlerFunc(c.deleteExclusion)))
	m.HandleFunc("/console/", c.notFound)
}

// staticFiles serves the embedded CSS and JavaScript, cached briefly.
func staticFiles() http.Handler {
	fs := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fs.ServeHTTP(w, r)
	})
}

// audit records an operator's action in the audit log: kind names it
// ("console.signin", "console.takeover"), target is what it was done to
// (a conversation, a ticket), outcome how it went.
func (c *Console) audit(ctx context.Context, op *chargedesk.Operator, kind, target, outcome, reason string) {
	e := &chargedesk.AuditEntry{At: c.cfg.Now(), Actor: chargedesk.ConsoleActorPrefix + op.Username, CommandID: target,
		Kind: kind, Stage: chargedesk.AuditOutcome, Allowed: true, Outcome: outcome, Reason: reason}
	if err := c.cfg.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		c.log.Error("console: audit an operator's action", "kind", kind, "operator", op.Username, "err", err)
	}
}
