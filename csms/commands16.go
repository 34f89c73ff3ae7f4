package csms

import (
	"strconv"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
)

// maxIDTag16 is the 1.6 limit on an idTag (CiString20).
const maxIDTag16 = 20

// build16 maps a command to its OCPP 1.6 CALL.
func build16(cmd chargedesk.Command) (request, error) {
	status := func(s string) chargedesk.Result { return chargedesk.Result{Status: chargedesk.ResultStatus(s)} }
	if len(cmd.IDTag) > maxIDTag16 {
		return request{}, chargedesk.Errorf(chargedesk.EINVALID, "idTag %q is longer than the 20 characters OCPP 1.6 allows", cmd.IDTag)
	}
	switch cmd.Kind {
	case chargedesk.CmdRemoteStart:
		return request{"RemoteStartTransaction",
			v16.RemoteStartTransactionRequest{ConnectorID: optInt(cmd.ConnectorID), IDTag: cmd.IDTag},
			answer(func(r *v16.RemoteStartTransactionResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdRemoteStop:
		id, err := strconv.Atoi(cmd.TransactionID)
		if err != nil {
			return request{}, chargedesk.Errorf(chargedesk.EINVALID, "an OCPP 1.6 transactionId is an integer, not %q", cmd.TransactionID)
		}
		return request{"RemoteStopTransaction", v16.RemoteStopTransactionRequest{TransactionID: id},
			answer(func(r *v16.RemoteStopTransactionResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdReset:
		return request{"Reset", v16.ResetRequest{Type: v16.ResetType(cmd.ResetType)},
			answer(func(r *v16.ResetResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdUnlockConnector:
		return request{"UnlockConnector", v16.UnlockConnectorRequest{ConnectorID: cmd.ConnectorID},
			answer(func(r *v16.UnlockConnectorResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdTriggerMessage:
		trigger := cmd.Trigger
		if trigger == "TransactionEvent" {
			trigger = "MeterValues" // 1.6's report of a transaction's reading
		}
		return request{"TriggerMessage", v16.TriggerMessageRequest{RequestedMessage: v16.MessageTrigger(trigger), ConnectorID: optInt(cmd.ConnectorID)},
			answer(func(r *v16.TriggerMessageResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdChangeAvailability:
		return request{"ChangeAvailability", v16.ChangeAvailabilityRequest{ConnectorID: cmd.ConnectorID, Type: v16.AvailabilityType(cmd.Availability)},
			answer(func(r *v16.ChangeAvailabilityResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdClearCache:
		return request{"ClearCache", v16.ClearCacheRequest{},
			answer(func(r *v16.ClearCacheResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdSendLocalList:
		list := make([]v16.AuthorizationData, 0, len(cmd.LocalList))
		for _, e := range cmd.LocalList {
			if len(e.IDTag) > maxIDTag16 || len(e.ParentIDTag) > maxIDTag16 {
				return request{}, chargedesk.Errorf(chargedesk.EINVALID, "local list idTag %q is longer than the 20 characters OCPP 1.6 allows", e.IDTag)
			}
			d := v16.AuthorizationData{IDTag: e.IDTag}
			if e.Status != "" {
				d.IDTagInfo = &v16.IDTagInfo{Status: v16.AuthorizationStatus(e.Status), ParentIDTag: e.ParentIDTag}
				if !e.ExpiresAt.IsZero() {
					d.IDTagInfo.ExpiryDate = ocpp.NewDateTime(e.ExpiresAt)
				}
			}
			list = append(list, d)
		}
		return request{"SendLocalList", v16.SendLocalListRequest{ListVersion: cmd.ListVersion, UpdateType: v16.UpdateType(cmd.UpdateType), LocalAuthorizationList: list},
			answer(func(r *v16.SendLocalListResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdGetLocalListVersion:
		return request{"GetLocalListVersion", v16.GetLocalListVersionRequest{},
			answer(func(r *v16.GetLocalListVersionResponse) chargedesk.Result {
				return chargedesk.Result{Status: chargedesk.ResultAccepted, ListVersion: r.ListVersion}
			})}, nil
	case chargedesk.CmdGetConfiguration:
		return request{"GetConfiguration", v16.GetConfigurationRequest{Key: cmd.Keys},
			answer(func(r *v16.GetConfigurationResponse) chargedesk.Result {
				res := chargedesk.Result{Status: chargedesk.ResultAccepted, UnknownKeys: r.UnknownKey}
				for _, kv := range r.ConfigurationKey {
					res.Configuration = append(res.Configuration, chargedesk.ConfigurationValue{Key: kv.Key, Value: kv.Value, ReadOnly: kv.Readonly})
				}
				return res
			})}, nil
	case chargedesk.CmdChangeConfiguration:
		return request{"ChangeConfiguration", v16.ChangeConfigurationRequest{Key: cmd.Key, Value: cmd.Value},
			answer(func(r *v16.ChangeConfigurationResponse) chargedesk.Result { return status(string(r.Status)) })}, nil
	case chargedesk.CmdDataTransfer:
		return request{"DataTransfer", v16.DataTransferRequest{VendorID: cmd.VendorID, MessageID: cmd.MessageID, Data: cmd.Data},
			answer(func(r *v16.DataTransferResponse) chargedesk.Result {
				return chargedesk.Result{Status: chargedesk.ResultStatus(r.Status), Data: r.Data}
			})}, nil
	}
	return request{}, chargedesk.Errorf(chargedesk.EINVALID, "unknown command kind %q", cmd.Kind)
}
