package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestNewRejectsBadConfig(t *testing.T) {
	store, cmd := &fakeStore{}, &fakeCommander{}
	tests := []struct {
		name string
		cfg  httpapi.Config
		want string
	}{
		{"no store", httpapi.Config{Commands: cmd}, "Store"},
		{"no commander", httpapi.Config{Store: store}, "Commander"},
		{"short key", httpapi.Config{Store: store, Commands: cmd, APIKeys: map[string]string{"short": "x"}}, "shorter"},
		{"empty name", httpapi.Config{Store: store, Commands: cmd, APIKeys: map[string]string{aliceKey: ""}}, "name"},
		{"name with space", httpapi.Config{Store: store, Commands: cmd, APIKeys: map[string]string{aliceKey: "a b"}}, "printable"},
		{"name too long", httpapi.Config{Store: store, Commands: cmd, APIKeys: map[string]string{aliceKey: strings.Repeat("n", 65)}}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := httpapi.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		cfg := httpapi.Config{Store: store, Commands: cmd, Registerer: reg}
		if _, err := httpapi.New(cfg); err != nil {
			t.Fatalf("first New: %v", err)
		}
		if _, err := httpapi.New(cfg); err == nil {
			t.Fatal("second New with the same registry succeeded, want a registration error")
		}
	})
}

func TestAuth(t *testing.T) {
	store := &fakeStore{
		ChargersFn: func(context.Context, chargedesk.ChargerFilter) ([]*chargedesk.Charger, error) {
			return nil, nil
		},
	}
	api := start(t, httpapi.Config{Store: store})
	tests := []struct {
		name       string
		header     string
		wantStatus int
		wantMsg    string
	}{
		{"missing header", "", http.StatusUnauthorized, "Bearer"},
		{"basic scheme", "Basic " + aliceKey, http.StatusUnauthorized, "Bearer"},
		{"bearer without key", "Bearer ", http.StatusUnauthorized, "Bearer"},
		{"wrong key", "Bearer " + aliceKey + "x", http.StatusUnauthorized, "not valid"},
		{"prefix of a key", "Bearer " + aliceKey[:20], http.StatusUnauthorized, "not valid"},
		{"right key", "Bearer " + aliceKey, http.StatusOK, ""},
		{"other right key", "Bearer " + bobKey, http.StatusOK, ""},
		{"lower-case scheme", "bearer " + aliceKey, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.header != "" {
				hdr["Authorization"] = tt.header
			}
			res := api.raw("GET", "/api/v1/chargers", nil, hdr)
			if tt.wantStatus == http.StatusOK {
				if res.status != http.StatusOK {
					t.Fatalf("status = %d, want 200; body %s", res.status, res.body)
				}
				return
			}
			wantError(t, res, tt.wantStatus, chargedesk.EUNAUTHORIZED, tt.wantMsg)
			if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", res.header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("no keys configured", func(t *testing.T) {
		api := start(t, httpapi.Config{Store: store, APIKeys: map[string]string{}})
		wantError(t, api.call("GET", "/api/v1/chargers", ""), http.StatusUnauthorized, chargedesk.EUNAUTHORIZED, "not valid")
	})
}

