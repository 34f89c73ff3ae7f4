package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/google/go-cmp/cmp"
)

func testCharger(id string) *chargedesk.Charger {
	return &chargedesk.Charger{
		ID: id, Protocol: chargedesk.OCPP16, Connected: true, BootStatus: chargedesk.RegistrationAccepted,
		RegisteredAt: testNow.Add(-time.Hour),
		Connectors: []chargedesk.Connector{
			{ChargerID: id, ID: 1, Status: chargedesk.StatusAvailable, ErrorCode: "NoError"},
			{ChargerID: id, ID: 2, Status: chargedesk.StatusFaulted, ErrorCode: "ConnectorLockFailure"},
		},
	}
}

func TestChargerList(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name       string
		query      string
		stored     []*chargedesk.Charger
		wantFilter chargedesk.ChargerFilter
		wantIDs    []string
		wantNext   string
	}{
		{"defaults", "", []*chargedesk.Charger{testCharger("CP1"), testCharger("CP2")},
			chargedesk.ChargerFilter{Limit: 100}, []string{"CP1", "CP2"}, ""},
		{"connected true", "?connected=true", []*chargedesk.Charger{testCharger("CP1")},
			chargedesk.ChargerFilter{Connected: &yes, Limit: 100}, []string{"CP1"}, ""},
		{"connected false", "?connected=false", nil,
			chargedesk.ChargerFilter{Connected: &no, Limit: 100}, []string{}, ""},
		{"full page has next", "?after=CP0&limit=2", []*chargedesk.Charger{testCharger("CP1"), testCharger("CP2")},
			chargedesk.ChargerFilter{AfterID: "CP0", Limit: 2}, []string{"CP1", "CP2"}, "CP2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			filters := newCalls[chargedesk.ChargerFilter]()
			store := &fakeStore{ChargersFn: func(_ context.Context, f chargedesk.ChargerFilter) ([]*chargedesk.Charger, error) {
				filters.add(f)
				return tt.stored, nil
			}}
			api := start(t, httpapi.Config{Store: store})
			var got struct {
				Chargers []*chargedesk.Charger `json:"chargers"`
				Next     string                `json:"next"`
			}
			wantJSON(t, api.call("GET", "/api/v1/chargers"+tt.query, ""), http.StatusOK, &got)
			if diff := cmp.Diff([]chargedesk.ChargerFilter{tt.wantFilter}, filters.all()); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
			ids := []string{}
			for _, c := range got.Chargers {
				ids = append(ids, c.ID)
				if len(c.Connectors) != 2 {
					t.Errorf("charger %s has %d connectors, want 2", c.ID, len(c.Connectors))
				}
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if got.Next != tt.wantNext {
				t.Errorf("next = %q, want %q", got.Next, tt.wantNext)
			}
		})
	}
}

func TestChargerListBadQuery(t *testing.T) {
	api := start(t, httpapi.Config{})
	tests := []struct{ name, query, wantMsg string }{
		{"connected not bool", "?connected=maybe", "connected must be true or false"},
		{"limit not int", "?limit=ten", "limit must be an integer from 1 to 1000"},
		{"limit zero", "?limit=0", "limit must be"},
		{"limit too big", "?limit=1001", "limit must be"},
		{"after not an id", "?after=a%20b", "character outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, api.call("GET", "/api/v1/chargers"+tt.query, ""), http.StatusBadRequest, chargedesk.EINVALID, tt.wantMsg)
		})
	}
}

