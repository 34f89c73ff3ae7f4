package ocpp

import (
	"bytes"
	"encoding/json"
)

// DropNulls returns payload without its top-level properties whose value is
// null, and whether it dropped any.
//
// The schemas of both versions forbid null (an optional field is absent, not
// null), yet chargers built on some libraries answer with "statusInfo":null
// and the like. An absent and a null optional field mean the same, so the
// central system drops them from what it receives before validating, rather
// than refusing a charger's message or reporting a command it carried out
// as failed. Nested nulls are left to the validator. What chargedesk sends
// never contains null.
func DropNulls(payload json.RawMessage) (json.RawMessage, bool) {
	if !bytes.Contains(payload, []byte("null")) {
		return payload, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return payload, false
	}
	dropped := false
	for k, v := range fields {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(fields, k)
			dropped = true
		}
	}
	if !dropped {
		return payload, false
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return payload, false
	}
	return out, true
}
