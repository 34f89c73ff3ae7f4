package chargedesk

import (
	"context"
	"net/url"
	"strings"
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

	// PutUpstreamRoute stores an operator's route for one charger,
	// replacing any, and sets r.UpdatedAt. EINVALID.
	PutUpstreamRoute(ctx context.Context, r *UpstreamRoute) error
	// UpstreamRoute returns the route of a charger. ENOTFOUND when none was
	// ever set (the server's defaults apply).
	UpstreamRoute(ctx context.Context, chargerID string) (*UpstreamRoute, error)
	// UpstreamRoutesChanged returns the routes set at or after since, so
	// that the node holding a charger redials it with its new route.
	UpstreamRoutesChanged(ctx context.Context, since time.Time) ([]UpstreamRoute, error)
	// RecordUpstreamLinks stores the latest state of many links at once.
	RecordUpstreamLinks(ctx context.Context, links []UpstreamLink) error
	// UpstreamLink returns the last recorded state of a charger's link.
	// ENOTFOUND when it never had one.
	UpstreamLink(ctx context.Context, chargerID string) (*UpstreamLink, error)
}

// UpstreamAuth says which credentials a charger's link to the upstream
// presents.
type UpstreamAuth string

const (
	// UpstreamAuthForward presents the charger's own Authorization header,
	// as it sent it to chargedesk (the default).
	UpstreamAuthForward UpstreamAuth = "forward"
	// UpstreamAuthBasic presents the route's Username and Password (HTTP
	// Basic, OCPP security profiles 1 and 2).
	UpstreamAuthBasic UpstreamAuth = "basic"
	// UpstreamAuthNone presents no credentials.
	UpstreamAuthNone UpstreamAuth = "none"
)

// Valid reports whether a is a known mode.
func (a UpstreamAuth) Valid() bool {
	return a == UpstreamAuthForward || a == UpstreamAuthBasic || a == UpstreamAuthNone
}

// UpstreamRoute is an operator's setting, in proxy mode, of where and as
// whom one charger is relayed. The zero route (no URL, forward) is the
// server's defaults; setting it back is how a route is removed.
type UpstreamRoute struct {
	ChargerID string `json:"chargerId"`
	// URL is the base URL the charger is relayed to (URL + "/" + id); empty
	// for the server's -upstream.
	URL  string       `json:"url,omitempty"`
	Auth UpstreamAuth `json:"auth"`
	// Username and Password are presented with UpstreamAuthBasic. The
	// password is stored as it must be sent (it cannot be hashed) and is
	// never shown by the API.
	Username  string    `json:"username,omitempty"`
	Password  string    `json:"-"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	UpdatedBy string    `json:"updatedBy,omitempty"`
}

// Bounds of a route's fields.
const (
	MaxUpstreamURL      = 512
	MaxUpstreamUser     = 128
	MaxUpstreamPassword = 256
)

// ValidateUpstreamURL checks a base URL of an upstream central system: ws://
// or wss://, a host, no query, fragment or credentials.
func ValidateUpstreamURL(raw string) error {
	if len(raw) > MaxUpstreamURL {
		return Errorf(EINVALID, "upstream url is longer than %d characters", MaxUpstreamURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Errorf(EINVALID, "upstream url %q must be ws:// or wss:// with a host and no query, fragment or credentials", raw)
	}
	return nil
}

// Validate checks a route before it is stored.
func (r *UpstreamRoute) Validate() error {
	if err := ValidateChargerID(r.ChargerID); err != nil {
		return err
	}
	if r.URL != "" {
		if err := ValidateUpstreamURL(r.URL); err != nil {
			return err
		}
	}
	if !r.Auth.Valid() {
		return Errorf(EINVALID, "upstream auth must be forward, basic or none, not %q", r.Auth)
	}
	switch {
	case r.Auth == UpstreamAuthBasic && r.Username == "":
		return Errorf(EINVALID, "upstream auth basic needs a username")
	case r.Auth != UpstreamAuthBasic && (r.Username != "" || r.Password != ""):
		return Errorf(EINVALID, "a username and password are used only with upstream auth basic")
	case len(r.Username) > MaxUpstreamUser || strings.ContainsAny(r.Username, ":\x00\r\n"):
		return Errorf(EINVALID, "upstream username must have at most %d characters and no colon or control character", MaxUpstreamUser)
	case len(r.Password) > MaxUpstreamPassword || strings.ContainsAny(r.Password, "\x00\r\n"):
		return Errorf(EINVALID, "upstream password must have at most %d characters and no control character", MaxUpstreamPassword)
	case len(r.UpdatedBy) > 128:
		return Errorf(EINVALID, "updatedBy is longer than 128 characters")
	}
	return nil
}

// UpstreamLink is the state of a charger's link to the upstream, as the node
// holding the charger last recorded it (within a second of a change).
type UpstreamLink struct {
	ChargerID string `json:"chargerId"`
	Node      string `json:"node"`
	// URL is where the link goes (the route's or the server's).
	URL string `json:"url"`
	Up  bool   `json:"up"`
	// Since is when the link last came up or went down.
	Since time.Time `json:"since,omitzero"`
	// LastError says why the link is down or the last dial failed.
	LastError string `json:"lastError,omitempty"`
	// DialFailures counts the dials that failed since the link was last up.
	DialFailures int `json:"dialFailures"`
	// Relayed counts the charger CALLs the upstream answered since the
	// link came up; RelayMean and RelayMax are their round trips to the
	// upstream, in microseconds.
	Relayed     int64     `json:"relayed"`
	RelayMeanUS int64     `json:"relayMeanMicros"`
	RelayMaxUS  int64     `json:"relayMaxMicros"`
	UpdatedAt   time.Time `json:"updatedAt,omitzero"`
}
