// Command typegen writes the Go payload types of packages ocpp/v16 and
// ocpp/v201 from the embedded OCPP JSON schemas. Run it with go generate in
// package ocpp (see gen.go there):
//
//	go run ./internal/typegen -schemas schemas -out .
//
// Only names, field names, types and enumeration values are taken from the
// schemas (facts); no description text is copied.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
)

func main() {
	schemas := flag.String("schemas", "schemas", "directory holding v16/ and v201/")
	out := flag.String("out", ".", "directory holding the v16/ and v201/ packages")
	flag.Parse()
	for _, cfg := range []config{v16Config(), v201Config()} {
		if err := run(cfg, filepath.Join(*schemas, cfg.pkg), filepath.Join(*out, cfg.pkg)); err != nil {
			fmt.Fprintln(os.Stderr, "typegen:", err)
			os.Exit(1)
		}
	}
}

// config is what differs between the versions.
type config struct {
	pkg     string // package and schema directory name
	version string // "1.6" or "2.0.1"
	// requestFile and responseFile give the schema file of an action.
	requestSuffix string
	// enumNames names inline enumerations, by "<Owner>.<prop>" or "<prop>".
	enumNames map[string]string
	// objectNames names inline objects, by property name.
	objectNames map[string]string
	// defNames overrides the name of a schema definition.
	defNames map[string]string
}

func v16Config() config {
	return config{
		pkg: "v16", version: "1.6", requestSuffix: "",
		enumNames: map[string]string{
			"IdTagInfo.status":                            "AuthorizationStatus",
			"BootNotificationResponse.status":             "RegistrationStatus",
			"CancelReservationResponse.status":            "CancelReservationStatus",
			"ChangeAvailabilityRequest.type":              "AvailabilityType",
			"ChangeAvailabilityResponse.status":           "AvailabilityStatus",
			"ChangeConfigurationResponse.status":          "ConfigurationStatus",
			"ClearCacheResponse.status":                   "ClearCacheStatus",
			"chargingProfilePurpose":                      "ChargingProfilePurpose",
			"ClearChargingProfileResponse.status":         "ClearChargingProfileStatus",
			"DataTransferResponse.status":                 "DataTransferStatus",
			"DiagnosticsStatusNotificationRequest.status": "DiagnosticsStatus",
			"FirmwareStatusNotificationRequest.status":    "FirmwareStatus",
			"chargingRateUnit":                            "ChargingRateUnit",
			"GetCompositeScheduleResponse.status":         "GetCompositeScheduleStatus",
			"context":                                     "ReadingContext",
			"format":                                      "ValueFormat",
			"measurand":                                   "Measurand",
			"phase":                                       "Phase",
			"location":                                    "Location",
			"unit":                                        "UnitOfMeasure",
			"chargingProfileKind":                         "ChargingProfileKind",
			"recurrencyKind":                              "RecurrencyKind",
			"RemoteStartTransactionResponse.status":       "RemoteStartStopStatus",
			"RemoteStopTransactionResponse.status":        "RemoteStartStopStatus",
			"ReserveNowResponse.status":                   "ReservationStatus",
			"ResetRequest.type":                           "ResetType",
			"ResetResponse.status":                        "ResetStatus",
			"SendLocalListRequest.updateType":             "UpdateType",
			"SendLocalListResponse.status":                "UpdateStatus",
			"SetChargingProfileResponse.status":           "ChargingProfileStatus",
			"StatusNotificationRequest.errorCode":         "ChargePointErrorCode",
			"StatusNotificationRequest.status":            "ChargePointStatus",
			"StopTransactionRequest.reason":               "Reason",
			"TriggerMessageRequest.requestedMessage":      "MessageTrigger",
			"TriggerMessageResponse.status":               "TriggerMessageStatus",
			"UnlockConnectorResponse.status":              "UnlockStatus",
		},
		objectNames: map[string]string{
			"idTagInfo":              "IdTagInfo",
			"chargingSchedule":       "ChargingSchedule",
			"chargingSchedulePeriod": "ChargingSchedulePeriod",
			"configurationKey":       "KeyValue",
			"meterValue":             "MeterValue",
			"transactionData":        "MeterValue",
			"sampledValue":           "SampledValue",
			"chargingProfile":        "ChargingProfile",
			"csChargingProfiles":     "ChargingProfile",
			"localAuthorizationList": "AuthorizationData",
		},
		defNames: map[string]string{
			"FirmwareStatusEnumType":       "SignedFirmwareStatus",
			"MessageTriggerEnumType":       "ExtendedMessageTrigger",
			"TriggerMessageStatusEnumType": "TriggerMessageStatus",
			"LogEnumType":                  "LogType",
		},
	}
}

