package chargedesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// AuditEntry records one decision about a remote command or its outcome.
// Entries form a hash chain: each Hash covers the entry and the previous
// entry's hash, so any edit or removal breaks every later hash.
type AuditEntry struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	CommandID string    `json:"commandId"`
	Kind      string    `json:"kind"`
	ChargerID string    `json:"chargerId"`
	// Stage is "decision" (the policy's verdict, before anything is sent)
	// or "outcome" (the charger's answer).
	Stage string `json:"stage"`
	// Allowed is the policy's verdict; Outcome the result status.
	Allowed bool   `json:"allowed"`
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Detail is the command or result as JSON.
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

// Audit stages.
const (
	AuditDecision = "decision"
	AuditOutcome  = "outcome"
)

// ComputeHash returns the hash of the entry chained to PrevHash. Seq, At
// (to the microsecond, UTC) and every field but Hash are covered.
func (e *AuditEntry) ComputeHash() string {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field(e.PrevHash)
	field(strconv.FormatInt(e.Seq, 10))
	field(e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano))
	field(e.Actor)
	field(e.CommandID)
	field(e.Kind)
	field(e.ChargerID)
	field(e.Stage)
	field(strconv.FormatBool(e.Allowed))
	field(e.Outcome)
	field(e.Reason)
	field(string(e.Detail))
	return hex.EncodeToString(h.Sum(nil))
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	ChargerID string
	CommandID string
	AfterSeq  int64
	// Newest lists the newest entries (after AfterSeq) first, in Seq
	// descending order: a charger's latest commands without paging
	// through its history.
	Newest bool
	Limit  int
}

// Decision is a policy's verdict on a command.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// Policy decides whether a command may be sent. It never sends anything.
type Policy interface {
	Check(ctx context.Context, cmd Command) (Decision, error)
}
