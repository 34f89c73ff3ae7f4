package diagnose

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
)

// exchange is one CALL of interest with its answer, if any.
type exchange struct {
	action string
	at     time.Time
	msgID  string
	in     bool // sent by the charger
	// conn is the connector (1.6 connectorId) or EVSE (2.0.1 evseId) the
	// CALL is about; 0 when none or the whole charger.
	conn int
	tag  string
	// kind is ChangeAvailability's type or operationalStatus, Reset's
	// type, TransactionEvent's eventType, or a NotifyEvent's problem.
	kind     string
	answered bool
	// status is the answer's status, or the authorization verdict of an
	// Authorize or StartTransaction answer.
	status string
	// errCode is the code of a CALLERROR answer.
	errCode string
}

// eventIndex is what the rules need from a charger's event history.
type eventIndex struct {
	calls []exchange // newest first
	// disconnects counts Disconnected events within the window.
	disconnects    int
	lastDisconnect time.Time
}

// interesting lists the actions whose frames are decoded.
func interesting(action string) bool {
	switch action {
	case "Authorize", "StartTransaction", "TransactionEvent", "RemoteStartTransaction", "RequestStartTransaction",
		"ChangeAvailability", "UnlockConnector", "Reset", "BootNotification", "NotifyEvent", "SendLocalList", "ClearCache":
		return true
	}
	return false
}

type idStatus struct {
	Status string `json:"status"`
}

// payload is the union of the fields read from the decoded frames.
type payload struct {
	ConnectorID int `json:"connectorId"`
	EvseID      int `json:"evseId"`
	Evse        *struct {
		ID int `json:"id"`
	} `json:"evse"`
	IDTag   string `json:"idTag"`
	IDToken *struct {
		IDToken string `json:"idToken"`
	} `json:"idToken"`
	Type              string    `json:"type"`
	OperationalStatus string    `json:"operationalStatus"`
	EventType         string    `json:"eventType"`
	Status            string    `json:"status"`
	IDTagInfo         *idStatus `json:"idTagInfo"`
	IDTokenInfo       *idStatus `json:"idTokenInfo"`
	Code              string    `json:"code"`
	EventData         []struct {
		ActualValue string `json:"actualValue"`
		TechCode    string `json:"techCode"`
		TechInfo    string `json:"techInfo"`
		Component   struct {
			Name string `json:"name"`
			Evse *struct {
				ID int `json:"id"`
			} `json:"evse"`
		} `json:"component"`
		Variable struct {
			Name string `json:"name"`
		} `json:"variable"`
	} `json:"eventData"`
}

// needsAnswer reports whether the rules read the answers to action.
func needsAnswer(action string) bool {
	switch action {
	case "Authorize", "RemoteStartTransaction", "RequestStartTransaction", "ChangeAvailability", "UnlockConnector",
		"Reset", "SendLocalList", "ClearCache":
		return true
	}
	return false
}

// indexEvents decodes the frames the rules use. Events are newest first; it
// reads at most MaxEventsRead of them, none older than EventWindow, and
// decodes only the CALLs of the actions judged and the answers to them.
func indexEvents(events []chargedesk.Event, now time.Time) eventIndex {
	var ix eventIndex
	if len(events) > MaxEventsRead {
		events = events[:MaxEventsRead]
	}
	cutoff := now.Add(-EventWindow)
	for i := range events {
		e := &events[i]
		if e.At.Before(cutoff) {
			events = events[:i]
			break
		}
		switch e.Type {
		case chargedesk.EventDisconnected:
			ix.disconnects++
			if e.At.After(ix.lastDisconnect) {
				ix.lastDisconnect = e.At
			}
		case "CALL":
			if !interesting(e.Action) {
				continue
			}
			if e.Action == "TransactionEvent" && !bytes.Contains(e.Payload, []byte(`"Started"`)) {
				continue // only starts matter; skip decoding meter-laden updates
			}
			var p payload
			if json.Unmarshal(e.Payload, &p) != nil {
				continue
			}
			ix.addCall(e, &p)
		}
	}
	// Answers come after their CALL, so before it in the list.
	for i := range ix.calls {
		x := &ix.calls[i]
		if !needsAnswer(x.action) {
			continue
		}
		for j := range events {
			e := &events[j]
			if e.At.Before(x.at) {
				break
			}
			if e.MessageID != x.msgID || e.Type != "CALLRESULT" && e.Type != "CALLERROR" {
				continue
			}
			var p payload
			_ = json.Unmarshal(e.Payload, &p) // a malformed answer reads as empty
			x.answered, x.status = true, p.Status
			if p.IDTagInfo != nil {
				x.status = p.IDTagInfo.Status
			} else if p.IDTokenInfo != nil {
				x.status = p.IDTokenInfo.Status
			}
			if e.Type == "CALLERROR" {
				x.status, x.errCode = "", p.Code
				if x.errCode == "" {
					x.errCode = "error"
				}
			}
			break
		}
	}
	return ix
}

