package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
)

var _ chargedesk.SettingStore = (*Store)(nil)

const settingCols = `key, value, updated_by, updated_at`

func scanSetting(row scanner) (*chargedesk.Setting, error) {
	var st chargedesk.Setting
	if err := row.Scan(&st.Key, &st.Value, &st.UpdatedBy, tc(&st.UpdatedAt)); err != nil {
		return nil, err
	}
	return &st, nil
}

// PutSetting creates or replaces a setting after validating it; UpdatedAt
// becomes now and is written back. EINVALID.
func (s *Store) PutSetting(ctx context.Context, st *chargedesk.Setting) error {
	if st == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "setting is nil")
	}
	if err := st.Validate(); err != nil {
		return err
	}
	now := micro(s.now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (`+settingCols+`) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
				updated_at = excluded.updated_at`), st.Key, st.Value, st.UpdatedBy, s.ts(now))
		return err
	})
	if isDataError(err) {
		return chargedesk.Errorf(chargedesk.EINVALID, "setting %s: a value cannot be stored", st.Key)
	}
	if err != nil {
		return wrap("put setting", err)
	}
	st.UpdatedAt = now
	return nil
}

// Setting returns one setting. ENOTFOUND.
func (s *Store) Setting(ctx context.Context, key string) (*chargedesk.Setting, error) {
	st, err := scanSetting(s.r.QueryRowContext(ctx, s.q(`SELECT `+settingCols+` FROM settings WHERE key = ?`), key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "no setting %q", key)
	}
	if err != nil {
		return nil, wrap("get setting", err)
	}
	return st, nil
}

// Settings lists the settings whose key starts with prefix ("" for all),
// in key order, at most MaxLimit.
func (s *Store) Settings(ctx context.Context, prefix string) ([]*chargedesk.Setting, error) {
	if len(prefix) > 100 || !utf8.ValidString(prefix) {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "a setting prefix is at most 100 bytes of UTF-8")
	}
	query := `SELECT ` + settingCols + ` FROM settings`
	var args []any
	if prefix != "" {
		query += ` WHERE substr(key, 1, ?) = ?`
		args = append(args, utf8.RuneCountInString(prefix), prefix)
	}
	query += ` ORDER BY key LIMIT ?`
	args = append(args, MaxLimit)
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("list settings", err)
	}
	defer rows.Close()
	out := []*chargedesk.Setting{}
	for rows.Next() {
		st, err := scanSetting(rows)
		if err != nil {
			return nil, wrap("list settings", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list settings", err)
	}
	// Byte order on both engines: PostgreSQL's collation may weigh
	// punctuation differently.
	slices.SortFunc(out, func(a, b *chargedesk.Setting) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}
