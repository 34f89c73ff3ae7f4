package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
)

func TestAgentCommandsSetting(t *testing.T) {
	cfg, err := parseConfig("serve", nil, envOf(map[string]string{"CHARGEDESK_AGENT_COMMANDS": "UnlockConnector, TriggerMessage,UnlockConnector"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []chargedesk.CommandKind{chargedesk.CmdUnlockConnector, chargedesk.CmdTriggerMessage}
	if !slices.Equal(cfg.AgentCommands, want) {
		t.Fatalf("agent commands %v, want %v", cfg.AgentCommands, want)
	}
	if cfg, err := parseConfig("serve", nil, envOf(nil), io.Discard); err != nil || cfg.AgentCommands != nil {
		t.Fatalf("default: %v %v", cfg.AgentCommands, err)
	}
	for _, bad := range []string{"ChangeConfiguration", "Unlock", "DataTransfer"} {
		if _, err := parseConfig("serve", []string{"-agent-commands", bad}, envOf(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "agent may send") {
			t.Errorf("-agent-commands %s: %v", bad, err)
		}
	}
}
