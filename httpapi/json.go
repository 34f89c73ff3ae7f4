package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
)

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, logger, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decode reads exactly one JSON value from the request body into v. The body
// is limited to MaxBodyBytes; unknown fields, malformed JSON, wrong types and
// trailing data are EINVALID errors whose message says what is wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return chargedesk.Errorf(chargedesk.EINVALID, "request body has data after the JSON value")
	}
	return nil
}

// decodeError turns an encoding/json error into a precise EINVALID error,
// or passes an *http.MaxBytesError through for writeError's 413.
func decodeError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		domainErr *chargedesk.Error
	)
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &domainErr):
		return err
	case errors.Is(err, io.EOF):
		return chargedesk.Errorf(chargedesk.EINVALID, "request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return chargedesk.Errorf(chargedesk.EINVALID, "request body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return chargedesk.Errorf(chargedesk.EINVALID, "request body is not valid JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return chargedesk.Errorf(chargedesk.EINVALID, "request body must be a JSON object, not %s", typeErr.Value)
		}
		return chargedesk.Errorf(chargedesk.EINVALID, "field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
	case errors.As(err, new(*time.ParseError)) || strings.HasPrefix(err.Error(), "Time.UnmarshalJSON"):
		return chargedesk.Errorf(chargedesk.EINVALID, "a time must be an RFC 3339 time string such as \"2026-01-31T08:00:00Z\" (%v)", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return chargedesk.Errorf(chargedesk.EINVALID, "request body has unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return chargedesk.Errorf(chargedesk.EINVALID, "request body cannot be read as JSON: %v", err)
	}
}

// jsonKind names a Go type the way a JSON user would.
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	kind := t.Kind().String()
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	default:
		return "of type " + kind
	}
}

// queryInt reads an optional integer query parameter in [min, max], with
// def when absent.
func queryInt(r *http.Request, name string, def, min, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, chargedesk.Errorf(chargedesk.EINVALID, "query parameter %s must be an integer from %d to %d", name, min, max)
	}
	return n, nil
}

// queryBool reads an optional boolean query parameter; nil when absent.
func queryBool(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "query parameter %s must be true or false", name)
	}
	return &b, nil
}
