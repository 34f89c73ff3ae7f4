package twilio

import (
	"sync"

	"github.com/chargedesk/chargedesk"
)

// doing keeps, per call answered on this node, what the agent has started
// doing with a charger and the line has not said yet, for the <Gather>
// holding loop: its next holding line tells the command in flight ("I'm
// restarting the charger now") rather than only asking the caller to
// wait. A poll that reaches another node finds nothing here and holds
// with the usual line.
type doing struct {
	mu    sync.Mutex
	calls map[string]*callDoing
}

// callDoing is one turn's command lines: the latest not said yet, and
// those said (each is said once a turn). The relay keeps one per turn; the
// <Gather> line keeps them in doing, across its polls.
type callDoing struct {
	pending string          // the line of the latest command not said yet
	said    map[string]bool // command lines said this turn
}

// begin starts a turn of call id and returns the Progress that feeds it.
func (d *doing) begin(id string) chargedesk.Progress {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.calls == nil {
		d.calls = map[string]*callDoing{}
	}
	cd := newCallDoing()
	d.calls[id] = cd
	return func(cmd chargedesk.Command) {
		d.mu.Lock()
		defer d.mu.Unlock()
		cd.note(cmd)
	}
}

// end forgets the turn of call id once the agent has answered.
func (d *doing) end(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.calls, id)
}

// next returns the line of a command in flight not said yet, or otherwise.
func (d *doing) next(id, otherwise string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cd := d.calls[id]; cd != nil {
		return cd.take(otherwise)
	}
	return otherwise
}

func newCallDoing() *callDoing { return &callDoing{said: map[string]bool{}} }

// note records the line of cmd as pending, unless it has none or was said
// this turn; it reports whether it did.
func (cd *callDoing) note(cmd chargedesk.Command) bool {
	key := doingLine(cmd)
	if key == "" || cd.said[key] {
		return false
	}
	cd.pending = key
	return true
}

// take returns the pending line, now said, or otherwise.
func (cd *callDoing) take(otherwise string) string {
	if cd.pending == "" {
		return otherwise
	}
	key := cd.pending
	cd.said[key], cd.pending = true, ""
	return key
}
