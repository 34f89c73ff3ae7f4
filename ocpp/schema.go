package ocpp

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/chargedesk/chargedesk"
)

// schemaFS holds the official schemas, verbatim, and their README
// (attribution and licence note).
//
//go:embed schemas/README.txt schemas/v16/*.json schemas/v201/*.json
var schemaFS embed.FS

// SchemaFS returns the embedded schema files: schemas/v16/<Action>.json and
// <Action>Response.json (1.6), schemas/v201/<Action>Request.json and
// <Action>Response.json (2.0.1), and schemas/README.txt.
func SchemaFS() embed.FS { return schemaFS }

// SchemaPath returns the path in SchemaFS of the schema of an action's
// request or response payload.
func SchemaPath(p chargedesk.Protocol, action string, response bool) string {
	switch {
	case p == chargedesk.OCPP16 && response:
		return "schemas/v16/" + action + "Response.json"
	case p == chargedesk.OCPP16:
		return "schemas/v16/" + action + ".json"
	case response:
		return "schemas/v201/" + action + "Response.json"
	}
	return "schemas/v201/" + action + "Request.json"
}

// maxDescription is the longest CallError description (the 2.0.1 limit).
const maxDescription = 255

// Validator checks payloads against the official JSON schemas. It is safe
// for concurrent use; make one per process with NewValidator.
type Validator struct {
	// schemas maps protocol and action to the compiled request (index 0)
	// and response (index 1) schemas. Read-only after NewValidator.
	schemas map[chargedesk.Protocol]map[string]*[2]*jsonschema.Schema
}

// NewValidator compiles every embedded schema of both versions (206 files,
// about 35 ms and 17 MB of short-lived garbage; measured with
// BenchmarkNewValidator), so that Validate never compiles.
func NewValidator() (*Validator, error) {
	v := &Validator{schemas: map[chargedesk.Protocol]map[string]*[2]*jsonschema.Schema{}}
	for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
		c := jsonschema.NewCompiler()
		// Schemas without "$schema" would default to the latest draft; all
		// of ours name theirs, but be explicit about the older default.
		c.DefaultDraft(jsonschema.Draft4)
		c.RegisterFormat(&jsonschema.Format{Name: "date-time", Validate: dateTimeFormat(p)})
		c.UseLoader(noLoader{})
		table := map[string]*[2]*jsonschema.Schema{}
		for name := range actionTable(p) {
			var pair [2]*jsonschema.Schema
			for i, response := range []bool{false, true} {
				path := SchemaPath(p, name, response)
				data, err := schemaFS.ReadFile(path)
				if err != nil {
					return nil, fmt.Errorf("ocpp: read schema: %w", err)
				}
				doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
				if err != nil {
					return nil, fmt.Errorf("ocpp: parse schema %s: %w", path, err)
				}
				// The resource is named by us: some 1.6 files carry an
				// "$id" urn, most carry none, and 2.0.1 reuses names.
				url := "file:///chargedesk/" + path
				if err := c.AddResource(url, doc); err != nil {
					return nil, fmt.Errorf("ocpp: add schema %s: %w", path, err)
				}
				sch, err := c.Compile(url)
				if err != nil {
					return nil, fmt.Errorf("ocpp: compile schema %s: %w", path, err)
				}
				pair[i] = sch
			}
			table[name] = &pair
		}
		v.schemas[p] = table
	}
	return v, nil
}

// noLoader refuses to fetch anything: every schema is embedded.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("ocpp: schema %s is not embedded", url)
}

// dateTimeFormat returns the "date-time" format check of protocol p: RFC
// 3339 in both, and at most three fractional digits in 2.0.1, whose
// specification text (part 2, "DateTime") sets that limit.
func dateTimeFormat(p chargedesk.Protocol) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, frac, err := parseRFC3339(s)
		if de, ok := err.(*dateTimeError); ok {
			return errors.New("not RFC 3339: " + de.why)
		}
		if p == chargedesk.OCPP201 && frac > 3 {
			return fmt.Errorf("%d fractional digits; OCPP 2.0.1 allows at most 3", frac)
		}
		return nil
	}
}

// Validate checks payload, the JSON object of a CALL (response false) or a
// CALLRESULT (response true) of action in protocol p. It returns nil or an
// *Error whose Code is the CallError code to answer with and whose
// Description names the field and the rule broken (at most 255 bytes):
//
//   - NotImplemented: p has no such action;
//   - FormatViolation: payload is not a JSON object;
//   - OccurrenceConstraintViolation: a required field is missing, or an
//     array has too few or too many items;
//   - TypeConstraintViolation: a field has the wrong JSON type;
//   - PropertyConstraintViolation: any other rule (enum, maxLength,
//     date-time format, minimum, maximum, multipleOf, unknown field).
//
// When several rules are broken, the one reported is chosen in that order
// of codes, then by field path, so the answer is deterministic.
func (v *Validator) Validate(p chargedesk.Protocol, action string, response bool, payload []byte) error {
	table, ok := v.schemas[p]
	if !ok {
		return Errorf(NotSupported, "protocol %q is not supported", textcut.Marked(string(p), 20))
	}
	pair, ok := table[action]
	if !ok {
		return Errorf(NotImplemented, "action %q is not defined in %s", textcut.Marked(action, 60), p)
	}
	sch := pair[0]
	if response {
		sch = pair[1]
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return Errorf(FormatViolation, "%s payload is not valid JSON", what(action, response))
	}
	if _, ok := doc.(map[string]any); !ok {
		return Errorf(FormatViolation, "%s payload is not a JSON object", what(action, response))
	}
	err = sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return Errorf(InternalError, "validating %s: unexpected error", what(action, response))
	}
	return describe(action, response, ve)
}

