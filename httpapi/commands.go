package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/chargedesk/chargedesk"
)

// maxCommandIDLen bounds a caller-chosen command id.
const maxCommandIDLen = 64

// commandRequest is the body of POST /api/v1/chargers/{id}/commands: a
// chargedesk.Command whose chargerId may be left out (or must equal the
// path's), whose timeout is a Go duration string ("30s", "1m30s"), and which
// has no actor: the actor is always "operator:<api key name>".
type commandRequest struct {
	ID            string                      `json:"id"`
	Kind          chargedesk.CommandKind      `json:"kind"`
	ChargerID     string                      `json:"chargerId"`
	ConnectorID   int                         `json:"connectorId"`
	IDTag         string                      `json:"idTag"`
	TransactionID string                      `json:"transactionId"`
	ResetType     string                      `json:"resetType"`
	Trigger       string                      `json:"trigger"`
	Availability  string                      `json:"availability"`
	ListVersion   int                         `json:"listVersion"`
	UpdateType    string                      `json:"updateType"`
	LocalList     []chargedesk.LocalListEntry `json:"localList"`
	Keys          []string                    `json:"keys"`
	Key           string                      `json:"key"`
	Value         string                      `json:"value"`
	VendorID      string                      `json:"vendorId"`
	MessageID     string                      `json:"messageId"`
	Data          string                      `json:"data"`
	Timeout       durationString              `json:"timeout"`
	Reason        string                      `json:"reason"`
	// Actor is accepted only to refuse it with a clear message.
	Actor *string `json:"actor"`
}

// durationString is a duration written in JSON as a Go duration string.
type durationString time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *durationString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return chargedesk.Errorf(chargedesk.EINVALID, `timeout must be a duration string such as "30s", not %s`, b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return chargedesk.Errorf(chargedesk.EINVALID, `timeout %q is not a duration such as "30s" or "2m"`, s)
	}
	*d = durationString(v)
	return nil
}

// commandResult is the body answering a command: chargedesk.Result with its
// round trip as integer milliseconds in elapsedMs (durations in this API
// are milliseconds in fields named ...Ms).
type commandResult struct {
	CommandID     string                          `json:"commandId,omitempty"`
	Status        chargedesk.ResultStatus         `json:"status"`
	Detail        string                          `json:"detail,omitempty"`
	ErrorCode     string                          `json:"errorCode,omitempty"`
	ListVersion   int                             `json:"listVersion,omitempty"`
	Configuration []chargedesk.ConfigurationValue `json:"configuration,omitempty"`
	UnknownKeys   []string                        `json:"unknownKeys,omitempty"`
	Data          string                          `json:"data,omitempty"`
	Protocol      chargedesk.Protocol             `json:"protocol,omitempty"`
	ElapsedMs     int64                           `json:"elapsedMs"`
}

func newCommandResult(r chargedesk.Result) commandResult {
	return commandResult{
		CommandID: r.CommandID, Status: r.Status, Detail: r.Detail, ErrorCode: r.ErrorCode,
		ListVersion: r.ListVersion, Configuration: r.Configuration, UnknownKeys: r.UnknownKeys,
		Data: r.Data, Protocol: r.Protocol, ElapsedMs: r.Elapsed.Milliseconds(),
	}
}

// handleCommandSend sends a command to the charger of the path through the
// commander and answers 200 with its result, whatever the result's status
// (Timeout, ChargerOffline, Refused and CallError are answers, not HTTP
// errors). A command that does not validate is 400 with code "invalid" and
// is not sent.
func handleCommandSend(commands chargedesk.Commander, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in commandRequest
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, logger, err)
			return
		}
		cmd, err := in.command(r.PathValue("id"), operatorFrom(r.Context()))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		res, err := commands.Send(r.Context(), cmd)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		if res.CommandID == "" {
			res.CommandID = cmd.ID
		}
		encode(w, r, logger, http.StatusOK, newCommandResult(res))
	})
}

// command builds and validates the command for charger chargerID sent by
// the operator whose key is named operator.
func (in *commandRequest) command(chargerID, operator string) (chargedesk.Command, error) {
	if in.Actor != nil {
		return chargedesk.Command{}, chargedesk.Errorf(chargedesk.EINVALID, "actor is set from the api key; leave it out")
	}
	if in.ChargerID != "" && in.ChargerID != chargerID {
		return chargedesk.Command{}, chargedesk.Errorf(chargedesk.EINVALID, "body chargerId %q differs from the path's %q", in.ChargerID, chargerID)
	}
	if len(in.ID) > maxCommandIDLen {
		return chargedesk.Command{}, chargedesk.Errorf(chargedesk.EINVALID, "command id is longer than %d characters", maxCommandIDLen)
	}
	cmd := chargedesk.Command{
		ID: in.ID, Kind: in.Kind, ChargerID: chargerID, ConnectorID: in.ConnectorID,
		IDTag: in.IDTag, TransactionID: in.TransactionID, ResetType: in.ResetType,
		Trigger: in.Trigger, Availability: in.Availability, ListVersion: in.ListVersion,
		UpdateType: in.UpdateType, LocalList: in.LocalList, Keys: in.Keys, Key: in.Key,
		Value: in.Value, VendorID: in.VendorID, MessageID: in.MessageID, Data: in.Data,
		Timeout: time.Duration(in.Timeout), Reason: in.Reason,
		Actor: "operator:" + operator,
	}
	if cmd.ID == "" {
		cmd.ID = chargedesk.NewCommandID()
	}
	if err := cmd.Validate(); err != nil {
		return chargedesk.Command{}, err
	}
	return cmd, nil
}
