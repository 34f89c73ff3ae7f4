package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/google/go-cmp/cmp"
)

func TestAuditList(t *testing.T) {
	entry := func(seq int64) *chargedesk.AuditEntry {
		return &chargedesk.AuditEntry{Seq: seq, At: testNow, Actor: "operator:alice", CommandID: "c1", Kind: "Reset",
			ChargerID: "CP1", Stage: chargedesk.AuditDecision, Allowed: true, PrevHash: "p", Hash: "h"}
	}
	tests := []struct {
		name       string
		query      string
		stored     []*chargedesk.AuditEntry
		wantFilter chargedesk.AuditFilter
		wantNext   int64
	}{
		{"defaults", "", []*chargedesk.AuditEntry{entry(1), entry(2)}, chargedesk.AuditFilter{Limit: 100}, 0},
		{"filtered full page", "?chargerId=CP1&commandId=c1&after=10&limit=2", []*chargedesk.AuditEntry{entry(11), entry(12)},
			chargedesk.AuditFilter{ChargerID: "CP1", CommandID: "c1", AfterSeq: 10, Limit: 2}, 12},
		{"empty", "?after=99", nil, chargedesk.AuditFilter{AfterSeq: 99, Limit: 100}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			filters := newCalls[chargedesk.AuditFilter]()
			store := &fakeStore{AuditEntriesFn: func(_ context.Context, f chargedesk.AuditFilter) ([]*chargedesk.AuditEntry, error) {
				filters.add(f)
				return tt.stored, nil
			}}
			api := start(t, httpapi.Config{Store: store})
			var got struct {
				Entries []*chargedesk.AuditEntry `json:"entries"`
				Next    int64                    `json:"next"`
			}
			wantJSON(t, api.call("GET", "/api/v1/audit"+tt.query, ""), http.StatusOK, &got)
			want := tt.stored
			if want == nil {
				want = []*chargedesk.AuditEntry{}
			}
			if diff := cmp.Diff(want, got.Entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]chargedesk.AuditFilter{tt.wantFilter}, filters.all()); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
			if got.Next != tt.wantNext {
				t.Errorf("next = %d, want %d", got.Next, tt.wantNext)
			}
		})
	}
	t.Run("bad query", func(t *testing.T) {
		api := start(t, httpapi.Config{})
		for _, q := range []string{"?after=-1", "?after=x", "?limit=0", "?chargerId=a:b"} {
			res := api.call("GET", "/api/v1/audit"+q, "")
			wantError(t, res, http.StatusBadRequest, chargedesk.EINVALID, "")
		}
	})
}

func TestAuditVerify(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"intact", nil, http.StatusOK, `{"ok":true}` + "\n"},
		{"broken", chargedesk.Errorf(chargedesk.EINTERNAL, "audit entry 17 hash mismatch"), http.StatusOK, `{"ok":false,"problem":"audit entry 17 hash mismatch"}` + "\n"},
		{"store down", chargedesk.Errorf(chargedesk.EUNAVAILABLE, "database is closed"), http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"database is closed"}}` + "\n"},
		{"store fails", errors.New("disk on fire"), http.StatusInternalServerError, `{"error":{"code":"internal","message":"internal error"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{VerifyAuditFn: func(context.Context) error { return tt.err }}
			api := start(t, httpapi.Config{Store: store})
			res := api.call("GET", "/api/v1/audit/verify", "")
			if res.status != tt.wantStatus || string(res.body) != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", res.status, res.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