func TestProbes(t *testing.T) {
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "probe_test_total", Help: "A test counter."})
	reg.MustRegister(counter)
	tests := []struct {
		name       string
		cfg        httpapi.Config
		path       string
		wantStatus int
		wantBody   string
	}{
		{"healthz", httpapi.Config{}, "/healthz", http.StatusOK, `"status":"ok"`},
		{"readyz ready", httpapi.Config{Ready: func(context.Context) error { return nil }}, "/readyz", http.StatusOK, `"status":"ok"`},
		{"readyz not ready", httpapi.Config{Ready: func(context.Context) error { return errors.New("bus down") }}, "/readyz", http.StatusServiceUnavailable, `"code":"unavailable"`},
		{"readyz defaults to store ping", httpapi.Config{Store: &fakeStore{PingFn: func(context.Context) error { return nil }}}, "/readyz", http.StatusOK, `"status":"ok"`},
		{"readyz store ping fails", httpapi.Config{Store: &fakeStore{PingFn: func(context.Context) error { return errors.New("db gone") }}}, "/readyz", http.StatusServiceUnavailable, `"code":"unavailable"`},
		{"metrics", httpapi.Config{Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}, "/metrics", http.StatusOK, "probe_test_total 0"},
		{"metrics not configured", httpapi.Config{}, "/metrics", http.StatusNotFound, `"code":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := start(t, tt.cfg)
			res := api.raw("GET", tt.path, nil, nil) // no API key
			if res.status != tt.wantStatus || !strings.Contains(string(res.body), tt.wantBody) {
				t.Fatalf("GET %s = %d %s, want %d with %s", tt.path, res.status, res.body, tt.wantStatus, tt.wantBody)
			}
			if strings.Contains(string(res.body), "bus down") || strings.Contains(string(res.body), "db gone") {
				t.Errorf("body %s leaks the readiness error", res.body)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"invalid", chargedesk.Errorf(chargedesk.EINVALID, "bad thing"), 400, "invalid", "bad thing"},
		{"unauthorized", chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "who"), 401, "unauthorized", "who"},
		{"forbidden", chargedesk.Errorf(chargedesk.EFORBIDDEN, "not you"), 403, "forbidden", "not you"},
		{"not found", chargedesk.Errorf(chargedesk.ENOTFOUND, "charger CP1 not found"), 404, "not_found", "CP1"},
		{"conflict", chargedesk.Errorf(chargedesk.ECONFLICT, "exists"), 409, "conflict", "exists"},
		{"offline", chargedesk.Errorf(chargedesk.EOFFLINE, "no socket"), 409, "charger_offline", "no socket"},
		{"timeout", chargedesk.Errorf(chargedesk.ETIMEOUT, "slow"), 504, "timeout", "slow"},
		{"not implemented", chargedesk.Errorf(chargedesk.ENOTIMPLEMENTED, "later"), 501, "not_implemented", "later"},
		{"not supported", chargedesk.Errorf(chargedesk.ENOTSUPPORTED, "1.6 cannot"), 501, "not_supported", "1.6 cannot"},
		{"unavailable", chargedesk.Errorf(chargedesk.EUNAVAILABLE, "db down"), 503, "unavailable", "db down"},
		{"wrapped domain error", fmt.Errorf("load: %w", chargedesk.Errorf(chargedesk.ENOTFOUND, "gone")), 404, "not_found", "gone"},
		{"internal domain error", chargedesk.Errorf(chargedesk.EINTERNAL, "secret detail"), 500, "internal", "internal error"},
		{"unknown code", chargedesk.Errorf("weird", "secret detail"), 500, "internal", "internal error"},
		{"plain error", errors.New("sqlite: secret detail at /var/lib/db"), 500, "internal", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{ChargerFn: func(context.Context, string) (*chargedesk.Charger, error) { return nil, tt.err }}
			api := start(t, httpapi.Config{Store: store})
			res := api.call("GET", "/api/v1/chargers/CP1", "")
			wantError(t, res, tt.wantStatus, tt.wantCode, tt.wantMsg)
			if strings.Contains(string(res.body), "secret") {
				t.Errorf("body %s leaks an internal error", res.body)
			}
			logged := strings.Contains(api.logs.String(), "secret detail")
			if wantLogged := tt.wantStatus == 500; logged != wantLogged {
				t.Errorf("internal error logged = %v, want %v; logs:\n%s", logged, wantLogged, api.logs)
			}
		})
	}
}

func TestRequestBodyErrors(t *testing.T) {
	store := &fakeStore{
		RegisterChargerFn: func(context.Context, chargedesk.ChargerRegistration) (*chargedesk.Charger, error) {
			return nil, errors.New("must not be reached")
		},
	}
	api := start(t, httpapi.Config{Store: store})
	big := `{"id":"CP1","description":"` + strings.Repeat("a", httpapi.MaxBodyBytes+4096) + `"}`
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantMsg    string
	}{
		{"too large", big, http.StatusRequestEntityTooLarge, "larger than 1048576 bytes"},
		{"unknown field", `{"id":"CP1","colour":"red"}`, http.StatusBadRequest, `unknown field "colour"`},
		{"syntax error", `{"id":"CP1",}`, http.StatusBadRequest, "not valid JSON at byte"},
		{"truncated", `{"id":"CP1"`, http.StatusBadRequest, "ends in the middle"},
		{"empty", ``, http.StatusBadRequest, "empty"},
		{"wrong type", `{"id":42}`, http.StatusBadRequest, `field "id" must be a string, not number`},
		{"not an object", `["CP1"]`, http.StatusBadRequest, "must be a JSON object"},
		{"trailing data", `{"id":"CP1"} {"id":"CP2"}`, http.StatusBadRequest, "data after the JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": "Bearer " + aliceKey}
			res := api.raw("POST", "/api/v1/chargers", strings.NewReader(tt.body), hdr)
			wantError(t, res, tt.wantStatus, chargedesk.EINVALID, tt.wantMsg)
		})
	}
}

func TestUnroutedRequests(t *testing.T) {
	api := start(t, httpapi.Config{})
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantCode           string
	}{
		{"unknown path", "GET", "/api/v1/nothing", http.StatusNotFound, chargedesk.ENOTFOUND},
		{"root", "GET", "/", http.StatusNotFound, chargedesk.ENOTFOUND},
		{"wrong method", "DELETE", "/api/v1/chargers", http.StatusMethodNotAllowed, chargedesk.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := api.call(tt.method, tt.path, "")
			wantError(t, res, tt.wantStatus, tt.wantCode, "")
			if tt.wantStatus == http.StatusMethodNotAllowed && !strings.Contains(res.header.Get("Allow"), "GET") {
				t.Errorf("Allow = %q, want it to list GET", res.header.Get("Allow"))
			}
		})
	}
}

func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	store := &fakeStore{ChargerFn: func(context.Context, string) (*chargedesk.Charger, error) { return nil, notFound("charger") }}
	api := start(t, httpapi.Config{Store: store, Registerer: reg, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})})
	api.call("GET", "/api/v1/chargers/CP1", "")
	api.call("GET", "/api/v1/chargers/CP2", "")
	api.call("GET", "/nowhere", "")
	res := api.raw("GET", "/metrics", nil, nil)
	for _, want := range []string{
		`chargedesk_http_requests_total{code="404",method="GET",route="GET /api/v1/chargers/{id}"} 2`,
		`chargedesk_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`chargedesk_http_request_duration_seconds_count{route="GET /api/v1/chargers/{id}"} 2`,
	} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("metrics lack %s; got:\n%s", want, res.body)
		}
	}
}
