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

func TestTokenList(t *testing.T) {
	tok := func(tag string) *chargedesk.Token {
		return &chargedesk.Token{IDTag: tag, Type: "ISO14443", Status: chargedesk.AuthAccepted, CreatedAt: testNow, UpdatedAt: testNow}
	}
	tests := []struct {
		name       string
		query      string
		stored     []*chargedesk.Token
		wantFilter chargedesk.TokenFilter
		wantNext   string
	}{
		{"defaults", "", []*chargedesk.Token{tok("A"), tok("B")}, chargedesk.TokenFilter{Limit: 100}, ""},
		{"by driver, full page", "?driverId=d1&after=A&limit=1", []*chargedesk.Token{tok("B")}, chargedesk.TokenFilter{DriverID: "d1", AfterTag: "A", Limit: 1}, "B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			filters := newCalls[chargedesk.TokenFilter]()
			store := &fakeStore{TokensFn: func(_ context.Context, f chargedesk.TokenFilter) ([]*chargedesk.Token, error) {
				filters.add(f)
				return tt.stored, nil
			}}
			api := start(t, httpapi.Config{Store: store})
			var got struct {
				Tokens []*chargedesk.Token `json:"tokens"`
				Next   string              `json:"next"`
			}
			wantJSON(t, api.call("GET", "/api/v1/tokens"+tt.query, ""), http.StatusOK, &got)
			if diff := cmp.Diff(tt.stored, got.Tokens); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]chargedesk.TokenFilter{tt.wantFilter}, filters.all()); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
			if got.Next != tt.wantNext {
				t.Errorf("next = %q, want %q", got.Next, tt.wantNext)
			}
		})
	}
	t.Run("bad limit", func(t *testing.T) {
		api := start(t, httpapi.Config{})
		wantError(t, api.call("GET", "/api/v1/tokens?limit=x", ""), 400, chargedesk.EINVALID, "limit")
	})
}

func TestTokenGet(t *testing.T) {
	stored := &chargedesk.Token{IDTag: "TAG 1", Type: "ISO14443", Status: chargedesk.AuthBlocked, CreatedAt: testNow, UpdatedAt: testNow}
	store := &fakeStore{TokenFn: func(_ context.Context, tag string) (*chargedesk.Token, error) {
		if tag != stored.IDTag {
			return nil, notFound("token " + tag)
		}
		return stored, nil
	}}
	api := start(t, httpapi.Config{Store: store})
	t.Run("found, escaped path", func(t *testing.T) {
		var got chargedesk.Token
		wantJSON(t, api.call("GET", "/api/v1/tokens/TAG%201", ""), http.StatusOK, &got)
		if diff := cmp.Diff(*stored, got); diff != "" {
			t.Errorf("token (-want +got):\n%s", diff)
		}
	})
	t.Run("not found", func(t *testing.T) {
		wantError(t, api.call("GET", "/api/v1/tokens/NOPE", ""), 404, chargedesk.ENOTFOUND, "NOPE")
	})
}

