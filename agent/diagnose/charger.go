package diagnose

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// chargerRules judges the charger as a whole: connection, silence and boot.
// It reports whether the connectors' statuses are live enough to judge.
func (d *diag) chargerRules(ch *chargedesk.Charger) bool {
	now := d.now
	contact := latest(ch.LastSeenAt, ch.LastHeartbeatAt)
	if !ch.Connected {
		down := ch.DisconnectedAt
		if down.IsZero() {
			down = d.ev.lastDisconnect
		}
		if down.IsZero() {
			down = contact
		}
		var ev []string
		switch {
		case down.IsZero():
			ev = append(ev, fmt.Sprintf("charger %s has never connected", ch.ID))
		case now.Sub(down) < ShortDropMax:
			ev = append(ev, fmt.Sprintf("charger %s disconnected at %s: a short drop, chargers usually reconnect by themselves within a minute or two", ch.ID, at(down, now)))
		default:
			ev = append(ev, fmt.Sprintf("charger %s disconnected since %s (%s): a long outage, no command can reach it", ch.ID, clock(down, now), dur(now.Sub(down))))
		}
		if !contact.IsZero() {
			ev = append(ev, "last contact "+at(contact, now))
		}
		if d.ev.disconnects >= 3 {
			ev = append(ev, fmt.Sprintf("it dropped %d times in the last %s", d.ev.disconnects, dur(EventWindow)))
		}
		for _, cn := range ch.Connectors {
			if cn.ID > 0 && (d.v.ConnectorID == 0 || cn.ID == d.v.ConnectorID) && !cn.StatusAt.IsZero() {
				ev = append(ev, fmt.Sprintf("its last report for connector %d was %s at %s", cn.ID, cn.Status, clock(cn.StatusAt, now)))
			}
		}
		d.add(CodeCommDrop, 0.95, false, ev...)
		return false
	}
	if !ch.LastHeartbeatAt.IsZero() {
		d.note(fmt.Sprintf("charger %s is connected, last heartbeat %s", ch.ID, ago(ch.LastHeartbeatAt, now)))
	} else {
		d.note(fmt.Sprintf("charger %s is connected", ch.ID))
	}
	switch ch.BootStatus {
	case chargedesk.RegistrationPending, chargedesk.RegistrationRejected:
		ev := fmt.Sprintf("charger %s's last boot was answered %s", ch.ID, ch.BootStatus)
		if !ch.LastBootAt.IsZero() {
			ev += " at " + at(ch.LastBootAt, now)
		}
		d.add(CodeBootPending, 0.85, false, ev, "a charger not Accepted at boot cannot be started remotely")
	}
	if !contact.IsZero() && now.Sub(contact) >= SilentAfter {
		d.add(CodeCommDrop, 0.5, false,
			fmt.Sprintf("charger %s's socket is open but nothing was received for %s (last contact %s): the link may be dead", ch.ID, dur(now.Sub(contact)), clock(contact, now)))
	}
	return true
}

// healthy reports whether the charger is connected, accepted and talking.
func (d *diag) healthy(ch *chargedesk.Charger) bool {
	if ch == nil || !ch.Connected || ch.BootStatus == chargedesk.RegistrationPending || ch.BootStatus == chargedesk.RegistrationRejected {
		return false
	}
	c := latest(ch.LastSeenAt, ch.LastHeartbeatAt)
	return !c.IsZero() && d.now.Sub(c) < SilentAfter
}

type pick struct {
	cn     *chargedesk.Connector
	weight float64
}

// pickConnectors returns the connectors to judge, with how sure it is that
// each is the driver's. When that is not known it adds connector_unknown.
func (d *diag) pickConnectors(ch *chargedesk.Charger) []pick {
	var real []*chargedesk.Connector
	for i := range ch.Connectors {
		if ch.Connectors[i].ID > 0 {
			real = append(real, &ch.Connectors[i])
		}
	}
	ids := func(cs []*chargedesk.Connector) string {
		var b strings.Builder
		for i, c := range cs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(c.ID) + " " + string(c.Status))
		}
		return b.String()
	}
	if id := d.v.ConnectorID; id != 0 {
		if cn := ch.Connector(id); cn != nil {
			return []pick{{cn, 1}}
		}
		d.add(CodeConnectorUnknown, 0.7, false, fmt.Sprintf("charger %s has no connector %d (it has %s)", ch.ID, id, ids(real)))
		return nil
	}
	switch len(real) {
	case 0:
		d.add(CodeConnectorUnknown, 0.55, false, fmt.Sprintf("charger %s has reported no connector status yet", ch.ID))
		return nil
	case 1:
		return []pick{{real[0], 1}}
	}
	for _, tx := range d.v.Active {
		if d.callerTag(tx.IDTag) {
			if cn := ch.Connector(tx.ConnectorID); cn != nil {
				d.note(fmt.Sprintf("the caller's transaction %s runs on connector %d", tx.ID, cn.ID))
				return []pick{{cn, 0.9}}
			}
		}
	}
	if x := d.ev.find(d.now.Add(-AuthorizeWindow), func(x *exchange) bool {
		return (x.action == "RemoteStartTransaction" || x.action == "RequestStartTransaction") && x.conn > 0 && d.callerTag(x.tag)
	}); x != nil {
		if cn := ch.Connector(x.conn); cn != nil {
			d.note(fmt.Sprintf("a remote start for the caller's card targeted connector %d at %s", cn.ID, clock(x.at, d.now)))
			return []pick{{cn, 0.9}}
		}
	}
	var cand []*chargedesk.Connector
	for _, c := range real {
		if c.Status != chargedesk.StatusAvailable {
			cand = append(cand, c)
		}
	}
	if len(cand) == 1 {
		d.note(fmt.Sprintf("connector %d is the only one of charger %s not Available", cand[0].ID, ch.ID))
		return []pick{{cand[0], 0.85}}
	}
	d.add(CodeConnectorUnknown, 0.55, false, fmt.Sprintf("charger %s has %d connectors (%s) and which one is the driver's is not known", ch.ID, len(real), ids(real)))
	if len(cand) == 0 {
		cand = real
	}
	out := make([]pick, len(cand))
	for i, c := range cand {
		out[i] = pick{c, 0.7}
	}
	return out
}

// callerTag reports whether tag is one of the caller's tokens.
// cardName names a card in evidence: by its id when it is one of the
// caller's own, else only as another card. Evidence may reach the caller,
// who must never learn another driver's card id (it would serve as an
// identity claim).
func (d *diag) cardName(tag string) string {
	if d.callerTag(tag) {
		return "card " + tag
	}
	return "another card"
}

func (d *diag) callerTag(tag string) bool {
	if tag == "" {
		return false
	}
	for _, t := range d.v.Tokens {
		if t != nil && strings.EqualFold(t.IDTag, tag) {
			return true
		}
	}
	return false
}
