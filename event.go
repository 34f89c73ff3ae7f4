package chargedesk

import (
	"encoding/json"
	"time"
)

// Direction says which way an OCPP frame travelled.
type Direction string

// Frame directions.
const (
	DirIn  Direction = "in"  // from the charger to chargedesk
	DirOut Direction = "out" // from chargedesk to the charger
)

// Event is one OCPP frame exchanged with a charger, or a connection change,
// as kept in a charger's recent history and published on the bus.
type Event struct {
	// Seq orders a charger's events; the store assigns it.
	Seq       int64     `json:"seq,omitempty"`
	ChargerID string    `json:"chargerId"`
	At        time.Time `json:"at"`
	Direction Direction `json:"direction"`
	// Type is CALL, CALLRESULT or CALLERROR for a frame, or Connected,
	// Disconnected or Rejected for a connection change.
	Type      string `json:"type"`
	MessageID string `json:"messageId,omitempty"`
	// Action is the OCPP action of a CALL, and of the CALL that a
	// CALLRESULT or CALLERROR answers.
	Action string `json:"action,omitempty"`
	// Payload is the frame's payload; for a CALLERROR an object with code,
	// description and details; for a connection change, its details.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Event types besides the three OCPP message types.
const (
	EventConnected    = "Connected"
	EventDisconnected = "Disconnected"
	EventRejected     = "Rejected"
)

// MaxRecentEvents is how many events per charger the store keeps.
const MaxRecentEvents = 500