func v201Config() config {
	return config{
		pkg: "v201", version: "2.0.1", requestSuffix: "Request",
		defNames: map[string]string{
			// Named after the fields that use them ("type", "eventType",
			// ...), and to keep clear of object and message names.
			"IdTokenEnumType":           "IdTokenType",
			"VPNEnumType":               "VPNType",
			"DataEnumType":              "DataType",
			"ConnectorEnumType":         "ConnectorType",
			"LogEnumType":               "LogType",
			"MonitorEnumType":           "MonitorType",
			"UpdateEnumType":            "UpdateType",
			"ResetEnumType":             "ResetType",
			"AttributeEnumType":         "AttributeType",
			"EventNotificationEnumType": "EventNotificationType",
		},
	}
}

// goType is one generated named type.
type goType struct {
	name   string
	enum   bool
	values []string // enum
	fields []field  // object
	// extensible objects (CustomData) accept fields the schema does not name.
	extensible bool
	origin     string // where it was first seen
	message    string // "request" or "response" for a message payload
	action     string
}

type field struct {
	json, name, typ string
	required        bool
}

func (t *goType) signature() string {
	var b strings.Builder
	for _, f := range t.fields {
		fmt.Fprintf(&b, "%s %s %v;", f.json, f.typ, f.required)
	}
	return b.String()
}

type gen struct {
	cfg   config
	types map[string]*goType
	file  string
	defs  *node
	notes []string
}

func run(cfg config, dir, out string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	g := &gen{cfg: cfg, types: map[string]*goType{}}
	var actions []string
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		if strings.HasSuffix(base, "Response") {
			continue
		}
		action := strings.TrimSuffix(base, cfg.requestSuffix)
		actions = append(actions, action)
		for _, resp := range []bool{false, true} {
			file := filepath.Join(dir, action+cfg.requestSuffix+".json")
			name := action + "Request"
			kindName := "request"
			if resp {
				file = filepath.Join(dir, action+"Response.json")
				name = action + "Response"
				kindName = "response"
			}
			if err := g.message(file, name, action, kindName); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
	}
	for _, n := range g.notes {
		fmt.Fprintln(os.Stderr, "typegen:", cfg.pkg+":", n)
	}
	if err := g.checkIdents(); err != nil {
		return err
	}
	src := g.render(actions)
	formatted, err := format.Source(src)
	if err != nil {
		os.WriteFile(filepath.Join(out, "zz_broken.go.txt"), src, 0o644)
		return fmt.Errorf("format: %w", err)
	}
	return os.WriteFile(filepath.Join(out, "types_gen.go"), formatted, 0o644)
}

func (g *gen) message(file, name, action, kindName string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	root, err := parse(data)
	if err != nil {
		return err
	}
	g.file = filepath.Base(file)
	g.defs, _ = root.get("definitions").(*node)
	t, err := g.object(name, root)
	if err != nil {
		return err
	}
	t.message, t.action = kindName, action
	return nil
}

// object generates the struct type name from schema n.
func (g *gen) object(name string, n *node) (*goType, error) {
	t := &goType{name: goIdent(name), origin: g.file}
	required := map[string]bool{}
	if r, ok := n.get("required").([]any); ok {
		for _, x := range r {
			required[x.(string)] = true
		}
	}
	if ap, ok := n.get("additionalProperties").(bool); !ok || ap {
		t.extensible = true
	}
	props, _ := n.get("properties").(*node)
	if props != nil {
		for _, key := range props.keys {
			typ, err := g.typeOf(props.get(key).(*node), name, key)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", name, key, err)
			}
			t.fields = append(t.fields, field{json: key, name: goIdent(title(key)), typ: typ, required: required[key]})
		}
	}
	return g.add(t)
}

