package chargedesk

import (
	"context"
	"time"
)

// ChargerStore keeps chargers and their connectors.
type ChargerStore interface {
	// RegisterCharger creates a charger. ECONFLICT if the id exists,
	// EINVALID if the registration does not validate.
	RegisterCharger(ctx context.Context, reg ChargerRegistration) (*Charger, error)
	// ChargerCredentials returns the password hash and the boot status to
	// give. ENOTFOUND for an unregistered charger.
	ChargerCredentials(ctx context.Context, id string) (passwordHash string, boot RegistrationStatus, err error)
	// UpdateRegistration reads the charger's registration (description,
	// password hash, boot status to give), applies fn and writes it back
	// after validating it, in one transaction. ENOTFOUND, EINVALID.
	UpdateRegistration(ctx context.Context, id string, fn func(*ChargerRegistration) error) error
	// Charger returns a charger with its connectors. ENOTFOUND.
	Charger(ctx context.Context, id string) (*Charger, error)
	// Chargers lists chargers in id order with their connectors. EINVALID
	// for a filter that does not validate.
	Chargers(ctx context.Context, f ChargerFilter) ([]*Charger, error)
	// UpdateCharger reads the charger, applies fn and writes back its
	// charger-level fields (not connectors, not credentials) in one
	// transaction. ENOTFOUND.
	UpdateCharger(ctx context.Context, id string, fn func(*Charger) error) (*Charger, error)
	// TouchChargers records, for many chargers at once, when each was last
	// seen and, for those in heartbeats, when it last sent a Heartbeat.
	// Unknown ids are ignored.
	TouchChargers(ctx context.Context, seen map[string]time.Time, heartbeats map[string]time.Time) error
	// DisconnectNode marks every charger held by node as disconnected, for a
	// node that starts or stops.
	DisconnectNode(ctx context.Context, node string, at time.Time) error
	// PutConnector creates or replaces a connector's status. ENOTFOUND when
	// the charger does not exist.
	PutConnector(ctx context.Context, c Connector) error
}

// TransactionStore keeps transactions and meter values.
type TransactionStore interface {
	// StartTransaction records a new transaction and returns it as stored.
	// When t.ID is empty (OCPP 1.6) the store assigns a new integer id.
	// It is idempotent: a 1.6 start with the same charger, connector, idTag
	// and start time, or a 2.0.1 start with the same charger and id, returns
	// the transaction already stored.
	StartTransaction(ctx context.Context, t *Transaction) (*Transaction, error)
	// UpdateTransaction writes the mutable fields of t (meter, charging
	// state, seqNo, stop fields). ENOTFOUND.
	UpdateTransaction(ctx context.Context, t *Transaction) error
	// Transaction returns one transaction. ENOTFOUND.
	Transaction(ctx context.Context, chargerID, id string) (*Transaction, error)
	// Transactions lists transactions, newest first.
	Transactions(ctx context.Context, f TransactionFilter) ([]*Transaction, error)
	// AppendMeterValues stores samples.
	AppendMeterValues(ctx context.Context, samples []MeterSample) error
	// MeterValues returns a transaction's samples in time order.
	MeterValues(ctx context.Context, chargerID, transactionID string, limit int) ([]MeterSample, error)
}

// TokenStore keeps tokens.
type TokenStore interface {
	// PutToken creates or replaces a token after validating it. EINVALID.
	PutToken(ctx context.Context, t *Token) error
	// Token returns one token. ENOTFOUND.
	Token(ctx context.Context, idTag string) (*Token, error)
	// DeleteToken removes a token, which then is unknown. ENOTFOUND.
	DeleteToken(ctx context.Context, idTag string) error
	// Tokens lists tokens in idTag order.
	Tokens(ctx context.Context, f TokenFilter) ([]*Token, error)
}

// EventStore keeps each charger's recent events, at most MaxRecentEvents.
type EventStore interface {
	// AppendEvents stores events, writing the Seq each was given back into
	// the slice, and trims each charger's history to its newest
	// MaxRecentEvents.
	AppendEvents(ctx context.Context, events []Event) error
	// RecentEvents returns a charger's newest events, newest first.
	RecentEvents(ctx context.Context, chargerID string, limit int) ([]Event, error)
}

// AuditLog is the append-only, hash-chained record of command decisions.
type AuditLog interface {
	// AppendAudit assigns Seq, PrevHash and Hash (written back into e) and
	// stores the entry.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditEntries lists entries in Seq order (newest first with
	// f.Newest).
	AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	// VerifyAudit walks the whole chain and returns an EINTERNAL error that
	// names the first entry whose hash does not match.
	VerifyAudit(ctx context.Context) error
}

// Store is everything chargedesk keeps durably.
type Store interface {
	ChargerStore
	TransactionStore
	TokenStore
	EventStore
	AuditLog
	SiteStore
	DriverStore
	ConversationStore
	TicketStore
	// Ping checks that the database answers (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}
