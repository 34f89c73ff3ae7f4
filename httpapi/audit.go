package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/chargedesk/chargedesk"
)

// auditList is the body of GET /api/v1/audit.
type auditList struct {
	Entries []*chargedesk.AuditEntry `json:"entries"`
	// Next is the "after" value for the next page; 0 on the last page.
	Next int64 `json:"next,omitempty"`
}

// handleAuditList lists audit entries in sequence order: ?chargerId= and
// ?commandId= filter, ?after=<seq> and ?limit=N page.
func handleAuditList(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := chargedesk.AuditFilter{ChargerID: q.Get("chargerId"), CommandID: q.Get("commandId")}
		if f.ChargerID != "" {
			if err := chargedesk.ValidateChargerID(f.ChargerID); err != nil {
				writeError(w, r, logger, err)
				return
			}
		}
		if len(f.CommandID) > maxCommandIDLen {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "commandId is longer than %d characters", maxCommandIDLen))
			return
		}
		if s := q.Get("after"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "query parameter after must be a sequence number of 0 or more"))
				return
			}
			f.AfterSeq = n
		}
		var err error
		if f.Limit, err = queryInt(r, "limit", defaultListLimit, 1, maxListLimit); err != nil {
			writeError(w, r, logger, err)
			return
		}
		entries, err := store.AuditEntries(r.Context(), f)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		out := auditList{Entries: entries}
		if out.Entries == nil {
			out.Entries = []*chargedesk.AuditEntry{}
		}
		if len(entries) == f.Limit && len(entries) > 0 {
			out.Next = entries[len(entries)-1].Seq
		}
		encode(w, r, logger, http.StatusOK, out)
	})
}

// auditVerification is the body of GET /api/v1/audit/verify.
type auditVerification struct {
	OK bool `json:"ok"`
	// Problem names the first entry whose hash does not match.
	Problem string `json:"problem,omitempty"`
}

// handleAuditVerify walks the audit chain. An intact chain is 200 with
// ok true; a broken one is also 200, with ok false and the store's
// description of the first bad entry: the check worked and this is its
// answer. A store that cannot be read is an error as usual.
func handleAuditVerify(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := store.VerifyAudit(r.Context())
		var broken *chargedesk.Error
		switch {
		case err == nil:
			encode(w, r, logger, http.StatusOK, auditVerification{OK: true})
		case errors.As(err, &broken) && broken.Code == chargedesk.EINTERNAL:
			logger.WarnContext(r.Context(), "audit chain is broken", "err", err)
			encode(w, r, logger, http.StatusOK, auditVerification{Problem: broken.Message})
		default:
			writeError(w, r, logger, err)
		}
	})
}
