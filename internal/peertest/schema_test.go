package peertest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chargedesk/chargedesk"
)

// schemaSet validates payloads against the official OCPP JSON schemas, so
// the test CSMS notices a peer (or itself) sending what the specification
// does not allow. A nil *schemaSet validates nothing.
type schemaSet struct {
	dir string

	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}

// findSchemas looks for the schemas in $CHARGEDESK_OCPP_SCHEMAS, then in
// shared/ocpp-schemas beside the repository.
func findSchemas() (*schemaSet, error) {
	dirs := []string{os.Getenv("CHARGEDESK_OCPP_SCHEMAS"),
		filepath.Join(OCPPRPCDir(), "..", "..", "..", "shared", "ocpp-schemas")}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "v16", "BootNotification.json")); err == nil {
			abs, err := filepath.Abs(d)
			if err != nil {
				return nil, err
			}
			return &schemaSet{dir: abs, compiled: map[string]*jsonschema.Schema{}}, nil
		}
	}
	return nil, errNoSchemas
}

// validate checks the payload of a CALL (response false) or CALLRESULT
// (response true) of the action.
func (s *schemaSet) validate(p chargedesk.Protocol, action string, response bool, payload []byte) error {
	if s == nil {
		return nil
	}
	var file string
	switch {
	case p == chargedesk.OCPP16 && response:
		file = filepath.Join(s.dir, "v16", action+"Response.json")
	case p == chargedesk.OCPP16:
		file = filepath.Join(s.dir, "v16", action+".json")
	case response:
		file = filepath.Join(s.dir, "v201", action+"Response.json")
	default:
		file = filepath.Join(s.dir, "v201", action+"Request.json")
	}
	sch, err := s.schema(file)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("payload is not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return nil
}

func (s *schemaSet) schema(file string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[file]; ok {
		return sch, nil
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(file)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", filepath.Base(file), err)
	}
	s.compiled[file] = sch
	return sch, nil
}
