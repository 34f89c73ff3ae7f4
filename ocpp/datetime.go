package ocpp

import (
	"errors"
	"fmt"
	"time"

	"github.com/chargedesk/chargedesk/internal/textcut"
)

// DateTime is an OCPP dateTime value. It marshals as RFC 3339 in UTC with
// exactly three fractional digits ("2024-05-06T07:08:09.123Z"), which both
// versions accept (2.0.1 allows at most three), and unmarshals any RFC 3339
// timestamp (see ParseDateTime). The zero DateTime is omitted by the
// "omitzero" JSON option.
type DateTime struct {
	time.Time
}

// NewDateTime returns t as a DateTime.
func NewDateTime(t time.Time) DateTime { return DateTime{Time: t} }

// dateTimeLayout is the layout DateTime marshals with.
const dateTimeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON implements json.Marshaler.
func (d DateTime) MarshalJSON() ([]byte, error) {
	return AppendDateTime(make([]byte, 0, len(dateTimeLayout)+2), d.Time), nil
}

// AppendDateTime appends t as DateTime.MarshalJSON writes it, a JSON string.
func AppendDateTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, dateTimeLayout)
	return append(b, '"')
}

// UnmarshalJSON implements json.Unmarshaler. A JSON null leaves d unchanged.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("ocpp: dateTime is not a JSON string")
	}
	t, _, err := parseRFC3339(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

// String returns d as it is marshalled, without quotes.
func (d DateTime) String() string { return d.UTC().Format(dateTimeLayout) }

// ParseDateTime parses an RFC 3339 date-time ("date-time" production of
// RFC 3339 section 5.6): 'T' or 't' between date and time, any number of
// fractional digits, 'Z', 'z' or a ±hh:mm offset, and a leap second (:60),
// which is folded into the next second. It rejects ISO 8601 forms that
// RFC 3339 does not allow, such as a missing offset or the basic format.
func ParseDateTime(s string) (time.Time, error) {
	t, _, err := parseRFC3339(s)
	return t, err
}

// parseRFC3339 parses s and also returns the number of fractional-second
// digits it had, for the 2.0.1 limit of three.
func parseRFC3339(s string) (t time.Time, frac int, err error) {
	fail := func(why string) (time.Time, int, error) {
		return time.Time{}, 0, &dateTimeError{value: s, why: why}
	}
	// yyyy-mm-ddThh:mm:ss is 19 bytes; the offset needs at least one more.
	if len(s) < 19 {
		return fail("too short")
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return fail("date is not yyyy-mm-dd")
	}
	if s[10] != 'T' && s[10] != 't' {
		return fail("no 'T' between date and time")
	}
	hour, ok1 := num(11, 2)
	minute, ok2 := num(14, 2)
	sec, ok3 := num(17, 2)
	if !ok1 || !ok2 || !ok3 || s[13] != ':' || s[16] != ':' {
		return fail("time is not hh:mm:ss")
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return fail("date out of range")
	}
	if hour > 23 || minute > 59 || sec > 60 {
		return fail("time out of range")
	}
	rest := s[19:]
	nsec := 0
	if rest != "" && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i <= 9 {
				nsec = nsec*10 + int(rest[i]-'0')
			}
			i++
		}
		frac = i - 1
		if frac == 0 {
			return fail("no digits after '.'")
		}
		for k := frac; k < 9; k++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	var offset int
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(len(s)-5, 2)
		om, ok2 := num(len(s)-2, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return fail("offset is not ±hh:mm")
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	case rest == "":
		return fail("no time zone offset")
	default:
		return fail("offset is not 'Z' or ±hh:mm")
	}
	// time.Date normalises second 60 into the next minute.
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	return t, frac, nil
}

// dateTimeError is a string that is not an RFC 3339 date-time.
type dateTimeError struct {
	value, why string
}

func (e *dateTimeError) Error() string {
	return fmt.Sprintf("ocpp: %q is not an RFC 3339 date-time: %s", textcut.Marked(e.value, 40), e.why)
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
