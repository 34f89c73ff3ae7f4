package chargedesk

import (
	"context"
	"strings"
	"time"
)

// Languages the agent speaks: English, French as spoken in Québec, Spanish
// as spoken in the US.
var Languages = []string{"en", "fr", "es"}

// Driver is a driver's account with the operator.
type Driver struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Phone is E.164 (+15555550123): how a caller is recognised.
	Phone    string `json:"phone,omitempty"`
	Language string `json:"language"`
	// PaymentAccountID is the driver's account with the payments processor.
	PaymentAccountID string    `json:"paymentAccountId,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

// Validate checks the driver.
func (d *Driver) Validate() error {
	if d.ID == "" || len(d.ID) > 64 {
		return Errorf(EINVALID, "driver id must be 1 to 64 characters")
	}
	if len(d.Name) > 200 || len(d.PaymentAccountID) > 100 {
		return Errorf(EINVALID, "driver %s: name or payment account too long", d.ID)
	}
	if d.Phone != "" && !ValidPhone(d.Phone) {
		return Errorf(EINVALID, "driver %s: phone %q is not E.164 (+ and 8 to 15 digits)", d.ID, d.Phone)
	}
	ok := false
	for _, l := range Languages {
		ok = ok || d.Language == l
	}
	if !ok {
		return Errorf(EINVALID, "driver %s: language %q is not en, fr or es", d.ID, d.Language)
	}
	return nil
}

// ValidPhone reports whether p is an E.164 number.
func ValidPhone(p string) bool {
	if !strings.HasPrefix(p, "+") || len(p) < 9 || len(p) > 16 {
		return false
	}
	for _, c := range p[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return p[1] != '0'
}

// DriverStore keeps driver accounts.
type DriverStore interface {
	// PutDriver creates or replaces a driver after validating it. EINVALID.
	PutDriver(ctx context.Context, d *Driver) error
	// Driver returns one driver. ENOTFOUND.
	Driver(ctx context.Context, id string) (*Driver, error)
	// DriverByPhone returns the driver with that phone number. ENOTFOUND.
	DriverByPhone(ctx context.Context, phone string) (*Driver, error)
}
