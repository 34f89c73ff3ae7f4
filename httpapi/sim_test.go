package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
)

// fakeSim records what the sim routes ask of it.
type fakeSim struct {
	injected, cleared []string
	acts              []string
}

var _ httpapi.SimControl = (*fakeSim)(nil)

func (f *fakeSim) Faults() []string { return []string{"lock_mechanical", "token_blocked"} }

func (f *fakeSim) Status(_ context.Context, id string) (any, error) {
	if id == "NOPE" {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger NOPE is not in the simulated fleet")
	}
	return map[string]any{"id": id}, nil
}

func (f *fakeSim) InjectFault(_ context.Context, id string, connector int, fault, idTag string) error {
	if fault == "meteor_strike" {
		return chargedesk.Errorf(chargedesk.EINVALID, "%q is not a fault of the catalogue", fault)
	}
	f.injected = append(f.injected, id+"/"+fault+"/"+idTag)
	return nil
}

func (f *fakeSim) ClearFault(_ context.Context, id string, connector int, fault, idTag string) error {
	f.cleared = append(f.cleared, id+"/"+fault)
	return nil
}

func (f *fakeSim) Act(_ context.Context, id string, connector int, action, idTag string) (string, error) {
	f.acts = append(f.acts, id+"/"+action+"/"+idTag)
	return "card " + idTag + ": Accepted", nil
}

func TestSimRoutes(t *testing.T) {
	t.Run("absent without a fleet", func(t *testing.T) {
		api := start(t, httpapi.Config{})
		wantError(t, api.call("GET", "/api/v1/sim/faults", ""), http.StatusNotFound, chargedesk.ENOTFOUND, "")
	})
	fs := &fakeSim{}
	api := start(t, httpapi.Config{Sim: fs})
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"faults", "GET", "/api/v1/sim/faults", "", 200, ""},
		{"all chargers", "GET", "/api/v1/sim/chargers", "", 200, ""},
		{"one charger", "GET", "/api/v1/sim/chargers/CP-1", "", 200, ""},
		{"unknown charger", "GET", "/api/v1/sim/chargers/NOPE", "", 404, chargedesk.ENOTFOUND},
		{"inject", "POST", "/api/v1/sim/chargers/CP-1/faults", `{"fault":"lock_mechanical","connectorId":1}`, 200, ""},
		{"inject a token fault", "POST", "/api/v1/sim/chargers/CP-1/faults", `{"fault":"token_blocked","idTag":"CARD-1"}`, 200, ""},
		{"unknown fault", "POST", "/api/v1/sim/chargers/CP-1/faults", `{"fault":"meteor_strike"}`, 400, chargedesk.EINVALID},
		{"no fault", "POST", "/api/v1/sim/chargers/CP-1/faults", `{}`, 400, chargedesk.EINVALID},
		{"bad connector", "POST", "/api/v1/sim/chargers/CP-1/faults", `{"fault":"lock_mechanical","connectorId":-1}`, 400, chargedesk.EINVALID},
		{"clear", "DELETE", "/api/v1/sim/chargers/CP-1/faults", `{"fault":"lock_mechanical","connectorId":1}`, 200, ""},
		{"tap", "POST", "/api/v1/sim/chargers/CP-1/connectors/1/actions", `{"action":"tap","idTag":"CARD-1"}`, 200, ""},
		{"tap without card", "POST", "/api/v1/sim/chargers/CP-1/connectors/1/actions", `{"action":"tap"}`, 400, chargedesk.EINVALID},
		{"unknown action", "POST", "/api/v1/sim/chargers/CP-1/connectors/1/actions", `{"action":"kick"}`, 400, chargedesk.EINVALID},
		{"bad connector in path", "POST", "/api/v1/sim/chargers/CP-1/connectors/x/actions", `{"action":"plug"}`, 400, chargedesk.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := api.call(tt.method, tt.path, tt.body)
			if tt.code != "" {
				wantError(t, res, tt.status, tt.code, "")
				return
			}
			if res.status != tt.status {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
		})
	}
	if len(fs.injected) != 2 || fs.injected[1] != "CP-1/token_blocked/CARD-1" || len(fs.cleared) != 1 || len(fs.acts) != 1 {
		t.Fatalf("injected %v cleared %v acts %v", fs.injected, fs.cleared, fs.acts)
	}
	t.Run("needs a key", func(t *testing.T) {
		res := api.raw("GET", "/api/v1/sim/faults", nil, nil)
		if res.status != http.StatusUnauthorized {
			t.Fatalf("status %d", res.status)
		}
	})
}
