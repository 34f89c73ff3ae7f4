package sqlstore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxJSON bounds the JSON documents the agent's tables keep (conversation
// data, turn meta); ticket evidence has its own bound in Ticket.Validate.
const maxJSON = 64 << 10

// compactJSON validates a JSON document and returns it without
// insignificant white space. Empty stays empty (stored as NULL).
func compactJSON(what string, doc json.RawMessage, limit int) (json.RawMessage, error) {
	if len(doc) == 0 {
		return nil, nil
	}
	if len(doc) > limit {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "%s is larger than %d bytes", what, limit)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "%s is not valid JSON", what)
	}
	if bytes.Contains(b.Bytes(), []byte(`\u0000`)) {
		// PostgreSQL's jsonb cannot hold a NUL character.
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "%s holds a NUL character", what)
	}
	return b.Bytes(), nil
}

// jsonArg converts a compacted document to a query argument: NULL when
// empty, else its text (a TEXT column in SQLite, JSONB in PostgreSQL).
func jsonArg(doc json.RawMessage) any {
	if len(doc) == 0 {
		return nil
	}
	return string(doc)
}

// jsonCol scans a nullable JSON column of either dialect into a compact
// json.RawMessage; NULL is nil.
type jsonCol struct{ doc *json.RawMessage }

// Scan implements sql.Scanner.
func (c jsonCol) Scan(v any) error {
	var s sql.NullString
	if err := s.Scan(v); err != nil {
		return err
	}
	if !s.Valid || s.String == "" {
		*c.doc = nil
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s.String)); err != nil {
		return err
	}
	*c.doc = b.Bytes()
	return nil
}

// jc returns a scanner for a JSON column.
func jc(doc *json.RawMessage) jsonCol { return jsonCol{doc} }

// textField is a free-text value and its bound in bytes.
type textField struct {
	name  string
	value string
	max   int
}

// checkText returns EINVALID, naming owner and the field, for the first
// value that is longer than its bound, is not UTF-8 or holds a NUL byte
// (which PostgreSQL cannot store, so neither dialect accepts it).
func checkText(owner string, fields ...textField) error {
	for _, f := range fields {
		if len(f.value) > f.max {
			return chargedesk.Errorf(chargedesk.EINVALID, "%s: %s is longer than %d bytes", owner, f.name, f.max)
		}
		if !utf8.ValidString(f.value) || strings.IndexByte(f.value, 0) >= 0 {
			return chargedesk.Errorf(chargedesk.EINVALID, "%s: %s is not UTF-8 text", owner, f.name)
		}
	}
	return nil
}

// isDataError reports whether err is PostgreSQL rejecting a value (SQLSTATE
// class 22: data exception), which is the caller's input at fault.
func isDataError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22")
}
