package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/chargedesk/chargedesk"
)

// SimControl drives the simulated chargers of a demo or test fleet: it
// injects and clears the faults of the fault catalogue and acts as a driver
// at a charger. The routes that use it exist only when Config.Sim is set
// (chargedesk demo); a production server has none.
type SimControl interface {
	// Faults lists the fault names that can be injected.
	Faults() []string
	// Status returns the simulated state of every charger, or of one
	// (ENOTFOUND for a charger not in the fleet).
	Status(ctx context.Context, chargerID string) (any, error)
	// InjectFault gives a charger's connector (0: the whole charger) the
	// named fault; idTag names the token it concerns where the fault needs
	// one (a stale or running session, a stale list entry, a token fault).
	// EINVALID for an unknown fault, ENOTFOUND for an unknown charger.
	InjectFault(ctx context.Context, chargerID string, connector int, fault, idTag string) error
	// ClearFault removes the fault again.
	ClearFault(ctx context.Context, chargerID string, connector int, fault, idTag string) error
	// Act performs a driver action at a connector: "plug", "unplug", "tap"
	// (with idTag), "stop", "release-vehicle-lock". It returns a short
	// description of the outcome (the authorization verdict of a tap).
	Act(ctx context.Context, chargerID string, connector int, action, idTag string) (string, error)
}

// simFault is the body of the fault routes.
type simFault struct {
	Fault       string `json:"fault"`
	ConnectorID int    `json:"connectorId"`
	IDTag       string `json:"idTag"`
}

func (f simFault) validate() error {
	if f.Fault == "" || len(f.Fault) > 64 {
		return chargedesk.Errorf(chargedesk.EINVALID, "fault must name a fault of the catalogue")
	}
	if f.ConnectorID < 0 || f.ConnectorID > 100 {
		return chargedesk.Errorf(chargedesk.EINVALID, "connectorId %d is out of range", f.ConnectorID)
	}
	if len(f.IDTag) > chargedesk.MaxIDTagLen {
		return chargedesk.Errorf(chargedesk.EINVALID, "idTag is longer than %d characters", chargedesk.MaxIDTagLen)
	}
	return nil
}

// handleSimFaults lists the fault names.
func handleSimFaults(sim SimControl, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, logger, http.StatusOK, map[string]any{"faults": sim.Faults()})
	})
}

// handleSimStatus returns the simulated state of one charger or all.
func handleSimStatus(sim SimControl, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := sim.Status(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, st)
	})
}

// handleSimFault injects (inject true) or clears a fault.
func handleSimFault(sim SimControl, logger *slog.Logger, inject bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in simFault
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		if err := in.validate(); err != nil {
			writeError(w, r, logger, err)
			return
		}
		id := r.PathValue("id")
		var err error
		if inject {
			err = sim.InjectFault(r.Context(), id, in.ConnectorID, in.Fault, in.IDTag)
		} else {
			err = sim.ClearFault(r.Context(), id, in.ConnectorID, in.Fault, in.IDTag)
		}
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		st, err := sim.Status(r.Context(), id)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, st)
	})
}

// simAction is the body of the driver-action route.
type simAction struct {
	Action string `json:"action"`
	IDTag  string `json:"idTag"`
}

// handleSimAct performs a driver action at a connector.
func handleSimAct(sim SimControl, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connector, err := strconv.Atoi(r.PathValue("connector"))
		if err != nil || connector < 1 || connector > 100 {
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "connector must be a number from 1 to 100"))
			return
		}
		var in simAction
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		switch in.Action {
		case "plug", "unplug", "stop", "release-vehicle-lock":
		case "tap":
			if in.IDTag == "" || len(in.IDTag) > chargedesk.MaxIDTagLen {
				writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "tap needs an idTag of 1 to %d characters", chargedesk.MaxIDTagLen))
				return
			}
		default:
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EINVALID, "action must be plug, unplug, tap, stop or release-vehicle-lock"))
			return
		}
		out, err := sim.Act(r.Context(), r.PathValue("id"), connector, in.Action, in.IDTag)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		encode(w, r, logger, http.StatusOK, map[string]any{"outcome": out})
	})
}