func (g *gen) add(t *goType) (*goType, error) {
	old, ok := g.types[t.name]
	if !ok {
		g.types[t.name] = t
		return t, nil
	}
	if old.enum != t.enum {
		return nil, fmt.Errorf("type %s is both an enumeration and an object (%s, %s)", t.name, old.origin, t.origin)
	}
	if t.enum {
		if !slices.Equal(old.values, t.values) {
			for _, v := range t.values {
				if !slices.Contains(old.values, v) {
					old.values = append(old.values, v)
				}
			}
			g.notes = append(g.notes, fmt.Sprintf("enumeration %s differs between %s and %s; constants are their union", t.name, old.origin, t.origin))
		}
		return old, nil
	}
	if old.signature() != t.signature() {
		return nil, fmt.Errorf("object %s differs between %s and %s", t.name, old.origin, t.origin)
	}
	return old, nil
}

// typeOf returns the Go type of property prop of owner.
func (g *gen) typeOf(n *node, owner, prop string) (string, error) {
	if ref, ok := n.get("$ref").(string); ok {
		def, ok := strings.CutPrefix(ref, "#/definitions/")
		if !ok || g.defs == nil {
			return "", fmt.Errorf("unsupported $ref %q", ref)
		}
		dn, _ := g.defs.get(def).(*node)
		if dn == nil {
			return "", fmt.Errorf("missing definition %q", def)
		}
		name := g.defName(def)
		if enum, ok := dn.get("enum").([]any); ok {
			return g.enum(name, enum)
		}
		t, err := g.object(name, dn)
		if err != nil {
			return "", err
		}
		return t.name, nil
	}
	if enum, ok := n.get("enum").([]any); ok {
		name := g.cfg.enumNames[owner+"."+prop]
		if name == "" {
			name = g.cfg.enumNames[prop]
		}
		if name == "" {
			return "", fmt.Errorf("no name for inline enumeration %s.%s", owner, prop)
		}
		return g.enum(name, enum)
	}
	switch typ, _ := n.get("type").(string); typ {
	case "string":
		if f, _ := n.get("format").(string); f == "date-time" {
			return "DateTime", nil
		}
		return "string", nil
	case "integer":
		return "int", nil
	case "number":
		return "float64", nil
	case "boolean":
		return "bool", nil
	case "array":
		items, _ := n.get("items").(*node)
		if items == nil {
			return "", errors.New("array without items")
		}
		elem, err := g.typeOf(items, owner, prop)
		if err != nil {
			return "", err
		}
		return "[]" + elem, nil
	case "object":
		name := g.cfg.objectNames[prop]
		if name == "" {
			return "", fmt.Errorf("no name for inline object %s.%s", owner, prop)
		}
		t, err := g.object(name, n)
		if err != nil {
			return "", err
		}
		return t.name, nil
	case "":
		return "json.RawMessage", nil
	}
	return "", fmt.Errorf("unsupported type %v", n.get("type"))
}

func (g *gen) defName(def string) string {
	if n, ok := g.cfg.defNames[def]; ok {
		return n
	}
	if n, ok := strings.CutSuffix(def, "EnumType"); ok {
		return n
	}
	n, _ := strings.CutSuffix(def, "Type")
	return n
}

func (g *gen) enum(name string, values []any) (string, error) {
	t := &goType{name: goIdent(name), enum: true, origin: g.file}
	for _, v := range values {
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("enumeration %s has a non-string value", name)
		}
		t.values = append(t.values, s)
	}
	t, err := g.add(t)
	if err != nil {
		return "", err
	}
	return t.name, nil
}

