package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chargedesk/chargedesk"
)

const tokenCols = `id_tag, type, status, expires_at, parent_id_tag, driver_id, created_at, updated_at`

func scanToken(row scanner) (*chargedesk.Token, error) {
	var t chargedesk.Token
	err := row.Scan(&t.IDTag, &t.Type, &t.Status, tc(&t.ExpiresAt), &t.ParentIDTag, &t.DriverID,
		tc(&t.CreatedAt), tc(&t.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// PutToken creates or replaces a token after validating it (which fills
// Type's default). UpdatedAt becomes now; CreatedAt keeps the stored value
// when the token exists, else t.CreatedAt or now. t is updated to match what
// was stored. EINVALID.
func (s *Store) PutToken(ctx context.Context, t *chargedesk.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	now := micro(s.now())
	created := micro(t.CreatedAt)
	if created.IsZero() {
		created = now
	}
	var stored *chargedesk.Token
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		stored, err = scanToken(tx.QueryRowContext(ctx, s.q(`INSERT INTO tokens (`+tokenCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id_tag) DO UPDATE SET type = excluded.type, status = excluded.status,
				expires_at = excluded.expires_at, parent_id_tag = excluded.parent_id_tag,
				driver_id = excluded.driver_id, updated_at = excluded.updated_at
			RETURNING `+tokenCols),
			t.IDTag, t.Type, string(t.Status), s.ts(t.ExpiresAt), t.ParentIDTag, t.DriverID,
			s.ts(created), s.ts(now)))
		return err
	})
	if err != nil {
		return wrap("put token", err)
	}
	*t = *stored
	return nil
}

// DeleteToken removes a token. ENOTFOUND.
func (s *Store) DeleteToken(ctx context.Context, idTag string) error {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM tokens WHERE id_tag = ?`), idTag)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrap("delete token", err)
	}
	if n == 0 {
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "token %q not found", idTag)
	}
	return nil
}

// Token returns one token. ENOTFOUND.
func (s *Store) Token(ctx context.Context, idTag string) (*chargedesk.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, s.q(`SELECT `+tokenCols+` FROM tokens WHERE id_tag = ?`), idTag))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "token %q is not known", idTag)
	}
	if err != nil {
		return nil, wrap("get token", err)
	}
	return t, nil
}

// Tokens lists tokens in idTag order, at most f.Limit (default 100, at most
// 1000).
func (s *Store) Tokens(ctx context.Context, f chargedesk.TokenFilter) ([]*chargedesk.Token, error) {
	query := `SELECT ` + tokenCols + ` FROM tokens WHERE id_tag > ?`
	args := []any{f.AfterTag}
	if f.DriverID != "" {
		query += ` AND driver_id = ?`
		args = append(args, f.DriverID)
	}
	query += ` ORDER BY id_tag LIMIT ?`
	args = append(args, limit(f.Limit))
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer rows.Close()
	out := []*chargedesk.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap("list tokens", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tokens", rows.Err())
}