func what(action string, response bool) string {
	if response {
		return action + " response"
	}
	return action + " request"
}

// violation is one broken rule, ready to report.
type violation struct {
	code ErrorCode
	path string
	desc string
}

func rank(c ErrorCode) int {
	switch c {
	case OccurrenceConstraintViolation:
		return 0
	case TypeConstraintViolation:
		return 1
	}
	return 2
}

// describe turns a validation error tree into the *Error of its first
// violation, by rank then path.
func describe(action string, response bool, ve *jsonschema.ValidationError) *Error {
	var vs []violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		vs = append(vs, toViolation(e))
	}
	walk(ve)
	if len(vs) == 0 {
		return Errorf(PropertyConstraintViolation, "%s payload does not match its schema", what(action, response))
	}
	slices.SortStableFunc(vs, func(a, b violation) int {
		if r := rank(a.code) - rank(b.code); r != 0 {
			return r
		}
		return strings.Compare(a.path, b.path)
	})
	d := vs[0].desc
	if n := len(vs) - 1; n > 0 {
		suffix := " (+" + strconv.Itoa(n) + " more)"
		d = textcut.Bytes(d, maxDescription-len(suffix)) + suffix
	}
	return &Error{Code: vs[0].code, Description: textcut.Bytes(d, maxDescription)}
}

// fieldPath writes an instance location as "meterValue[0].sampledValue[1]".
func fieldPath(loc []string) string {
	var b strings.Builder
	for _, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(textcut.Marked(tok, 40))
	}
	return b.String()
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func toViolation(e *jsonschema.ValidationError) violation {
	path := fieldPath(e.InstanceLocation)
	field := path
	if field == "" {
		field = "payload"
	}
	pv := func(format string, args ...any) violation {
		return violation{code: PropertyConstraintViolation, path: path, desc: field + ": " + fmt.Sprintf(format, args...)}
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		names := make([]string, len(k.Missing))
		for i, m := range k.Missing {
			names[i] = join(path, m)
		}
		slices.Sort(names)
		return violation{code: OccurrenceConstraintViolation, path: names[0],
			desc: "missing required field " + strings.Join(names, ", ")}
	case *kind.MinItems:
		return violation{code: OccurrenceConstraintViolation, path: path,
			desc: fmt.Sprintf("%s: has %d items, fewer than the minimum %d", field, k.Got, k.Want)}
	case *kind.MaxItems:
		return violation{code: OccurrenceConstraintViolation, path: path,
			desc: fmt.Sprintf("%s: has %d items, more than the maximum %d", field, k.Got, k.Want)}
	case *kind.AdditionalItems:
		return violation{code: OccurrenceConstraintViolation, path: path,
			desc: fmt.Sprintf("%s: has more items than allowed (%d)", field, k.Count)}
	case *kind.Type:
		return violation{code: TypeConstraintViolation, path: path,
			desc: fmt.Sprintf("%s: must be %s, not %s", field, strings.Join(k.Want, " or "), k.Got)}
	case *kind.AdditionalProperties:
		names := make([]string, len(k.Properties))
		for i, m := range k.Properties {
			names[i] = strconv.Quote(textcut.Marked(m, 40))
		}
		slices.Sort(names)
		return pv("unknown field %s", strings.Join(names, ", "))
	case *kind.Enum:
		var list strings.Builder
		for i, w := range k.Want {
			s := fmt.Sprint(w)
			if list.Len()+len(s) > 120 {
				fmt.Fprintf(&list, ", … (%d values)", len(k.Want))
				break
			}
			if i > 0 {
				list.WriteString(", ")
			}
			list.WriteString(s)
		}
		return pv("%s is not one of %s", quoteValue(k.Got), list.String())
	case *kind.MaxLength:
		return pv("is %d characters, longer than the maximum %d", k.Got, k.Want)
	case *kind.MinLength:
		return pv("is %d characters, shorter than the minimum %d", k.Got, k.Want)
	case *kind.Minimum:
		return pv("%s is less than the minimum %s", ratString(k.Got), ratString(k.Want))
	case *kind.Maximum:
		return pv("%s is greater than the maximum %s", ratString(k.Got), ratString(k.Want))
	case *kind.ExclusiveMinimum:
		return pv("%s is not greater than %s", ratString(k.Got), ratString(k.Want))
	case *kind.ExclusiveMaximum:
		return pv("%s is not less than %s", ratString(k.Got), ratString(k.Want))
	case *kind.MultipleOf:
		return pv("%s is not a multiple of %s", ratString(k.Got), ratString(k.Want))
	case *kind.Format:
		if k.Want == "date-time" {
			return pv("%s is not a valid date-time: %v", quoteValue(k.Got), k.Err)
		}
		return pv("%s is not a valid %s (%v)", quoteValue(k.Got), k.Want, k.Err)
	case *kind.Pattern:
		return pv("%s does not match %s", quoteValue(k.Got), k.Want)
	}
	return pv("breaks schema rule %s", strings.Join(e.ErrorKind.KeywordPath(), "/"))
}

// ratString renders a number from a schema check without trailing zeros.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return strings.TrimRight(r.FloatString(6), "0")
}

// quoteValue renders a JSON value from a peer briefly and safely.
func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(textcut.Marked(s, 40))
	}
	return textcut.Marked(fmt.Sprint(v), 40)
}
