package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/google/go-cmp/cmp"
)

func TestTransactionLists(t *testing.T) {
	tx := &chargedesk.Transaction{ID: "7", ChargerID: "CP1", ConnectorID: 1, IDTag: "TAG1", StartedAt: testNow, UpdatedAt: testNow}
	tests := []struct {
		name       string
		path       string
		wantFilter chargedesk.TransactionFilter
	}{
		{"charger all", "/api/v1/chargers/CP1/transactions", chargedesk.TransactionFilter{ChargerID: "CP1", Limit: 100}},
		{"charger active", "/api/v1/chargers/CP1/transactions?active=true&limit=5", chargedesk.TransactionFilter{ChargerID: "CP1", ActiveOnly: true, Limit: 5}},
		{"all", "/api/v1/transactions", chargedesk.TransactionFilter{Limit: 100}},
		{"by idTag active", "/api/v1/transactions?idTag=TAG1&active=true", chargedesk.TransactionFilter{IDTag: "TAG1", ActiveOnly: true, Limit: 100}},
		{"active false lists all", "/api/v1/transactions?active=false&chargerId=CP1", chargedesk.TransactionFilter{ChargerID: "CP1", Limit: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			filters := newCalls[chargedesk.TransactionFilter]()
			store := &fakeStore{
				ChargerFn: func(_ context.Context, id string) (*chargedesk.Charger, error) { return testCharger(id), nil },
				TransactionsFn: func(_ context.Context, f chargedesk.TransactionFilter) ([]*chargedesk.Transaction, error) {
					filters.add(f)
					return []*chargedesk.Transaction{tx}, nil
				},
			}
			api := start(t, httpapi.Config{Store: store})
			var got struct {
				Transactions []*chargedesk.Transaction `json:"transactions"`
			}
			wantJSON(t, api.call("GET", tt.path, ""), http.StatusOK, &got)
			if diff := cmp.Diff([]*chargedesk.Transaction{tx}, got.Transactions); diff != "" {
				t.Errorf("transactions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]chargedesk.TransactionFilter{tt.wantFilter}, filters.all()); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransactionListErrors(t *testing.T) {
	store := &fakeStore{
		ChargerFn: func(_ context.Context, id string) (*chargedesk.Charger, error) { return nil, notFound("charger " + id) },
		TransactionsFn: func(context.Context, chargedesk.TransactionFilter) ([]*chargedesk.Transaction, error) {
			return nil, nil
		},
	}
	api := start(t, httpapi.Config{Store: store})
	tests := []struct {
		name, path string
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"unknown charger", "/api/v1/chargers/CP9/transactions", 404, chargedesk.ENOTFOUND, "CP9"},
		{"bad active", "/api/v1/transactions?active=yes%20please", 400, chargedesk.EINVALID, "active must be true or false"},
		{"bad limit", "/api/v1/chargers/CP1/transactions?limit=-1", 400, chargedesk.EINVALID, "limit must be"},
		{"long idTag", "/api/v1/transactions?idTag=0123456789012345678901234567890123456", 400, chargedesk.EINVALID, "idTag is longer"},
		{"bad chargerId", "/api/v1/transactions?chargerId=a:b", 400, chargedesk.EINVALID, "character outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, api.call("GET", tt.path, ""), tt.wantStatus, tt.wantCode, tt.wantMsg)
		})
	}
	t.Run("empty list is an array", func(t *testing.T) {
		res := api.call("GET", "/api/v1/transactions", "")
		if string(res.body) != `{"transactions":[]}`+"\n" {
			t.Errorf("body = %s, want an empty array", res.body)
		}
	})
}