func TestTokenPut(t *testing.T) {
	created := testNow.Add(-24 * time.Hour)
	expires := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	existing := &chargedesk.Token{IDTag: "OLD", Type: "ISO14443", Status: chargedesk.AuthAccepted, CreatedAt: created, UpdatedAt: created}
	tests := []struct {
		name       string
		path, body string
		wantStatus int
		wantCode   string
		wantMsg    string
		wantPut    *chargedesk.Token
	}{
		{
			name: "create", path: "/api/v1/tokens/NEW",
			body:       `{"status":"Accepted","expiresAt":"2026-01-01T00:00:00Z","parentIdTag":"GROUP","driverId":"d1"}`,
			wantStatus: http.StatusCreated,
			wantPut: &chargedesk.Token{IDTag: "NEW", Type: "ISO14443", Status: chargedesk.AuthAccepted, ExpiresAt: expires,
				ParentIDTag: "GROUP", DriverID: "d1", CreatedAt: testNow, UpdatedAt: testNow},
		},
		{
			name: "replace keeps createdAt", path: "/api/v1/tokens/OLD",
			body:       `{"idTag":"OLD","type":"KeyCode","status":"Blocked"}`,
			wantStatus: http.StatusOK,
			wantPut:    &chargedesk.Token{IDTag: "OLD", Type: "KeyCode", Status: chargedesk.AuthBlocked, CreatedAt: created, UpdatedAt: testNow},
		},
		{name: "idTag differs", path: "/api/v1/tokens/NEW", body: `{"idTag":"OTHER","status":"Accepted"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "differs"},
		{name: "no status", path: "/api/v1/tokens/NEW", body: `{}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "token status"},
		{name: "status not storable", path: "/api/v1/tokens/NEW", body: `{"status":"ConcurrentTx"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "token status"},
		{name: "bad type", path: "/api/v1/tokens/NEW", body: `{"status":"Accepted","type":"Barcode"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "token type"},
		{name: "long idTag", path: "/api/v1/tokens/0123456789012345678901234567890123456", body: `{"status":"Accepted"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "longer than 36"},
		{name: "long driverId", path: "/api/v1/tokens/NEW", body: `{"status":"Accepted","driverId":"` + strings.Repeat("x", 101) + `"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "driverId"},
		{name: "expiresAt not a time", path: "/api/v1/tokens/NEW", body: `{"status":"Accepted","expiresAt":1700000000}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "RFC 3339"},
		{name: "expiresAt not RFC 3339", path: "/api/v1/tokens/NEW", body: `{"status":"Accepted","expiresAt":"tomorrow"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "RFC 3339"},
		{name: "unknown field", path: "/api/v1/tokens/NEW", body: `{"status":"Accepted","blocked":true}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: `unknown field "blocked"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			puts := newCalls[chargedesk.Token]()
			store := &fakeStore{
				TokenFn: func(_ context.Context, tag string) (*chargedesk.Token, error) {
					if tag == existing.IDTag {
						c := *existing
						return &c, nil
					}
					return nil, notFound("token " + tag)
				},
				PutTokenFn: func(_ context.Context, tok *chargedesk.Token) error {
					puts.add(*tok)
					return nil
				},
			}
			api := start(t, httpapi.Config{Store: store})
			res := api.call("PUT", tt.path, tt.body)
			if tt.wantPut == nil {
				wantError(t, res, tt.wantStatus, tt.wantCode, tt.wantMsg)
				if got := puts.all(); len(got) != 0 {
					t.Errorf("PutToken called with %+v", got)
				}
				return
			}
			var got chargedesk.Token
			wantJSON(t, res, tt.wantStatus, &got)
			if diff := cmp.Diff(*tt.wantPut, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]chargedesk.Token{*tt.wantPut}, puts.all()); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
			if wantLoc := tt.wantStatus == http.StatusCreated; (res.header.Get("Location") != "") != wantLoc {
				t.Errorf("Location = %q, want one only on create", res.header.Get("Location"))
			}
		})
	}
}

func TestTokenPatch(t *testing.T) {
	created := testNow.Add(-24 * time.Hour)
	expires := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := chargedesk.Token{IDTag: "TAG1", Type: "ISO14443", Status: chargedesk.AuthAccepted, ExpiresAt: expires,
		ParentIDTag: "GROUP", DriverID: "d1", CreatedAt: created, UpdatedAt: created}
	with := func(f func(*chargedesk.Token)) *chargedesk.Token {
		tok := base
		f(&tok)
		tok.UpdatedAt = testNow
		return &tok
	}
	tests := []struct {
		name       string
		path, body string
		wantStatus int
		wantCode   string
		wantMsg    string
		wantPut    *chargedesk.Token
	}{
		{name: "status only", body: `{"status":"Blocked"}`, wantStatus: 200,
			wantPut: with(func(t *chargedesk.Token) { t.Status = chargedesk.AuthBlocked })},
		{name: "null clears", body: `{"expiresAt":null,"parentIdTag":null,"driverId":null}`, wantStatus: 200,
			wantPut: with(func(t *chargedesk.Token) { t.ExpiresAt, t.ParentIDTag, t.DriverID = time.Time{}, "", "" })},
		{name: "type and expiry", body: `{"type":"KeyCode","expiresAt":"2027-06-01T12:00:00Z"}`, wantStatus: 200,
			wantPut: with(func(t *chargedesk.Token) {
				t.Type, t.ExpiresAt = "KeyCode", time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
			})},
		{name: "empty patch", body: `{}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "changes no field"},
		{name: "bad status", body: `{"status":"Maybe"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "token status"},
		{name: "null status", body: `{"status":null}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "token status"},
		{name: "status wrong type", body: `{"status":true}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: `"status" must be a string`},
		{name: "unknown field", body: `{"idTag":"X"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: `unknown field "idTag"`},
		{name: "unknown token", path: "/api/v1/tokens/NOPE", body: `{"status":"Blocked"}`, wantStatus: 404, wantCode: chargedesk.ENOTFOUND, wantMsg: "NOPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			puts := newCalls[chargedesk.Token]()
			store := &fakeStore{
				TokenFn: func(_ context.Context, tag string) (*chargedesk.Token, error) {
					if tag != base.IDTag {
						return nil, notFound("token " + tag)
					}
					c := base
					return &c, nil
				},
				PutTokenFn: func(_ context.Context, tok *chargedesk.Token) error {
					puts.add(*tok)
					return nil
				},
			}
			api := start(t, httpapi.Config{Store: store})
			path := tt.path
			if path == "" {
				path = "/api/v1/tokens/TAG1"
			}
			res := api.call("PATCH", path, tt.body)
			if tt.wantPut == nil {
				wantError(t, res, tt.wantStatus, tt.wantCode, tt.wantMsg)
				if got := puts.all(); len(got) != 0 {
					t.Errorf("PutToken called with %+v", got)
				}
				return
			}
			var got chargedesk.Token
			wantJSON(t, res, tt.wantStatus, &got)
			if diff := cmp.Diff(*tt.wantPut, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]chargedesk.Token{*tt.wantPut}, puts.all()); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenDelete(t *testing.T) {
	var deleted []string
	store := &fakeStore{DeleteTokenFn: func(_ context.Context, idTag string) error {
		if idTag == "NOPE" {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "token NOPE not found")
		}
		deleted = append(deleted, idTag)
		return nil
	}}
	api := start(t, httpapi.Config{Store: store})
	if res := api.call("DELETE", "/api/v1/tokens/CARD-1", ""); res.status != http.StatusNoContent {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	wantError(t, api.call("DELETE", "/api/v1/tokens/NOPE", ""), http.StatusNotFound, chargedesk.ENOTFOUND, "NOPE")
	if len(deleted) != 1 || deleted[0] != "CARD-1" {
		t.Fatalf("deleted %v", deleted)
	}
}
