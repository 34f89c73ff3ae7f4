package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/policy"
)

// killSwitchName names the kill switch in the agent page's form; the
// playbooks go by their own names.
const killSwitchName = "agent"

// playbookAbout says what each playbook does, for the agent page.
var playbookAbout = map[string]string{
	"session": "A session that will not start: clears stale sessions, soft-resets a hung charger, starts for the verified driver.",
	"offline": "A charger offline or unavailable: asks for a fresh status, puts a connector back in service, waits for a dropped link.",
	"stuck":   "A cable that will not come out: unlocks the connector, ends the driver's own session first.",
	"rfid":    "A charging card refused: updates the charger's local list, clears its cache, starts for the verified driver.",
	"payment": "A payment refused: retries, re-syncs the account, releases stray holds, sends a pay link.",
	"routed":  "Slow charging, damage and hazards (takes a connector out of service), billing disputes.",
}

// switchRow is one switch on the agent page.
type switchRow struct {
	Name, About string
	On          bool
	// By and At say who threw it last; empty when never thrown.
	By string
	At time.Time
}

// limitRow is one of the policy's limits.
type limitRow struct{ Name, Value string }

// agentPage shows the kill switch, each playbook's switch and the limits
// the policy holds the agent to. Viewers see; admins throw the switches.
func (c *Console) agentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var stored map[string]*chargedesk.Setting
	if c.cfg.Switches != nil {
		var err error
		if stored, err = c.cfg.Switches.Stored(ctx); err != nil {
			c.failErr(w, r, err)
			return
		}
	}
	row := func(name, about, key string) switchRow {
		sr := switchRow{Name: name, About: about, On: true}
		if st := stored[key]; st != nil {
			sr.On, sr.By, sr.At = policy.SwitchOn(st), st.UpdatedBy, st.UpdatedAt
		}
		return sr
	}
	kill := row(killSwitchName, "", policy.KillSwitchKey)
	if c.cfg.Switches == nil {
		kill.On = c.cfg.Agent == nil || c.cfg.Agent.AgentEnabled()
	}
	var playbooks []switchRow
	if c.cfg.Switches != nil {
		for _, name := range c.cfg.Playbooks {
			playbooks = append(playbooks, row(name, playbookAbout[name], policy.PlaybookKey(name)))
		}
	}
	l := c.cfg.Limits.WithDefaults()
	limits := []limitRow{
		{"Commands per charger", itoa(l.PerCharger) + " per " + l.Window.String()},
		{"Commands per conversation (or driver)", itoa(l.PerConversation) + " per " + l.Window.String()},
		{"Commands network-wide", itoa(l.Network) + " per " + l.Window.String()},
		{"Retries of the same command", itoa(l.Retries) + " per " + l.Window.String()},
		{"A session counts as stale after", l.StaleAfter.String() + " without energy"},
		{"Commands the agent may send", agentKindsText(l.Allowed)},
	}
	data := map[string]any{"Kill": kill, "Playbooks": playbooks, "Limits": limits,
		"Switchable": c.cfg.Switches != nil || c.cfg.Agent != nil, "Stored": c.cfg.Switches != nil}
	if c.cfg.Switches != nil {
		data["TTL"] = c.cfg.Switches.TTL().String()
	}
	c.show(w, r, "agent", "agent", "Agent", data)
}

// agentSwitch throws the kill switch or a playbook's switch (admins only)
// and audits it.
func (c *Console) agentSwitch(w http.ResponseWriter, r *http.Request) {
	if !c.parseForm(w, r) {
		return
	}
	name := r.PostForm.Get("name")
	var on bool
	switch r.PostForm.Get("on") {
	case "true":
		on = true
	case "false":
	default:
		c.fail(w, r, http.StatusBadRequest, "A switch goes on (true) or off (false).")
		return
	}
	si := operatorOf(r.Context())
	by := chargedesk.ConsoleActorPrefix + si.op.Username
	var was bool
	var err error
	target := killSwitchName
	switch {
	case name == killSwitchName && c.cfg.Switches != nil:
		was = c.storedPosition(r.Context(), policy.KillSwitchKey)
		err = c.cfg.Switches.Set(r.Context(), policy.KillSwitchKey, on, by)
	case name == killSwitchName && c.cfg.Agent != nil:
		was = c.cfg.Agent.AgentEnabled()
		c.cfg.Agent.SetAgentEnabled(on)
	case c.cfg.Switches != nil && slices.Contains(c.cfg.Playbooks, name):
		target = "playbook:" + name
		was = c.storedPosition(r.Context(), policy.PlaybookKey(name))
		err = c.cfg.Switches.Set(r.Context(), policy.PlaybookKey(name), on, by)
	default:
		c.fail(w, r, http.StatusBadRequest, "There is no such switch.")
		return
	}
	if err != nil {
		c.auditSwitch(r.Context(), si.op, target, on, was, err)
		c.failErr(w, r, err)
		return
	}
	c.auditSwitch(r.Context(), si.op, target, on, was, nil)
	msg := "The agent is on: it acts on chargers again."
	switch {
	case target != killSwitchName && on:
		msg = "Playbook " + name + " is on."
	case target != killSwitchName:
		msg = "Playbook " + name + " is off: the agent hands those cases to people."
	case !on:
		msg = "The agent is off: it keeps talking to drivers but sends nothing to chargers."
	}
	http.Redirect(w, r, "/console/agent?done="+url.QueryEscape(msg), http.StatusSeeOther)
}

// storedPosition reads switch key from the store (the cache when the
// store cannot be read): what it was before an admin throws it.
func (c *Console) storedPosition(ctx context.Context, key string) bool {
	stored, err := c.cfg.Switches.Stored(ctx)
	if err != nil {
		return c.cfg.Switches.Enabled(key)
	}
	return policy.SwitchOn(stored[key])
}

// auditSwitch records a switch thrown, or an attempt that failed.
func (c *Console) auditSwitch(ctx context.Context, op *chargedesk.Operator, target string, on, was bool, err error) {
	pos := map[bool]string{true: "on", false: "off"}
	outcome, reason := pos[on], "was "+pos[was]
	if err != nil {
		outcome, reason = "failed", "switching "+pos[on]+": "+chargedesk.ErrorMessage(err)
	}
	c.audit(ctx, op, "console.agent.switch", target, outcome, reason)
}

// agentKindsText names the commands the agent may send: all it may at all
// (a reset only soft, a local list only differential), or the operator's
// narrower list.
func agentKindsText(allowed []chargedesk.CommandKind) string {
	kinds := policy.AgentKinds()
	if len(allowed) > 0 {
		kinds = slices.DeleteFunc(kinds, func(k chargedesk.CommandKind) bool { return !slices.Contains(allowed, k) })
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		switch k {
		case chargedesk.CmdReset:
			names[i] = "soft Reset"
		case chargedesk.CmdSendLocalList:
			names[i] = "differential SendLocalList"
		default:
			names[i] = string(k)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	text := strings.Join(names, ", ")
	if len(allowed) > 0 {
		text += " (narrowed by CHARGEDESK_AGENT_COMMANDS)"
	}
	return text
}