// constName is the Go constant of an enumeration value.
func constName(typ, value string) string {
	var b strings.Builder
	up := true
	for _, r := range value {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return typ + goIdent(b.String())
}

// checkIdents fails when two generated identifiers collide.
func (g *gen) checkIdents() error {
	seen := map[string]string{"DateTime": "alias", "NewPayload": "func"}
	for _, t := range g.types {
		if prev, ok := seen[t.name]; ok {
			return fmt.Errorf("identifier %s used twice (%s)", t.name, prev)
		}
		seen[t.name] = "type"
	}
	for _, t := range g.types {
		for _, v := range t.values {
			c := constName(t.name, v)
			if prev, ok := seen[c]; ok {
				return fmt.Errorf("identifier %s used twice (%s, %s)", c, prev, t.name)
			}
			seen[c] = t.name
		}
	}
	return nil
}

func (g *gen) render(actions []string) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Code generated by ocpp/internal/typegen from the OCPP %s JSON schemas; DO NOT EDIT.\n\n", g.cfg.version)
	p("package %s\n\n", g.cfg.pkg)
	p("import (\n\"encoding/json\"\n\n\"github.com/chargedesk/chargedesk/ocpp\"\n)\n\n")
	p("var _ json.RawMessage // not every version uses it\n\n")
	p("// DateTime is an OCPP dateTime; see ocpp.DateTime.\ntype DateTime = ocpp.DateTime\n\n")

	p("// NewPayload returns a pointer to a new zero request (response false) or\n")
	p("// response payload of action, or nil when OCPP %s has no such action.\n", g.cfg.version)
	p("func NewPayload(action string, response bool) any {\n")
	p("if response {\nswitch action {\n")
	for _, a := range actions {
		p("case %q:\nreturn new(%s)\n", a, goIdent(a+"Response"))
	}
	p("}\nreturn nil\n}\nswitch action {\n")
	for _, a := range actions {
		p("case %q:\nreturn new(%s)\n", a, goIdent(a+"Request"))
	}
	p("}\nreturn nil\n}\n\n")

	// Messages first, in action order, then other objects and enumerations
	// by name.
	for _, a := range actions {
		for _, suffix := range []string{"Request", "Response"} {
			g.renderObject(&b, g.types[goIdent(a+suffix)])
		}
	}
	var names []string
	for name, t := range g.types {
		if t.message == "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if t := g.types[name]; !t.enum {
			g.renderObject(&b, t)
		}
	}
	for _, name := range names {
		if t := g.types[name]; t.enum {
			p("// %s is an enumeration of OCPP %s (schema %s).\ntype %s string\n\n", t.name, g.cfg.version, t.origin, t.name)
			p("// The %s values.\nconst (\n", t.name)
			for _, v := range t.values {
				p("%s %s = %q\n", constName(t.name, v), t.name, v)
			}
			p(")\n\n")
		}
	}
	return b.Bytes()
}

func (g *gen) renderObject(b *bytes.Buffer, t *goType) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	switch t.message {
	case "request":
		p("// %s is the payload of %s %s CALL.\n", t.name, article(t.action), t.action)
	case "response":
		p("// %s is the payload of the CALLRESULT that answers %s.\n", t.name, t.action)
	default:
		p("// %s is an object of OCPP %s (schema %s).\n", t.name, g.cfg.version, t.origin)
	}
	if t.extensible && len(t.fields) > 0 {
		p("// The schema allows fields beyond these; they are dropped when decoding.\n")
	}
	if len(t.fields) == 0 {
		p("type %s struct{}\n\n", t.name)
		return
	}
	p("type %s struct {\n", t.name)
	for _, f := range t.fields {
		typ, opt := f.typ, ""
		if !f.required {
			switch {
			case typ == "DateTime":
				opt = ",omitzero"
			case typ == "int" || typ == "float64" || typ == "bool":
				typ = "*" + typ
				opt = ",omitempty"
			case g.types[typ] != nil && !g.types[typ].enum:
				typ = "*" + typ
				opt = ",omitempty"
			default:
				opt = ",omitempty"
			}
		}
		p("%s %s `json:\"%s%s\"`\n", f.name, typ, f.json, opt)
	}
	p("}\n\n")
}

// article returns the indefinite article for word.
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// title upper-cases the first letter of s.
func title(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// goIdent applies Go initialisms: a word "Id" or "Url" becomes "ID" or
// "URL" ("IdTag" → "IDTag", "Idle" stays).
func goIdent(s string) string {
	for _, w := range []struct{ from, to string }{{"Id", "ID"}, {"Url", "URL"}} {
		var b strings.Builder
		for i := 0; i < len(s); {
			end := i + len(w.from)
			if strings.HasPrefix(s[i:], w.from) && (end == len(s) || !unicode.IsLower(rune(s[end]))) {
				b.WriteString(w.to)
				i = end
				continue
			}
			b.WriteByte(s[i])
			i++
		}
		s = b.String()
	}
	return s
}

// node is a JSON object that keeps its key order.
type node struct {
	keys []string
	m    map[string]any
}

func (n *node) get(k string) any {
	if n == nil {
		return nil
	}
	return n.m[k]
}

func parse(data []byte) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	v, err := decode(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	n, ok := v.(*node)
	if !ok {
		return nil, errors.New("schema is not an object")
	}
	return n, nil
}

func decode(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		n := &node{m: map[string]any{}}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := decode(d)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.(string))
			n.m[k.(string)] = v
		}
		_, err := d.Token()
		return n, err
	case json.Delim('['):
		var a []any
		for d.More() {
			v, err := decode(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if a == nil {
			a = []any{}
		}
		_, err := d.Token()
		return a, err
	}
	return tok, nil
}
