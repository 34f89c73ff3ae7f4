package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/chargedesk/chargedesk"
)

// maxDriverIDLen bounds a token's driverId.
const maxDriverIDLen = 100

// tokenList is the body of GET /api/v1/tokens.
type tokenList struct {
	Tokens []*chargedesk.Token `json:"tokens"`
	// Next is the "after" value for the next page; empty on the last page.
	Next string `json:"next,omitempty"`
}

// handleTokenList lists tokens in idTag order: ?driverId= filters,
// ?after= and ?limit= page.
func handleTokenList(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := chargedesk.TokenFilter{DriverID: q.Get("driverId"), AfterTag: q.Get("after")}
		var err error
		if f.Limit, err = queryInt(r, "limit", defaultListLimit, 1, maxListLimit); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if len(f.AfterTag) > chargedesk.MaxIDTagLen || len(f.DriverID) > maxDriverIDLen {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "after or driverId is too long"))
			return
		}
		tokens, err := store.Tokens(r.Context(), f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		out := tokenList{Tokens: tokens}
		if out.Tokens == nil {
			out.Tokens = []*chargedesk.Token{}
		}
		if len(tokens) == f.Limit && len(tokens) > 0 {
			out.Next = tokens[len(tokens)-1].IDTag
		}
		encode(w, r, logger, http.StatusOK, out)
	})
}

// handleTokenGet returns one token.
func handleTokenGet(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := store.Token(r.Context(), r.PathValue("idTag"))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, t)
	})
}

// handleTokenDelete removes a token: a card that is lost or retired becomes
// unknown to the central system. 204.
func handleTokenDelete(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := store.DeleteToken(r.Context(), r.PathValue("idTag")); err != nil {
			writeError(w, r, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// tokenBody is the body of PUT /api/v1/tokens/{idTag}. IDTag may be left
// out; when given it must equal the path's.
type tokenBody struct {
	IDTag       string                `json:"idTag"`
	Type        string                `json:"type"`
	Status      chargedesk.AuthStatus `json:"status"`
	ExpiresAt   time.Time             `json:"expiresAt"`
	ParentIDTag string                `json:"parentIdTag"`
	DriverID    string                `json:"driverId"`
}

// handleTokenPut creates or replaces a token: 201 when it is new, 200 when
// it replaced one (whose createdAt is kept).
func handleTokenPut(store chargedesk.Store, logger *slog.Logger, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idTag := r.PathValue("idTag")
		var in tokenBody
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if in.IDTag != "" && in.IDTag != idTag {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "body idTag %q differs from the path's %q", in.IDTag, idTag))
			return
		}
		t := &chargedesk.Token{
			IDTag: idTag, Type: in.Type, Status: in.Status, ExpiresAt: in.ExpiresAt,
			ParentIDTag: in.ParentIDTag, DriverID: in.DriverID,
		}
		if err := validateToken(t); err != nil {
			writeError(w, r, logger, err)
			return
		}
		ctx := r.Context()
		at := now().UTC()
		t.CreatedAt, t.UpdatedAt = at, at
		old, err := store.Token(ctx, idTag)
		created := chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND
		switch {
		case created:
		case err != nil:
			writeError(w, r, logger, err)
			return
		default:
			t.CreatedAt = old.CreatedAt
		}
		if err := store.PutToken(ctx, t); err != nil {
			writeError(w, r, logger, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
			w.Header().Set("Location", "/api/v1/tokens/"+url.PathEscape(idTag))
		}
		encode(w, r, logger, status, t)
	})
}

// optional is a JSON field that tells "absent" (Set false) from a value or
// null (Set true, null leaving the zero value).
type optional[T any] struct {
	Set   bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler; it is called for present
// fields only, null included.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	var zero T
	o.Value = zero
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// tokenPatch is the body of PATCH /api/v1/tokens/{idTag}: only the fields
// present change; null clears expiresAt, parentIdTag or driverId.
type tokenPatch struct {
	Type        optional[string]                `json:"type"`
	Status      optional[chargedesk.AuthStatus] `json:"status"`
	ExpiresAt   optional[time.Time]             `json:"expiresAt"`
	ParentIDTag optional[string]                `json:"parentIdTag"`
	DriverID    optional[string]                `json:"driverId"`
}

// handleTokenPatch changes some fields of an existing token and answers 200
// with the token. An unknown token is 404.
func handleTokenPatch(store chargedesk.Store, logger *slog.Logger, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p tokenPatch
		if err := decode(w, r, &p); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if !p.Type.Set && !p.Status.Set && !p.ExpiresAt.Set && !p.ParentIDTag.Set && !p.DriverID.Set {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "the patch changes no field; give one of type, status, expiresAt, parentIdTag, driverId"))
			return
		}
		ctx := r.Context()
		t, err := store.Token(ctx, r.PathValue("idTag"))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if p.Type.Set {
			t.Type = p.Type.Value
		}
		if p.Status.Set {
			t.Status = p.Status.Value
		}
		if p.ExpiresAt.Set {
			t.ExpiresAt = p.ExpiresAt.Value
		}
		if p.ParentIDTag.Set {
			t.ParentIDTag = p.ParentIDTag.Value
		}
		if p.DriverID.Set {
			t.DriverID = p.DriverID.Value
		}
		if err := validateToken(t); err != nil {
			writeError(w, r, logger, err)
			return
		}
		t.UpdatedAt = now().UTC()
		if err := store.PutToken(ctx, t); err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, t)
	})
}

// validateToken is Token.Validate plus the bound on driverId that the domain
// does not check.
func validateToken(t *chargedesk.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if len(t.DriverID) > maxDriverIDLen {
		return chargedesk.Errorf(chargedesk.EINVALID, "driverId is longer than %d characters", maxDriverIDLen)
	}
	return nil
}
