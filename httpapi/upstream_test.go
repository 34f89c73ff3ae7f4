package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// TestUpstreamRoute sets, reads and resets a charger's proxy-mode route
// over HTTP on a real store: the password is never shown, a basic route
// keeps its stored password when one is not sent, bad routes get 400, an
// unknown charger 404, and the link's state and held messages are shown as
// the store has them.
func TestUpstreamRoute(t *testing.T) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: "CP-U", BootStatus: chargedesk.RegistrationAccepted}); err != nil {
		t.Fatal(err)
	}
	api := start(t, httpapi.Config{Store: store, Upstream: "wss://csms.example.net/ocpp", UpstreamStore: store})
	type view struct {
		ChargerID string `json:"chargerId"`
		Route     struct {
			URL         string `json:"url"`
			Effective   string `json:"effectiveUrl"`
			Auth        string `json:"auth"`
			Username    string `json:"username"`
			PasswordSet bool   `json:"passwordSet"`
			UpdatedBy   string `json:"updatedBy"`
		} `json:"route"`
		Link *chargedesk.UpstreamLink `json:"link"`
		Held struct {
			Messages int       `json:"messages"`
			OldestAt time.Time `json:"oldestAt"`
		} `json:"held"`
	}
	var v view
	wantJSON(t, api.call("GET", "/api/v1/chargers/CP-U/upstream", ""), http.StatusOK, &v)
	if v.Route.Auth != "forward" || v.Route.Effective != "wss://csms.example.net/ocpp/CP-U" || v.Link != nil || v.Held.Messages != 0 {
		t.Fatalf("defaults: %+v", v)
	}

	res := api.call("PUT", "/api/v1/chargers/CP-U/upstream", `{"url":"ws://10.0.0.7:9000/ocpp","auth":"basic","username":"cp-u","password":"hunter22"}`)
	wantJSON(t, res, http.StatusOK, &v)
	if strings.Contains(string(res.body), "hunter22") {
		t.Fatalf("password shown: %s", res.body)
	}
	if v.Route.Effective != "ws://10.0.0.7:9000/ocpp/CP-U" || v.Route.Auth != "basic" || v.Route.Username != "cp-u" || !v.Route.PasswordSet || v.Route.UpdatedBy != "operator:alice" {
		t.Fatalf("after PUT: %+v", v.Route)
	}
	// A new URL without the password keeps the stored one.
	wantJSON(t, api.call("PUT", "/api/v1/chargers/CP-U/upstream", `{"url":"ws://10.0.0.8:9000/ocpp","auth":"basic","username":"cp-u"}`), http.StatusOK, &v)
	if r, err := store.UpstreamRoute(ctx, "CP-U"); err != nil || r.Password != "hunter22" || r.URL != "ws://10.0.0.8:9000/ocpp" {
		t.Fatalf("stored route %+v %v", r, err)
	}

	for _, bad := range []struct{ body, msg string }{
		{`{"url":"http://x/ocpp"}`, "ws://"},
		{`{"auth":"basic","username":"a:b","password":"x"}`, "username"},
		{`{"auth":"none","username":"u"}`, "only with upstream auth basic"},
		{`{"auth":"token"}`, "forward, basic or none"},
		{`{"url":"ws://x/ocpp","extra":1}`, "extra"},
	} {
		wantError(t, api.call("PUT", "/api/v1/chargers/CP-U/upstream", bad.body), http.StatusBadRequest, "invalid", bad.msg)
	}
	wantError(t, api.call("PUT", "/api/v1/chargers/CP-NONE/upstream", `{}`), http.StatusNotFound, "not_found", "CP-NONE")
	wantError(t, api.call("GET", "/api/v1/chargers/CP-NONE/upstream", ""), http.StatusNotFound, "not_found", "CP-NONE")

	// What the node holding the charger recorded.
	at := time.Now().UTC().Truncate(time.Microsecond)
	if err := store.RecordUpstreamLinks(ctx, []chargedesk.UpstreamLink{{ChargerID: "CP-U", Node: "node-2", URL: "ws://10.0.0.8:9000/ocpp/CP-U",
		Since: at, LastError: "upstream refused: HTTP 503", DialFailures: 4, UpdatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	if err := store.HoldUpstream(ctx, &chargedesk.HeldMessage{ChargerID: "CP-U", Protocol: chargedesk.OCPP16, MessageID: "m1",
		Action: "StartTransaction", Payload: json.RawMessage(`{"connectorId":1}`), HeldAt: at}); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, api.call("GET", "/api/v1/chargers/CP-U/upstream", ""), http.StatusOK, &v)
	if v.Link == nil || v.Link.Up || v.Link.DialFailures != 4 || v.Link.Node != "node-2" || v.Held.Messages != 1 || !v.Held.OldestAt.Equal(at) {
		t.Fatalf("link and held: %+v %+v", v.Link, v.Held)
	}

	if res := api.call("DELETE", "/api/v1/chargers/CP-U/upstream", ""); res.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", res.status, res.body)
	}
	v = view{}
	wantJSON(t, api.call("GET", "/api/v1/chargers/CP-U/upstream", ""), http.StatusOK, &v)
	if v.Route.URL != "" || v.Route.Auth != "forward" || v.Route.PasswordSet || v.Route.Effective != "wss://csms.example.net/ocpp/CP-U" {
		t.Fatalf("after DELETE: %+v", v.Route)
	}

	// Not in proxy mode: no such route.
	plain := start(t, httpapi.Config{Store: store})
	wantError(t, plain.call("GET", "/api/v1/chargers/CP-U/upstream", ""), http.StatusNotFound, "not_found", "")
}
