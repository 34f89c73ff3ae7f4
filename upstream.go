package chargedesk

import (
	"context"
	"time"
)

// HeldMessage is a charger's CALL that chargedesk answered itself, in proxy
// mode, while the upstream central system could not be reached: it waits in
// the store to be delivered to the upstream, in Seq order per charger.
type HeldMessage struct {
	// Seq orders held messages; the store assigns it, never reused.
	Seq       int64
	ChargerID string
	Protocol  Protocol
	// MessageID is the charger's message id of the CALL.
	MessageID string
	Action    string
	Payload   []byte
	HeldAt    time.Time
}

// MaxHeldPayload bounds the payload of a held message (bytes).
const MaxHeldPayload = 256 << 10

// Validate checks a held message before it is stored.
func (m *HeldMessage) Validate() error {
	if err := ValidateChargerID(m.ChargerID); err != nil {
		return err
	}
	if !m.Protocol.Valid() {
		return Errorf(EINVALID, "held message: protocol %q", m.Protocol)
	}
	if m.MessageID == "" || len(m.MessageID) > 36 {
		return Errorf(EINVALID, "held message: message id must have 1 to 36 characters")
	}
	if m.Action == "" || len(m.Action) > 64 {
		return Errorf(EINVALID, "held message: action must have 1 to 64 characters")
	}
	if len(m.Payload) == 0 || len(m.Payload) > MaxHeldPayload {
		return Errorf(EINVALID, "held message: payload must have 1 to %d bytes", MaxHeldPayload)
	}
	return nil
}

// UpstreamStore keeps what proxy mode must not lose: the charger messages
// answered locally while the upstream was down, and the upstream's ids of
// the 1.6 transactions that chargedesk numbered meanwhile.
type UpstreamStore interface {
	// HoldUpstream stores m and sets m.Seq. EINVALID.
	HoldUpstream(ctx context.Context, m *HeldMessage) error
	// HeldUpstream returns up to limit held messages of a charger, oldest
	// first.
	HeldUpstream(ctx context.Context, chargerID string, limit int) ([]HeldMessage, error)
	// CountHeldUpstream returns how many messages of a charger are held.
	CountHeldUpstream(ctx context.Context, chargerID string) (int, error)
	// ReleaseUpstream deletes a held message once the upstream answered it.
	ReleaseUpstream(ctx context.Context, chargerID string, seq int64) error
	// MapUpstreamTransaction records the upstream's id of a transaction
	// chargedesk numbered locally; a repeat replaces it.
	MapUpstreamTransaction(ctx context.Context, chargerID, localID, upstreamID string) error
	// UpstreamTransaction returns the upstream's id of a locally numbered
	// transaction. ENOTFOUND.
	UpstreamTransaction(ctx context.Context, chargerID, localID string) (string, error)
	// LocalTransaction returns the local id of the transaction the
	// upstream knows as upstreamID (the latest, should the upstream reuse
	// an id). ENOTFOUND.
	LocalTransaction(ctx context.Context, chargerID, upstreamID string) (string, error)
}
