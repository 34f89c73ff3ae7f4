package chargedesk

import "time"

// AuthStatus is an authorization verdict for a token.
type AuthStatus string

// Verdicts of both protocol versions. 1.6 knows Accepted, Blocked, Expired,
// Invalid and ConcurrentTx; 2.0.1 adds Unknown and others. Stored tokens
// carry only Accepted, Blocked, Expired or Invalid.
const (
	AuthAccepted     AuthStatus = "Accepted"
	AuthBlocked      AuthStatus = "Blocked"
	AuthExpired      AuthStatus = "Expired"
	AuthInvalid      AuthStatus = "Invalid"
	AuthConcurrentTx AuthStatus = "ConcurrentTx"
	AuthUnknown      AuthStatus = "Unknown"
)

// MaxIDTagLen is the longest token id: the 2.0.1 idToken bound. 1.6 idTags
// are at most 20 characters; a longer token cannot be used on a 1.6 charger.
const MaxIDTagLen = 36

// Token is an identifier that can start a charge: an RFID card, a key code,
// an app account's token.
type Token struct {
	IDTag string `json:"idTag"`
	// Type is the 2.0.1 IdTokenEnumType (ISO14443 when unset).
	Type   string     `json:"type"`
	Status AuthStatus `json:"status"`
	// ExpiresAt, when set, is when the token stops being valid.
	ExpiresAt   time.Time `json:"expiresAt,omitzero"`
	ParentIDTag string    `json:"parentIdTag,omitempty"`
	// DriverID links the token to a driver account, if known.
	DriverID  string    `json:"driverId,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// TokenTypes are the 2.0.1 IdTokenEnumType values.
var TokenTypes = []string{"Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization"}

// Validate checks the token and fills Type's default.
func (t *Token) Validate() error {
	if t.IDTag == "" {
		return Errorf(EINVALID, "idTag is empty")
	}
	if len(t.IDTag) > MaxIDTagLen {
		return Errorf(EINVALID, "idTag is longer than %d characters", MaxIDTagLen)
	}
	for i := 0; i < len(t.IDTag); i++ {
		if t.IDTag[i] < 0x20 || t.IDTag[i] > 0x7e {
			return Errorf(EINVALID, "idTag must be printable ASCII")
		}
	}
	if t.Type == "" {
		t.Type = "ISO14443"
	}
	okType := false
	for _, v := range TokenTypes {
		okType = okType || v == t.Type
	}
	if !okType {
		return Errorf(EINVALID, "token type %q is not one of %v", t.Type, TokenTypes)
	}
	switch t.Status {
	case AuthAccepted, AuthBlocked, AuthExpired, AuthInvalid:
	default:
		return Errorf(EINVALID, "token status %q is not Accepted, Blocked, Expired or Invalid", t.Status)
	}
	if len(t.DriverID) > 100 {
		return Errorf(EINVALID, "driverId is longer than 100 characters")
	}
	if len(t.ParentIDTag) > MaxIDTagLen {
		return Errorf(EINVALID, "parentIdTag is longer than %d characters", MaxIDTagLen)
	}
	return nil
}

// Verdict is the token's authorization status at now: its stored status, or
// Expired once ExpiresAt has passed.
func (t *Token) Verdict(now time.Time) AuthStatus {
	if t.Status == AuthAccepted && !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return AuthExpired
	}
	return t.Status
}

// TokenFilter selects tokens.
type TokenFilter struct {
	DriverID string
	AfterTag string
	Limit    int
}
