package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/chargedesk/chargedesk"
)

// transactionList is the body of the transaction listings.
type transactionList struct {
	Transactions []*chargedesk.Transaction `json:"transactions"`
}

// handleChargerTransactions lists one charger's transactions, newest first:
// ?active=true keeps those not ended, ?limit=N bounds the count. An unknown
// charger is 404.
func handleChargerTransactions(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := chargedesk.ValidateChargerID(id); err != nil {
			writeError(w, r, logger, err)
			return
		}
		f, err := transactionFilter(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		f.ChargerID = id
		if _, err := store.Charger(r.Context(), id); err != nil {
			writeError(w, r, logger, err)
			return
		}
		listTransactions(w, r, store, logger, f)
	})
}

// handleTransactionList lists transactions of every charger, newest first,
// filtered by ?idTag=, ?chargerId= and ?active=true, bounded by ?limit=N.
func handleTransactionList(store chargedesk.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := transactionFilter(r)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if f.ChargerID = r.URL.Query().Get("chargerId"); f.ChargerID != "" {
			if err := chargedesk.ValidateChargerID(f.ChargerID); err != nil {
				writeError(w, r, logger, err)
				return
			}
		}
		if f.IDTag = r.URL.Query().Get("idTag"); len(f.IDTag) > chargedesk.MaxIDTagLen {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "idTag is longer than %d characters", chargedesk.MaxIDTagLen))
			return
		}
		listTransactions(w, r, store, logger, f)
	})
}

func transactionFilter(r *http.Request) (chargedesk.TransactionFilter, error) {
	var f chargedesk.TransactionFilter
	active, err := queryBool(r, "active")
	if err != nil {
		return f, err
	}
	f.ActiveOnly = active != nil && *active
	if f.Limit, err = queryInt(r, "limit", defaultListLimit, 1, maxListLimit); err != nil {
		return f, err
	}
	return f, nil
}

func listTransactions(w http.ResponseWriter, r *http.Request, store chargedesk.Store, logger *slog.Logger, f chargedesk.TransactionFilter) {
	txs, err := store.Transactions(r.Context(), f)
	if err != nil {
		writeError(w, r, logger, err)
		return
	}
	if txs == nil {
		txs = []*chargedesk.Transaction{}
	}
	encode(w, r, logger, http.StatusOK, transactionList{Transactions: txs})
}
