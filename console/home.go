package console

import (
	"net/http"

	"github.com/chargedesk/chargedesk"
)

// overviewCap bounds what the overview counts; past it, it says "+".
const overviewCap = 1000

// home is the overview: the fleet's connections, open conversations and
// tickets, and whether the agent is on.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	chargers, err := c.cfg.Store.Chargers(ctx, chargedesk.ChargerFilter{Limit: overviewCap})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	connected := 0
	for _, ch := range chargers {
		if ch.Connected {
			connected++
		}
	}
	convs, err := c.cfg.Store.Conversations(ctx, chargedesk.ConversationFilter{Status: chargedesk.ConversationOpen, Limit: overviewCap})
	if err != nil {
		c.failErr(w, r, err)
		return
	}
	open := 0
	for _, st := range []chargedesk.TicketStatus{chargedesk.TicketOpen, chargedesk.TicketAssigned} {
		ts, err := c.cfg.Store.Tickets(ctx, chargedesk.TicketFilter{Status: st, Limit: overviewCap})
		if err != nil {
			c.failErr(w, r, err)
			return
		}
		open += len(ts)
	}
	c.show(w, r, "home", "", "Overview", map[string]any{
		"Chargers": len(chargers), "Connected": connected, "More": len(chargers) == overviewCap || len(convs) == overviewCap,
		"OpenConversations": len(convs), "OpenTickets": open,
		"AgentOn": c.cfg.Agent == nil || c.cfg.Agent.AgentEnabled(),
	})
}