func TestChargerGet(t *testing.T) {
	tx := &chargedesk.Transaction{ID: "7", ChargerID: "CP1", ConnectorID: 1, IDTag: "TAG1", StartedAt: testNow, UpdatedAt: testNow}
	ev := chargedesk.Event{Seq: 3, ChargerID: "CP1", At: testNow, Direction: chargedesk.DirIn, Type: "CALL", Action: "Heartbeat"}
	tests := []struct {
		name           string
		query          string
		wantEventLimit []int
		wantEvents     int
	}{
		{"default events", "", []int{50}, 1},
		{"some events", "?events=5", []int{5}, 1},
		{"max events", "?events=500", []int{500}, 1},
		{"no events", "?events=0", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txFilters := newCalls[chargedesk.TransactionFilter]()
			eventLimits := newCalls[int]()
			store := &fakeStore{
				ChargerFn: func(_ context.Context, id string) (*chargedesk.Charger, error) {
					if id != "CP1" {
						return nil, notFound("charger " + id)
					}
					return testCharger(id), nil
				},
				TransactionsFn: func(_ context.Context, f chargedesk.TransactionFilter) ([]*chargedesk.Transaction, error) {
					txFilters.add(f)
					return []*chargedesk.Transaction{tx}, nil
				},
				RecentEventsFn: func(_ context.Context, id string, limit int) ([]chargedesk.Event, error) {
					eventLimits.add(limit)
					return []chargedesk.Event{ev}, nil
				},
			}
			api := start(t, httpapi.Config{Store: store})
			var got struct {
				chargedesk.Charger
				ActiveTransactions []*chargedesk.Transaction `json:"activeTransactions"`
				RecentEvents       []chargedesk.Event        `json:"recentEvents"`
			}
			wantJSON(t, api.call("GET", "/api/v1/chargers/CP1"+tt.query, ""), http.StatusOK, &got)
			if diff := cmp.Diff(*testCharger("CP1"), got.Charger); diff != "" {
				t.Errorf("charger (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]*chargedesk.Transaction{tx}, got.ActiveTransactions); diff != "" {
				t.Errorf("transactions (-want +got):\n%s", diff)
			}
			if len(got.RecentEvents) != tt.wantEvents {
				t.Errorf("got %d events, want %d", len(got.RecentEvents), tt.wantEvents)
			}
			wantTx := []chargedesk.TransactionFilter{{ChargerID: "CP1", ActiveOnly: true}}
			if diff := cmp.Diff(wantTx, txFilters.all()); diff != "" {
				t.Errorf("transaction filter (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEventLimit, eventLimits.all()); diff != "" {
				t.Errorf("event limits (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		store := &fakeStore{ChargerFn: func(_ context.Context, id string) (*chargedesk.Charger, error) { return nil, notFound("charger " + id) }}
		api := start(t, httpapi.Config{Store: store})
		wantError(t, api.call("GET", "/api/v1/chargers/CP9", ""), http.StatusNotFound, chargedesk.ENOTFOUND, "CP9")
		wantError(t, api.call("GET", "/api/v1/chargers/CP1?events=501", ""), http.StatusBadRequest, chargedesk.EINVALID, "events must be an integer from 0 to 500")
		wantError(t, api.call("GET", "/api/v1/chargers/bad%20id", ""), http.StatusBadRequest, chargedesk.EINVALID, "character outside")
	})
}

func TestChargerRegister(t *testing.T) {
	const password = "s3cret-Passw0rd-xyz"
	tests := []struct {
		name         string
		body         string
		storeErr     error
		wantStatus   int
		wantCode     string
		wantMsg      string
		wantReg      *chargedesk.ChargerRegistration // PasswordHash checked apart
		wantPassword string
	}{
		{
			name:       "with password",
			body:       `{"id":"CP1","description":"Lot A","password":"` + password + `"}`,
			wantStatus: http.StatusCreated,
			wantReg:    &chargedesk.ChargerRegistration{ID: "CP1", Description: "Lot A", BootStatus: chargedesk.RegistrationAccepted}, wantPassword: password,
		},
		{
			name:       "tls only with boot status",
			body:       `{"id":"CP2","bootStatus":"Pending"}`,
			wantStatus: http.StatusCreated,
			wantReg:    &chargedesk.ChargerRegistration{ID: "CP2", BootStatus: chargedesk.RegistrationPending},
		},
		{
			name: "duplicate", body: `{"id":"CP1"}`, storeErr: chargedesk.Errorf(chargedesk.ECONFLICT, "charger CP1 exists"),
			wantStatus: http.StatusConflict, wantCode: chargedesk.ECONFLICT, wantMsg: "CP1 exists",
			wantReg: &chargedesk.ChargerRegistration{ID: "CP1", BootStatus: chargedesk.RegistrationAccepted},
		},
		{name: "short password", body: `{"id":"CP1","password":"short"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "16 to 40"},
		{name: "empty password", body: `{"id":"CP1","password":""}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "16 to 40"},
		{name: "missing id", body: `{"description":"x"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "charger id is empty"},
		{name: "bad id", body: `{"id":"CP:1"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "character outside"},
		{name: "bad boot status", body: `{"id":"CP1","bootStatus":"Maybe"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "boot status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			regs := newCalls[chargedesk.ChargerRegistration]()
			store := &fakeStore{RegisterChargerFn: func(_ context.Context, reg chargedesk.ChargerRegistration) (*chargedesk.Charger, error) {
				regs.add(reg)
				if tt.storeErr != nil {
					return nil, tt.storeErr
				}
				return &chargedesk.Charger{ID: reg.ID, Description: reg.Description, BootStatus: reg.BootStatus, RegisteredAt: testNow, Connectors: []chargedesk.Connector{}}, nil
			}}
			api := start(t, httpapi.Config{Store: store})
			res := api.call("POST", "/api/v1/chargers", tt.body)
			got := regs.all()
			if tt.wantReg == nil {
				wantError(t, res, tt.wantStatus, tt.wantCode, tt.wantMsg)
				if len(got) != 0 {
					t.Errorf("store called with %+v for an invalid registration", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("store called %d times, want 1", len(got))
			}
			reg := got[0]
			if tt.wantPassword == "" && reg.PasswordHash != "" {
				t.Errorf("PasswordHash = %q, want empty for a TLS-only charger", reg.PasswordHash)
			}
			if tt.wantPassword != "" && !chargedesk.CheckPassword(reg.PasswordHash, tt.wantPassword) {
				t.Errorf("PasswordHash %q does not match the password", reg.PasswordHash)
			}
			reg.PasswordHash = ""
			if diff := cmp.Diff(*tt.wantReg, reg); diff != "" {
				t.Errorf("registration (-want +got):\n%s", diff)
			}
			if tt.wantCode != "" {
				wantError(t, res, tt.wantStatus, tt.wantCode, tt.wantMsg)
				return
			}
			var c chargedesk.Charger
			wantJSON(t, res, tt.wantStatus, &c)
			if c.ID != tt.wantReg.ID {
				t.Errorf("answered charger %q, want %q", c.ID, tt.wantReg.ID)
			}
			if loc := res.header.Get("Location"); loc != "/api/v1/chargers/"+tt.wantReg.ID {
				t.Errorf("Location = %q", loc)
			}
			if strings.Contains(string(res.body), password) {
				t.Error("the answer echoes the password")
			}
		})
	}
}

func TestChargerUpdate(t *testing.T) {
	const password = "rotated-Passw0rd-xyz"
	tests := []struct {
		name       string
		body       string
		storeErr   error
		wantStatus int
		wantCode   string
		want       chargedesk.ChargerRegistration // PasswordHash checked apart
		wantPw     string
	}{
		{name: "accept a pending charger", body: `{"bootStatus":"Accepted"}`, wantStatus: 200,
			want: chargedesk.ChargerRegistration{ID: "CP1", Description: "old", PasswordHash: "old-hash", BootStatus: chargedesk.RegistrationAccepted}},
		{name: "rotate password", body: `{"password":"` + password + `"}`, wantStatus: 200,
			want: chargedesk.ChargerRegistration{ID: "CP1", Description: "old", BootStatus: chargedesk.RegistrationPending}, wantPw: password},
		{name: "description", body: `{"description":"bay 4"}`, wantStatus: 200,
			want: chargedesk.ChargerRegistration{ID: "CP1", Description: "bay 4", PasswordHash: "old-hash", BootStatus: chargedesk.RegistrationPending}},
		{name: "short password", body: `{"password":"short"}`, wantStatus: 400, wantCode: chargedesk.EINVALID},
		{name: "unknown field", body: `{"id":"CP2"}`, wantStatus: 400, wantCode: chargedesk.EINVALID},
		{name: "store refuses", body: `{"bootStatus":"Maybe"}`, storeErr: chargedesk.Errorf(chargedesk.EINVALID, "boot status"), wantStatus: 400, wantCode: chargedesk.EINVALID},
		{name: "unknown charger", body: `{"bootStatus":"Accepted"}`, storeErr: chargedesk.Errorf(chargedesk.ENOTFOUND, "charger CP1 is not registered"), wantStatus: 404, wantCode: chargedesk.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got chargedesk.ChargerRegistration
			store := &fakeStore{
				UpdateRegistrationFn: func(_ context.Context, id string, fn func(*chargedesk.ChargerRegistration) error) error {
					if tt.storeErr != nil {
						return tt.storeErr
					}
					got = chargedesk.ChargerRegistration{ID: id, Description: "old", PasswordHash: "old-hash", BootStatus: chargedesk.RegistrationPending}
					return fn(&got)
				},
				ChargerFn: func(_ context.Context, id string) (*chargedesk.Charger, error) {
					return &chargedesk.Charger{ID: id, Connectors: []chargedesk.Connector{}}, nil
				},
			}
			api := start(t, httpapi.Config{Store: store})
			res := api.call("PATCH", "/api/v1/chargers/CP1", tt.body)
			if tt.wantCode != "" {
				wantError(t, res, tt.wantStatus, tt.wantCode, "")
				return
			}
			var c chargedesk.Charger
			wantJSON(t, res, tt.wantStatus, &c)
			if tt.wantPw != "" {
				if !chargedesk.CheckPassword(got.PasswordHash, tt.wantPw) {
					t.Errorf("stored hash does not match the new password")
				}
				got.PasswordHash = ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("registration (-want +got):\n%s", diff)
			}
		})
	}
}
