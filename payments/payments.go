package payments

import (
	"context"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Currency is an ISO 4217 currency code. chargedesk serves the US and
// Canada, so only USD and CAD are accepted.
type Currency string

// The currencies an account or an amount may be in.
const (
	USD Currency = "USD"
	CAD Currency = "CAD"
)

// Valid reports whether c is USD or CAD.
func (c Currency) Valid() bool { return c == USD || c == CAD }

// MaxAmountCents is the largest amount, in cents, that may be authorized,
// captured or requested by link: 10,000.00 in the account's currency.
const MaxAmountCents = 1_000_000

// Method is a payment card on a driver's account. Only the brand, the last
// four digits and the expiry are known; there is no card number.
type Method struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	// Brand is the card network as the wallet reports it (Visa,
	// Mastercard, Amex, Discover).
	Brand string `json:"brand"`
	// Last4 is the last four digits of the card number.
	Last4    string `json:"last4"`
	ExpMonth int    `json:"expMonth"`
	ExpYear  int    `json:"expYear"`
	// Synced is true when the processor's backend knows the method. A card
	// the driver added in the app is not synced until the account is
	// synchronized, and cannot be authorized before.
	Synced bool `json:"synced"`
	// Default is true for the method an authorization without a method id
	// uses.
	Default bool      `json:"default"`
	AddedAt time.Time `json:"addedAt"`
}

// ExpiresAt is the first instant at which the card is no longer valid:
// cards are valid through the last day of their expiry month (UTC).
func (m *Method) ExpiresAt() time.Time {
	return time.Date(m.ExpYear, time.Month(m.ExpMonth)+1, 1, 0, 0, 0, 0, time.UTC)
}

// Expired reports whether the card has expired at now.
func (m *Method) Expired(now time.Time) bool { return !now.Before(m.ExpiresAt()) }

// HoldStatus is the state of a pre-authorization hold.
type HoldStatus string

// The states of a hold. A hold starts pending and ends captured (the money
// was taken), released (given back before capture) or expired (it lapsed
// uncaptured and the bank dropped it).
const (
	HoldPending  HoldStatus = "pending"
	HoldCaptured HoldStatus = "captured"
	HoldReleased HoldStatus = "released"
	HoldExpired  HoldStatus = "expired"
)

// Valid reports whether s is one of the four hold states.
func (s HoldStatus) Valid() bool {
	switch s {
	case HoldPending, HoldCaptured, HoldReleased, HoldExpired:
		return true
	}
	return false
}