// addCall records a decoded CALL.
func (ix *eventIndex) addCall(e *chargedesk.Event, p *payload) {
	x := exchange{action: e.Action, at: e.At, msgID: e.MessageID, in: e.Direction == chargedesk.DirIn, conn: p.ConnectorID, tag: p.IDTag}
	switch {
	case p.Evse != nil:
		x.conn = p.Evse.ID
	case p.EvseID > 0:
		x.conn = p.EvseID
	}
	if p.IDToken != nil {
		x.tag = p.IDToken.IDToken
	}
	switch e.Action {
	case "ChangeAvailability":
		x.kind = p.Type
		if p.OperationalStatus != "" {
			x.kind = p.OperationalStatus
		}
	case "Reset":
		x.kind = p.Type
	case "TransactionEvent":
		x.kind = p.EventType
		if x.kind != "Started" {
			return
		}
	case "NotifyEvent":
		for _, ed := range p.EventData {
			prob := problemOf(ed.Component.Name, ed.Variable.Name, ed.ActualValue, ed.TechCode, ed.TechInfo)
			if prob == "" {
				continue
			}
			y := x
			y.kind, y.conn = prob, 0
			if ed.Component.Evse != nil {
				y.conn = ed.Component.Evse.ID
			}
			ix.calls = append(ix.calls, y)
		}
		return
	}
	ix.calls = append(ix.calls, x)
}

// problemOf maps a 2.0.1 NotifyEvent datum to the 1.6 error code it stands
// for, "" when it reports none; a cleared problem maps to "NoError".
func problemOf(component, variable, value, techCode, techInfo string) string {
	all := strings.ToLower(component + " " + variable + " " + techCode + " " + techInfo)
	cleared := strings.EqualFold(variable, "Problem") && strings.EqualFold(value, "false")
	code := ""
	switch {
	case strings.Contains(all, "evcommunication"):
		code = "EVCommunicationError"
	case strings.Contains(all, "retentionlock") || strings.Contains(all, "lockfailure"):
		code = "ConnectorLockFailure"
	case strings.Contains(all, "tokenreader") || strings.Contains(all, "readerfailure"):
		code = "ReaderFailure"
	case strings.Contains(all, "internalerror") || strings.Contains(all, "powerconverter") || strings.Contains(all, "powermodule"):
		code = "InternalError"
	}
	if code == "" {
		return ""
	}
	if cleared {
		return "NoError"
	}
	if strings.EqualFold(variable, "Problem") && !strings.EqualFold(value, "true") {
		return ""
	}
	return code
}

// find returns the newest exchange newer than after that match accepts, or nil.
func (ix *eventIndex) find(after time.Time, match func(*exchange) bool) *exchange {
	for i := range ix.calls {
		x := &ix.calls[i]
		if !x.at.After(after) {
			return nil
		}
		if match(x) {
			return x
		}
	}
	return nil
}

// startedAfter reports whether a transaction start (StartTransaction or
// TransactionEvent Started) on connector conn (any when 0) was sent after t.
func (ix *eventIndex) startedAfter(t time.Time, conn int) bool {
	return ix.find(t, func(x *exchange) bool {
		return (x.action == "StartTransaction" || x.action == "TransactionEvent") && (conn == 0 || x.conn == 0 || x.conn == conn)
	}) != nil
}

// bootedAfter reports whether the charger sent a BootNotification after t.
func (ix *eventIndex) bootedAfter(t time.Time) bool {
	return ix.find(t, func(x *exchange) bool { return x.action == "BootNotification" }) != nil
}

// problem returns the latest problem a 2.0.1 charger reported by
// NotifyEvent for EVSE conn (0: the charger as a whole), and when.
func (ix *eventIndex) problem(conn int) (string, time.Time) {
	for i := range ix.calls {
		x := &ix.calls[i]
		if x.action == "NotifyEvent" && x.conn == conn {
			return x.kind, x.at
		}
	}
	return "", time.Time{}
}
