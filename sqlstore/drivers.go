package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chargedesk/chargedesk"
)

const driverCols = `id, name, phone, language, payment_account_id, created_at, updated_at`

func scanDriver(row scanner) (*chargedesk.Driver, error) {
	var d chargedesk.Driver
	err := row.Scan(&d.ID, &d.Name, &d.Phone, &d.Language, &d.PaymentAccountID, tc(&d.CreatedAt), tc(&d.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// PutDriver creates or replaces a driver after validating it. UpdatedAt
// becomes now; CreatedAt keeps the stored value when the driver exists,
// else d.CreatedAt or now. d is updated to match what was stored. EINVALID;
// ECONFLICT when another driver has the same phone number.
func (s *Store) PutDriver(ctx context.Context, d *chargedesk.Driver) error {
	if d == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "driver is nil")
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if err := checkText("driver "+d.ID, textField{"id", d.ID, 64}, textField{"name", d.Name, 200},
		textField{"payment account", d.PaymentAccountID, 100}); err != nil {
		return err
	}
	now := micro(s.now())
	created := micro(d.CreatedAt)
	if created.IsZero() {
		created = now
	}
	var stored *chargedesk.Driver
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		stored, err = scanDriver(tx.QueryRowContext(ctx, s.q(`INSERT INTO drivers (`+driverCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
				language = excluded.language, payment_account_id = excluded.payment_account_id,
				updated_at = excluded.updated_at
			RETURNING `+driverCols),
			d.ID, d.Name, d.Phone, d.Language, d.PaymentAccountID, s.ts(created), s.ts(now)))
		return err
	})
	if isUnique(err) {
		return chargedesk.Errorf(chargedesk.ECONFLICT, "phone %s belongs to another driver", d.Phone)
	}
	if err != nil {
		return wrap("put driver", err)
	}
	*d = *stored
	return nil
}

// Driver returns one driver. ENOTFOUND.
func (s *Store) Driver(ctx context.Context, id string) (*chargedesk.Driver, error) {
	d, err := scanDriver(s.r.QueryRowContext(ctx, s.q(`SELECT `+driverCols+` FROM drivers WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "driver %q is not known", id)
	}
	if err != nil {
		return nil, wrap("get driver", err)
	}
	return d, nil
}

// DriverByPhone returns the driver with that phone number (E.164, matched
// exactly). ENOTFOUND, also for an empty number or one that is not E.164.
func (s *Store) DriverByPhone(ctx context.Context, phone string) (*chargedesk.Driver, error) {
	if !chargedesk.ValidPhone(phone) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "no driver has phone %q", phone)
	}
	d, err := scanDriver(s.r.QueryRowContext(ctx, s.q(`SELECT `+driverCols+` FROM drivers WHERE phone = ?`), phone))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "no driver has phone %s", phone)
	}
	if err != nil {
		return nil, wrap("get driver by phone", err)
	}
	return d, nil
}
