package natsbus

import (
	"strings"

	"github.com/chargedesk/chargedesk"
)

// DefaultSubjectPrefix is the first subject token of every subject the bus
// uses unless Config.SubjectPrefix says otherwise.
const DefaultSubjectPrefix = "chargedesk"

// EscapeChargerID turns a charger id into a single NATS subject token.
//
// Charger ids are made of ASCII letters, digits, '-', '_' and '.'
// (chargedesk.ValidateChargerID). NATS splits subjects on '.', so the id is
// escaped with '_' as the escape character followed by two upper-case hex
// digits of the byte it stands for:
//
//	'.' becomes "_2E"
//	'_' becomes "_5F"
//
// and every other character stands for itself. The result contains only
// letters, digits, '-' and '_', which every NATS tool accepts, and
// UnescapeChargerID reverses it exactly: "CP_01.a" is "CP_5F01_2Ea". An id
// without '.' or '_' is its own token, so the common case costs nothing.
func EscapeChargerID(id string) string {
	n := strings.Count(id, ".") + strings.Count(id, "_")
	if n == 0 {
		return id
	}
	var sb strings.Builder
	sb.Grow(len(id) + 2*n)
	for i := 0; i < len(id); i++ {
		switch c := id[i]; c {
		case '.':
			sb.WriteString("_2E")
		case '_':
			sb.WriteString("_5F")
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// UnescapeChargerID reverses EscapeChargerID. It returns an EINVALID error
// for a token that EscapeChargerID cannot have produced from a valid charger
// id.
func UnescapeChargerID(token string) (string, error) {
	bad := func() (string, error) {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "subject token %q is not an escaped charger id", token)
	}
	var sb strings.Builder
	sb.Grow(len(token))
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case c == '.':
			return bad()
		case c != '_':
			sb.WriteByte(c)
		case strings.HasPrefix(token[i:], "_2E"):
			sb.WriteByte('.')
			i += 2
		case strings.HasPrefix(token[i:], "_5F"):
			sb.WriteByte('_')
			i += 2
		default:
			return bad()
		}
	}
	id := sb.String()
	if chargedesk.ValidateChargerID(id) != nil {
		return bad()
	}
	return id, nil
}

// subjects builds the subjects of one bus from its prefix.
type subjects struct {
	events string // "<prefix>.events."
	cmd    string // "<prefix>.cmd."
	serve  string // "<prefix>.ctl.serve."
	conv   string // "<prefix>.conv."
}

func newSubjects(prefix string) subjects {
	return subjects{
		events: prefix + ".events.",
		cmd:    prefix + ".cmd.",
		serve:  prefix + ".ctl.serve.",
		conv:   prefix + ".conv.",
	}
}

// validPrefix reports whether p is one or more dot-separated tokens of
// letters, digits, '-' and '_'.
func validPrefix(p string) bool {
	if p == "" {
		return false
	}
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || !validToken(tok) {
			return false
		}
	}
	return true
}

// validToken reports whether t is a non-empty subject token of at most 64
// letters, digits, '-' and '_'.
func validToken(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
