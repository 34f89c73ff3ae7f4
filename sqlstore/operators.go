package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chargedesk/chargedesk"
)

var _ chargedesk.OperatorStore = (*Store)(nil)

const operatorCols = `username, name, role, password_hash, disabled, created_at, updated_at`

func scanOperator(row interface{ Scan(...any) error }) (*chargedesk.Operator, error) {
	var o chargedesk.Operator
	var role string
	if err := row.Scan(&o.Username, &o.Name, &role, &o.PasswordHash, &o.Disabled, tc(&o.CreatedAt), tc(&o.UpdatedAt)); err != nil {
		return nil, err
	}
	o.Role = chargedesk.Role(role)
	return &o, nil
}

// PutOperator creates or replaces a console account. Disabling it or
// changing its password or role ends its sessions in the same
// transaction. EINVALID.
func (s *Store) PutOperator(ctx context.Context, o *chargedesk.Operator) error {
	if o == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "no operator")
	}
	if err := o.Validate(); err != nil {
		return err
	}
	now := micro(s.now())
	created := now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanOperator(tx.QueryRowContext(ctx, s.q(`SELECT `+operatorCols+` FROM operators WHERE username = ?`), o.Username))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			created = old.CreatedAt
			if o.Disabled || old.PasswordHash != o.PasswordHash || old.Role != o.Role {
				if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM operator_sessions WHERE username = ?`), o.Username); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO operators (`+operatorCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (username) DO UPDATE SET name = excluded.name, role = excluded.role,
				password_hash = excluded.password_hash, disabled = excluded.disabled, updated_at = excluded.updated_at`),
			o.Username, o.Name, string(o.Role), o.PasswordHash, o.Disabled, s.ts(created), s.ts(now))
		return err
	})
	if err != nil {
		return wrap("put operator", err)
	}
	o.CreatedAt, o.UpdatedAt = created, now
	return nil
}

// Operator returns one console account. ENOTFOUND.
func (s *Store) Operator(ctx context.Context, username string) (*chargedesk.Operator, error) {
	o, err := scanOperator(s.r.QueryRowContext(ctx, s.q(`SELECT `+operatorCols+` FROM operators WHERE username = ?`), username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "no operator %q", username)
	}
	if err != nil {
		return nil, wrap("get operator", err)
	}
	return o, nil
}

// Operators lists console accounts in username order.
func (s *Store) Operators(ctx context.Context) ([]*chargedesk.Operator, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+operatorCols+` FROM operators ORDER BY username`))
	if err != nil {
		return nil, wrap("list operators", err)
	}
	defer rows.Close()
	var out []*chargedesk.Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, wrap("list operators", err)
		}
		out = append(out, o)
	}
	return out, wrap("list operators", rows.Err())
}

// CreateOperatorSession stores a new console session and deletes the
// expired ones. ENOTFOUND for an unknown account, EINVALID.
func (s *Store) CreateOperatorSession(ctx context.Context, os *chargedesk.OperatorSession) error {
	if os == nil || os.ID == "" || os.CSRF == "" || os.ExpiresAt.IsZero() {
		return chargedesk.Errorf(chargedesk.EINVALID, "a session needs an id, a CSRF token and an expiry")
	}
	if err := checkText("operator session", textField{"id", os.ID, 128}, textField{"csrf", os.CSRF, 128},
		textField{"username", os.Username, 64}); err != nil {
		return err
	}
	if os.CreatedAt.IsZero() {
		os.CreatedAt = s.now()
	}
	os.CreatedAt, os.ExpiresAt = micro(os.CreatedAt), micro(os.ExpiresAt)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM operators WHERE username = ?`), os.Username).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "no operator %q", os.Username)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM operator_sessions WHERE expires_at < ?`), s.ts(os.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO operator_sessions (id, username, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
			os.ID, os.Username, os.CSRF, s.ts(os.CreatedAt), s.ts(os.ExpiresAt))
		return err
	})
	return wrap("create operator session", err)
}

// OperatorSession returns a session not expired at now. ENOTFOUND.
func (s *Store) OperatorSession(ctx context.Context, id string, now time.Time) (*chargedesk.OperatorSession, error) {
	var os chargedesk.OperatorSession
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, username, csrf, created_at, expires_at FROM operator_sessions
		WHERE id = ? AND expires_at > ?`), id, s.ts(now)).
		Scan(&os.ID, &os.Username, &os.CSRF, tc(&os.CreatedAt), tc(&os.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "no such session")
	}
	if err != nil {
		return nil, wrap("get operator session", err)
	}
	return &os, nil
}

// DeleteOperatorSession ends one console session.
func (s *Store) DeleteOperatorSession(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM operator_sessions WHERE id = ?`), id)
		return err
	})
	return wrap("delete operator session", err)
}
