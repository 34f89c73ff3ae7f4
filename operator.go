package chargedesk

import (
	"context"
	"time"
)

// Role is what an operator account may do in the console.
type Role string

// Roles, from most to least allowed: an admin also manages accounts and
// the agent's switches; an operator works conversations, tickets and
// chargers; a viewer only looks.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleOperator, RoleViewer:
		return true
	}
	return false
}

// Allows reports whether r may do what needs the role need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() }

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleOperator:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Operator is a person of the network's staff with a console account.
type Operator struct {
	// Username signs in; it is also the operator's name in the audit log
	// ("console:<username>").
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
	Role     Role   `json:"role"`
	// PasswordHash is the password's slow hash (bcrypt); never shown.
	PasswordHash string `json:"-"`
	// Disabled accounts cannot sign in; their sessions are ended.
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ConsoleActorPrefix starts the actor of what an operator does in the
// console, as the audit log names it.
const ConsoleActorPrefix = "console:"

// Validate checks an operator account's fields.
func (o *Operator) Validate() error {
	if !validUsername(o.Username) {
		return Errorf(EINVALID, "username must be 2 to 64 characters of lower-case letters, digits, '.', '-', '_' or '@'")
	}
	if len(o.Name) > 200 {
		return Errorf(EINVALID, "name is longer than 200 characters")
	}
	if !o.Role.Valid() {
		return Errorf(EINVALID, "role %q is not admin, operator or viewer", o.Role)
	}
	if o.PasswordHash == "" || len(o.PasswordHash) > 200 {
		return Errorf(EINVALID, "operator needs a password hash")
	}
	return nil
}

func validUsername(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '@') {
			return false
		}
	}
	return true
}

// OperatorSession is a signed-in console session. Its ID is the SHA-256
// of the cookie's secret (the secret itself is never stored); CSRF is the
// token every state-changing request of the session must carry.
type OperatorSession struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	CSRF      string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// OperatorStore keeps console accounts and their sessions.
type OperatorStore interface {
	// PutOperator creates or replaces an account after validating it;
	// CreatedAt is kept from the first write, UpdatedAt becomes now.
	// Disabling an account or changing its password or role ends its
	// sessions. EINVALID.
	PutOperator(ctx context.Context, o *Operator) error
	// Operator returns one account. ENOTFOUND.
	Operator(ctx context.Context, username string) (*Operator, error)
	// Operators lists accounts in username order.
	Operators(ctx context.Context) ([]*Operator, error)
	// CreateOperatorSession stores a new session; sessions past their
	// expiry are deleted in the same transaction. ENOTFOUND for an unknown
	// account, EINVALID.
	CreateOperatorSession(ctx context.Context, s *OperatorSession) error
	// OperatorSession returns a session that has not expired at now.
	// ENOTFOUND.
	OperatorSession(ctx context.Context, id string, now time.Time) (*OperatorSession, error)
	// DeleteOperatorSession ends one session (signing out); ending one
	// that does not exist is not an error.
	DeleteOperatorSession(ctx context.Context, id string) error
}
