package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/policy"
)

func TestAgentPage(t *testing.T) {
	r := newRig(t)
	b := r.signedIn("vic", chargedesk.RoleViewer)
	status, body := b.get("/console/agent")
	if status != http.StatusOK {
		t.Fatalf("agent page: %d %s", status, body)
	}
	for _, want := range []string{
		"The agent is on.",
		// Every playbook with its switch.
		"<strong>session</strong>", "<strong>offline</strong>", "<strong>stuck</strong>", "<strong>rfid</strong>",
		"<strong>payment</strong>", "<strong>routed</strong>",
		// The limits in force: the one configured and the defaults.
		"<td>7 per 10m0s</td>", "<td>12 per 10m0s</td>", "<td>200 per 10m0s</td>", "<td>5m0s without energy</td>",
		"within 2s",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the agent page lacks %q", want)
		}
	}
	if strings.Count(body, `<span class="badge ok">on</span>`) != 6 {
		t.Error("not every playbook shows on")
	}
	if strings.Contains(body, `action="/console/agent/switch"`) {
		t.Error("a viewer is offered the switches")
	}
}

func TestAgentSwitches(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	admin := r.signedIn("root", chargedesk.RoleAdmin)
	_, body := admin.get("/console/agent")
	if strings.Count(body, `action="/console/agent/switch"`) != 7 || !strings.Contains(body, `data-confirm="Switch the agent off?`) {
		t.Fatal("an admin is not offered the kill switch and the six playbooks' switches")
	}
	// A second node: its own switches on the same store, its own cache.
	other := policy.NewSwitches(r.store, policy.SwitchOptions{Now: r.clock.now})
	if !other.AgentEnabled() || !other.PlaybookEnabled("stuck") {
		t.Fatal("switches start off")
	}

	status, loc, _ := admin.post("/console/agent/switch", url.Values{"name": {"agent"}, "on": {"false"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/agent?done=") {
		t.Fatalf("kill switch: %d %q", status, loc)
	}
	if r.switches.AgentEnabled() {
		t.Fatal("the console's node still has the agent on")
	}
	st, err := r.store.Setting(ctx, policy.KillSwitchKey)
	if err != nil || st.Value != "false" || st.UpdatedBy != "console:root" {
		t.Fatalf("stored kill switch %+v %v", st, err)
	}
	if status, _, _ := admin.post("/console/agent/switch", url.Values{"name": {"stuck"}, "on": {"false"}}); status != http.StatusSeeOther {
		t.Fatalf("playbook switch: %d", status)
	}
	if r.switches.PlaybookEnabled("stuck") || !r.switches.PlaybookEnabled("rfid") {
		t.Fatal("playbook switches on the console's node")
	}
	// The other node sees both once its cache is a TTL old.
	if !other.AgentEnabled() {
		t.Fatal("the other node's cache was not used")
	}
	r.clock.add(other.TTL())
	if other.AgentEnabled() || other.PlaybookEnabled("stuck") || !other.PlaybookEnabled("rfid") {
		t.Fatal("the other node does not see the switches after the TTL")
	}

	_, body = admin.get(loc)
	for _, want := range []string{"The agent is off.", "sends nothing to chargers", "Last thrown by console:root", `<span class="badge bad">off</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the agent page lacks %q", want)
		}
	}
	if _, body = admin.get("/console/"); !strings.Contains(body, "<strong>off</strong>") {
		t.Error("the overview does not show the agent off")
	}

	// Back on.
	if status, _, _ := admin.post("/console/agent/switch", url.Values{"name": {"agent"}, "on": {"true"}}); status != http.StatusSeeOther || !r.switches.AgentEnabled() {
		t.Fatalf("kill switch back on: %d", status)
	}

	// Every change is audited with the admin as actor.
	var got []string
	entries, _ := r.store.AuditEntries(ctx, chargedesk.AuditFilter{Kind: "console.agent.switch"})
	for _, e := range entries {
		if e.Actor != "console:root" {
			t.Errorf("actor %q", e.Actor)
		}
		got = append(got, e.CommandID+" "+e.Outcome+" ("+e.Reason+")")
	}
	want := "agent off (was on)|playbook:stuck off (was on)|agent on (was off)"
	if strings.Join(got, "|") != want {
		t.Fatalf("audit %q, want %q", strings.Join(got, "|"), want)
	}

	for _, bad := range []url.Values{{"name": {"teleport"}, "on": {"false"}}, {"name": {"agent"}, "on": {"maybe"}}, {"name": {"agent.enabled"}, "on": {"false"}}} {
		if status, _, _ := admin.post("/console/agent/switch", bad); status != http.StatusBadRequest {
			t.Errorf("%v: %d", bad, status)
		}
	}
}

func TestAgentSwitchesNeedAdminAndToken(t *testing.T) {
	r := newRig(t)
	for _, role := range []chargedesk.Role{chargedesk.RoleViewer, chargedesk.RoleOperator} {
		b := r.signedIn("u-"+string(role), role)
		if status, _, _ := b.post("/console/agent/switch", url.Values{"name": {"agent"}, "on": {"false"}}); status != http.StatusForbidden {
			t.Errorf("%s throws the kill switch: %d", role, status)
		}
	}
	admin := r.signedIn("root", chargedesk.RoleAdmin)
	if status, _, _ := admin.post("/console/agent/switch", url.Values{"name": {"agent"}, "on": {"false"}, "csrf": {"forged"}}); status != http.StatusForbidden {
		t.Errorf("without the session's token: %d", status)
	}
	if !r.switches.AgentEnabled() || !r.switches.PlaybookEnabled("stuck") {
		t.Fatal("a refused request threw a switch")
	}
	if entries, _ := r.store.AuditEntries(context.Background(), chargedesk.AuditFilter{Kind: "console.agent.switch"}); len(entries) != 0 {
		t.Fatalf("refused requests audited as switches: %+v", entries)
	}
}