// Hold is an amount reserved on a card by an approved authorization.
type Hold struct {
	ID          string     `json:"id"`
	AccountID   string     `json:"accountId"`
	MethodID    string     `json:"methodId"`
	AmountCents int64      `json:"amountCents"`
	Currency    Currency   `json:"currency"`
	Status      HoldStatus `json:"status"`
	// SessionRef names the charging session the hold pays for (a charger
	// and transaction reference); it is empty when the hold belongs to no
	// session, for example one left by a repeated tap.
	SessionRef string `json:"sessionRef,omitempty"`
	// CapturedCents is the amount taken when the hold was captured.
	CapturedCents int64 `json:"capturedCents,omitempty"`
	// ExpiresAt is when a pending hold lapses.
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// HoldsWithoutSession returns the pending holds of holds that belong to no
// charging session: the only ones support may release. A hold with a
// SessionRef pays for a session that may still be running and is never in
// the result.
func HoldsWithoutSession(holds []Hold) []Hold {
	var out []Hold
	for _, h := range holds {
		if h.Status == HoldPending && h.SessionRef == "" {
			out = append(out, h)
		}
	}
	return out
}

// AuthRequest asks for a pre-authorization hold on a driver's card.
type AuthRequest struct {
	AccountID string `json:"accountId"`
	// MethodID is the card to charge; empty means the account's default.
	MethodID    string `json:"methodId,omitempty"`
	AmountCents int64  `json:"amountCents"`
	// Currency is the amount's currency; empty means the account's.
	Currency Currency `json:"currency,omitempty"`
	// SessionRef names the session the hold will pay for, if known.
	SessionRef string `json:"sessionRef,omitempty"`
	// IdempotencyKey, when set, makes the request safe to repeat: a second
	// request with the same key on the same account returns the first
	// result, approved or declined, without a second attempt. A retry that
	// should reach the card network again needs a new key.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// Validate checks the request's shape; it does not look at any account.
func (r *AuthRequest) Validate() error {
	if err := validateID("account id", r.AccountID); err != nil {
		return err
	}
	if r.MethodID != "" {
		if err := validateID("method id", r.MethodID); err != nil {
			return err
		}
	}
	if err := validateAmount(r.AmountCents); err != nil {
		return err
	}
	if r.Currency != "" && !r.Currency.Valid() {
		return chargedesk.Errorf(chargedesk.EINVALID, "currency %q is not USD or CAD", r.Currency)
	}
	if len(r.SessionRef) > maxRefLen {
		return chargedesk.Errorf(chargedesk.EINVALID, "session reference is longer than %d characters", maxRefLen)
	}
	if len(r.IdempotencyKey) > maxRefLen {
		return chargedesk.Errorf(chargedesk.EINVALID, "idempotency key is longer than %d characters", maxRefLen)
	}
	return nil
}

// AuthResult is the answer to an authorization: an approved one carries the
// new hold, a declined one the decline.
type AuthResult struct {
	Approved bool     `json:"approved"`
	Hold     *Hold    `json:"hold,omitempty"`
	Decline  *Decline `json:"decline,omitempty"`
	// MethodID and Last4 name the card that was tried.
	MethodID string `json:"methodId"`
	Last4    string `json:"last4"`
}

// Authorization is the record of one authorization attempt that reached
// the card network, approved or declined.
type Authorization struct {
	ID             string   `json:"id"`
	AccountID      string   `json:"accountId"`
	MethodID       string   `json:"methodId"`
	Brand          string   `json:"brand"`
	Last4          string   `json:"last4"`
	AmountCents    int64    `json:"amountCents"`
	Currency       Currency `json:"currency"`
	SessionRef     string   `json:"sessionRef,omitempty"`
	IdempotencyKey string   `json:"idempotencyKey,omitempty"`
	Approved       bool     `json:"approved"`
	// HoldID is the hold an approved attempt created.
	HoldID  string    `json:"holdId,omitempty"`
	Decline *Decline  `json:"decline,omitempty"`
	At      time.Time `json:"at"`
}

// PayLink is a payment page sent to a driver (by SMS, with consent) when no
// stored card can pay. The session may start once the link is paid.
type PayLink struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"accountId"`
	URL         string    `json:"url"`
	AmountCents int64     `json:"amountCents"`
	Currency    Currency  `json:"currency"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
	Paid        bool      `json:"paid"`
	PaidAt      time.Time `json:"paidAt,omitzero"`
}

// Processor is a payments processor as chargedesk uses it. Every method
// returns an EUNAVAILABLE error when the processor cannot be reached and
// the context's error when ctx is done.
type Processor interface {
	// Methods returns the account's payment methods, oldest first,
	// including cards added in the app that are not synced yet (Synced
	// false). ENOTFOUND if the account does not exist.
	Methods(ctx context.Context, accountID string) ([]Method, error)

	// Authorize asks the card network for a pre-authorization hold. A
	// decline is not an error: it comes back as a result with Approved
	// false and a Decline. Errors: EINVALID for a malformed request or a
	// currency other than the account's; ENOTFOUND for an unknown account
	// or method; ECONFLICT when the method is not synced yet, when the
	// account has no default method, or when the idempotency key was used
	// before with different parameters.
	Authorize(ctx context.Context, req AuthRequest) (*AuthResult, error)

	// Capture takes amountCents of a pending hold and returns the captured
	// hold. Errors: EINVALID when the amount is not positive or exceeds
	// the hold; ENOTFOUND for an unknown hold; ECONFLICT when the hold is
	// not pending (captured, released or expired).
	Capture(ctx context.Context, holdID string, amountCents int64) (*Hold, error)

	// Release gives a pending hold back to the card. Releasing a released
	// hold changes nothing and is not an error. Errors: ENOTFOUND for an
	// unknown hold; ECONFLICT when the hold was captured or has expired.
	// Release does not know whether a session is running: callers release
	// only holds without a session (see HoldsWithoutSession).
	Release(ctx context.Context, holdID string) (*Hold, error)

	// Holds returns the account's holds in the given status, or all of
	// them when status is empty, oldest first. Errors: EINVALID for an
	// unknown status; ENOTFOUND for an unknown account.
	Holds(ctx context.Context, accountID string, status HoldStatus) ([]Hold, error)

	// LastAuthorization returns the account's latest authorization attempt
	// with its decline, if any. ENOTFOUND if the account does not exist or
	// has never been authorized.
	LastAuthorization(ctx context.Context, accountID string) (*Authorization, error)

	// SyncAccount pulls the methods the driver added in the app into the
	// backend and returns the ones that were newly synced (none is not an
	// error). A newly synced card becomes the account's default, as the
	// app makes a new card the default. ENOTFOUND for an unknown account.
	SyncAccount(ctx context.Context, accountID string) ([]Method, error)

	// CreatePayLink creates a payment page for amountCents; currency empty
	// means the account's. Errors: EINVALID for a bad amount or a currency
	// other than the account's; ENOTFOUND for an unknown account.
	CreatePayLink(ctx context.Context, accountID string, amountCents int64, currency Currency) (*PayLink, error)

	// PayLink returns a pay link. ENOTFOUND if there is none with that id.
	PayLink(ctx context.Context, id string) (*PayLink, error)

	// MarkPayLinkPaid records that the driver paid on the link's page;
	// paying a paid link changes nothing. Errors: ENOTFOUND for an unknown
	// link; ECONFLICT when the link expired unpaid.
	MarkPayLinkPaid(ctx context.Context, id string) (*PayLink, error)
}

// maxRefLen bounds references and keys given by callers.
const maxRefLen = 200

// maxIDLen bounds account and object ids.
const maxIDLen = 100

// validateID checks that id is non-empty, bounded and printable ASCII.
func validateID(what, id string) error {
	if id == "" {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s is empty", what)
	}
	if len(id) > maxIDLen {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s is longer than %d characters", what, maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] > 0x7e {
			return chargedesk.Errorf(chargedesk.EINVALID, "%s must be printable ASCII without spaces", what)
		}
	}
	return nil
}

// validateAmount checks that cents is positive and at most MaxAmountCents.
func validateAmount(cents int64) error {
	if cents <= 0 {
		return chargedesk.Errorf(chargedesk.EINVALID, "amount must be positive, got %d cents", cents)
	}
	if cents > MaxAmountCents {
		return chargedesk.Errorf(chargedesk.EINVALID, "amount %d cents is above the limit of %d", cents, MaxAmountCents)
	}
	return nil
}
