package ocpp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/chargedesk/chargedesk/ocpp/v201"
)

// newPayload returns a new zero payload of the version's types package.
func newPayload(p chargedesk.Protocol, action string, response bool) any {
	if p == chargedesk.OCPP16 {
		return v16.NewPayload(action, response)
	}
	return v201.NewPayload(action, response)
}

// TestPayloadTypes builds, from each schema, a full sample (every field) and
// a minimal one (required fields only), decodes it into the generated Go
// type with unknown fields disallowed, marshals it back, and checks that the
// output validates and is the same JSON: so every type has every field with
// the right tag, and optional fields are omitted when unset.
func TestPayloadTypes(t *testing.T) {
	val := newValidator(t)
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		for _, a := range ocpp.Actions(p) {
			for _, response := range []bool{false, true} {
				for _, full := range []bool{true, false} {
					name := fmt.Sprintf("%s/%s/response=%v/full=%v", p, a.Name, response, full)
					t.Run(name, func(t *testing.T) {
						schema := readSchema(t, p, a.Name, response)
						sample := sampleOf(t, schema, schema, full)
						in, err := json.Marshal(sample)
						if err != nil {
							t.Fatal(err)
						}
						if err := val.Validate(p, a.Name, response, in); err != nil {
							t.Fatalf("sample %s does not validate (test bug): %v", in, err)
						}
						typed := newPayload(p, a.Name, response)
						if typed == nil {
							t.Fatalf("no Go type for %s", a.Name)
						}
						dec := json.NewDecoder(bytes.NewReader(in))
						dec.DisallowUnknownFields()
						if err := dec.Decode(typed); err != nil {
							t.Fatalf("decode %s into %T: %v", in, typed, err)
						}
						out, err := json.Marshal(typed)
						if err != nil {
							t.Fatal(err)
						}
						if err := val.Validate(p, a.Name, response, out); err != nil {
							t.Errorf("marshalled %T does not validate: %v\n%s", typed, err, out)
						}
						if diff := cmp.Diff(decodeAny(t, in), decodeAny(t, out)); diff != "" {
							t.Errorf("%T round trip changed the JSON (-sample +marshalled):\n%s", typed, diff)
						}
					})
				}
			}
		}
	}
}

func newValidator(tb testing.TB) *ocpp.Validator {
	tb.Helper()
	v, err := ocpp.NewValidator()
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func readSchema(t *testing.T, p chargedesk.Protocol, action string, response bool) map[string]any {
	t.Helper()
	data, err := ocpp.SchemaFS().ReadFile(ocpp.SchemaPath(p, action, response))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// sampleOf returns a value that satisfies schema node n of root: every
// property when full, only required ones otherwise; strings at their
// maximum length when full.
func sampleOf(t *testing.T, root, n map[string]any, full bool) any {
	t.Helper()
	if ref, ok := n["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		def, ok := root["definitions"].(map[string]any)[name].(map[string]any)
		if !ok {
			t.Fatalf("unresolved $ref %s", ref)
		}
		return sampleOf(t, root, def, full)
	}
	if enum, ok := n["enum"].([]any); ok {
		if full {
			return enum[len(enum)-1]
		}
		return enum[0]
	}
	num := func(key string) (float64, bool) {
		f, ok := n[key].(float64)
		return f, ok
	}
	switch n["type"] {
	case "string":
		switch n["format"] {
		case "date-time":
			return "2024-05-06T07:08:09.123Z"
		case "uri":
			return "https://example.com/f"
		}
		if max, ok := num("maxLength"); ok && full {
			return strings.Repeat("s", int(max))
		}
		return "s"
	case "integer":
		if min, ok := num("minimum"); ok && !full {
			return min
		}
		if max, ok := num("maximum"); ok && full {
			return max
		}
		return 7.0
	case "number":
		if min, ok := num("minimum"); ok && !full {
			return min
		}
		return 32.5
	case "boolean":
		return full
	case "array":
		items := n["items"].(map[string]any)
		count := 1
		if min, ok := num("minItems"); ok && int(min) > count {
			count = int(min)
		}
		if full {
			count = max(count, 2)
		}
		if max, ok := num("maxItems"); ok && int(max) < count {
			count = int(max)
		}
		a := make([]any, count)
		for i := range a {
			a[i] = sampleOf(t, root, items, full)
		}
		return a
	case "object":
		props, _ := n["properties"].(map[string]any)
		required := map[string]bool{}
		if r, ok := n["required"].([]any); ok {
			for _, x := range r {
				required[x.(string)] = true
			}
		}
		obj := map[string]any{}
		for name, sub := range props {
			if full || required[name] {
				obj[name] = sampleOf(t, root, sub.(map[string]any), full)
			}
		}
		return obj
	case nil:
		// Untyped (2.0.1 DataTransfer data): any JSON.
		if full {
			return map[string]any{"k": []any{1.0, "two"}}
		}
		return "s"
	}
	t.Fatalf("unsupported schema type %v", n["type"])
	return nil
}
