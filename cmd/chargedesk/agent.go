package main

import (
	"context"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/policy"
)

// agentAPI adapts the support agent and the policy's kill switch to what
// the API needs.
type agentAPI struct {
	agent *agent.Agent
	rules *policy.Rules
}

var _ httpapi.Agent = agentAPI{}

func (a agentAPI) Start(ctx context.Context, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, error) {
	return a.agent.Start(ctx, ch, from, lang)
}

func (a agentAPI) Open(ctx context.Context, id string, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, bool, error) {
	return a.agent.Open(ctx, id, ch, from, lang)
}

func (a agentAPI) Reply(ctx context.Context, id, text string) (string, *chargedesk.Conversation, error) {
	r, err := a.agent.Handle(ctx, id, text)
	return r.Text, r.Conversation, err
}

func (a agentAPI) SetEnabled(on bool) { a.rules.SetAgentEnabled(on) }
func (a agentAPI) Enabled() bool      { return a.rules.AgentEnabled() }
