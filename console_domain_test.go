package chargedesk

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTicketUrgency(t *testing.T) {
	for _, tt := range []struct {
		category, evidence string
		want               Urgency
	}{
		{CategoryHardwareDamage, "", UrgencySafety},
		{"field_service", `{"hazard":true,"report":"smoke"}`, UrgencySafety},
		{"human_review", `{"problem":"hardware_damage","hazard":false}`, UrgencySafety},
		{"field_service", `{"hazard":false}`, UrgencyOther},
		{"field_service", `{"hazard":"true"}`, UrgencyOther},
		{"field_service", `{"Hazard":true}`, UrgencyOther}, // keys match exactly
		{CategoryConnectorStuck, "", UrgencyBlocked},
		{"outage", `{"cause":"comm_drop"}`, UrgencyBlocked},
		{"human_review", `{"problem":"session_wont_start"}`, UrgencyBlocked},
		{"billing", `{"problem":"payment_failure"}`, UrgencyBlocked},
		{"account", `{"problem":"rfid_failure"}`, UrgencyBlocked},
		{"human_review", `{"problem":"outage"}`, UrgencyOther}, // a queue, not a problem
		{"field_service", `{"problem":"slow_charging"}`, UrgencyOther},
		{"billing", `{"problem":7}`, UrgencyOther},
		{"billing", `[{"hazard":true}]`, UrgencyOther},
		{CategoryBillingDispute, "", UrgencyOther},
	} {
		tk := &Ticket{Category: tt.category, Evidence: json.RawMessage(tt.evidence)}
		if got := tk.Urgency(); got != tt.want {
			t.Errorf("%s %s: %v, want %v", tt.category, tt.evidence, got, tt.want)
		}
	}
	if UrgencySafety.String() != "safety" || UrgencyBlocked.String() != "blocked" || UrgencyOther.String() != "other" {
		t.Error("urgency names")
	}
}

func TestTicketCommentValidate(t *testing.T) {
	ok := TicketComment{TicketID: "T-1", Author: "console:ada", Body: "line one\n\tline two"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]TicketComment{
		"no ticket":  {Author: "a", Body: "x"},
		"no author":  {TicketID: "T-1", Body: "x"},
		"blank":      {TicketID: "T-1", Author: "a", Body: " \n\t"},
		"too long":   {TicketID: "T-1", Author: "a", Body: strings.Repeat("x", MaxCommentLen+1)},
		"NUL":        {TicketID: "T-1", Author: "a", Body: "a\x00b"},
		"CR":         {TicketID: "T-1", Author: "a", Body: "a\rb"},
		"not UTF-8":  {TicketID: "T-1", Author: "a", Body: "\xc3"},
		"long id":    {TicketID: strings.Repeat("t", 65), Author: "a", Body: "x"},
		"bad author": {TicketID: "T-1", Author: "\xff", Body: "x"},
	} {
		if err := c.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSettingValidate(t *testing.T) {
	for _, k := range []string{"agent.enabled", "agent.playbook.stuck", "a-b_c.9"} {
		if err := (&Setting{Key: k, Value: "true"}).Validate(); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	for _, s := range []Setting{{Key: ""}, {Key: "Agent"}, {Key: "a/b"}, {Key: strings.Repeat("k", 101)},
		{Key: "k", Value: strings.Repeat("v", MaxSettingValueLen+1)}, {Key: "k", UpdatedBy: strings.Repeat("b", 201)}} {
		if err := s.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

func TestBrokenAuditEntry(t *testing.T) {
	if seq, ok := BrokenAuditEntry(AuditChainBroken(42, "hash does not match")); !ok || seq != 42 {
		t.Fatalf("= %d %v", seq, ok)
	}
	for _, err := range []error{nil, Errorf(EINTERNAL, "database on fire"), Errorf(EINVALID, "audit chain broken at entry 3: x"),
		Errorf(EINTERNAL, "audit chain broken at entry x: y"), Errorf(EINTERNAL, "audit chain broken at entry 0: y")} {
		if seq, ok := BrokenAuditEntry(err); ok {
			t.Errorf("%v names entry %d", err, seq)
		}
	}
}
