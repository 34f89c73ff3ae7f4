package csms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v201"
)

// variables201 maps OCPP 1.6 configuration keys to their OCPP 2.0.1
// component and variable, so that one key works with chargers of both
// versions. Read-only.
var variables201 = map[string]string{
	"HeartbeatInterval":                 "OCPPCommCtrlr.HeartbeatInterval",
	"WebSocketPingInterval":             "OCPPCommCtrlr.WebSocketPingInterval",
	"ResetRetries":                      "OCPPCommCtrlr.ResetRetries",
	"TransactionMessageAttempts":        "OCPPCommCtrlr.MessageAttempts",
	"TransactionMessageRetryInterval":   "OCPPCommCtrlr.MessageAttemptInterval",
	"AuthorizeRemoteTxRequests":         "AuthCtrlr.AuthorizeRemoteStart",
	"LocalAuthorizeOffline":             "AuthCtrlr.LocalAuthorizeOffline",
	"LocalPreAuthorize":                 "AuthCtrlr.LocalPreAuthorize",
	"AuthorizationCacheEnabled":         "AuthCacheCtrlr.Enabled",
	"LocalAuthListEnabled":              "LocalAuthListCtrlr.Enabled",
	"MeterValueSampleInterval":          "SampledDataCtrlr.TxUpdatedInterval",
	"MeterValuesSampledData":            "SampledDataCtrlr.TxUpdatedMeasurands",
	"ClockAlignedDataInterval":          "AlignedDataCtrlr.Interval",
	"ConnectionTimeOut":                 "TxCtrlr.EVConnectionTimeOut",
	"StopTransactionOnEVSideDisconnect": "TxCtrlr.StopTxOnEVSideDisconnect",
	"StopTransactionOnInvalidId":        "TxCtrlr.StopTxOnInvalidId",
}

// defaultVariables201 are read by a GetConfiguration without keys: 2.0.1
// has no "read everything" request that answers at once.
var defaultVariables201 = []string{
	"HeartbeatInterval", "AuthorizeRemoteTxRequests", "LocalAuthListEnabled", "AuthorizationCacheEnabled",
	"LocalAuthorizeOffline", "LocalPreAuthorize", "MeterValueSampleInterval", "ConnectionTimeOut",
}

// variable201 parses a key: a 1.6 key name from variables201, or
// "Component.Variable" with an optional "[instance]" on either part.
func variable201(key string) (v201.Component, v201.Variable, error) {
	if mapped, ok := variables201[key]; ok {
		key = mapped
	}
	comp, vari, ok := strings.Cut(key, ".")
	if !ok || comp == "" || vari == "" {
		return v201.Component{}, v201.Variable{}, chargedesk.Errorf(chargedesk.EINVALID,
			"key %q is neither a known 1.6 key nor Component.Variable", key)
	}
	split := func(s string) (string, string) {
		name, inst, ok := strings.Cut(s, "[")
		if ok && strings.HasSuffix(inst, "]") {
			return name, strings.TrimSuffix(inst, "]")
		}
		return s, ""
	}
	cn, ci := split(comp)
	vn, vi := split(vari)
	if len(cn) > 50 || len(ci) > 50 || len(vn) > 50 || len(vi) > 50 {
		return v201.Component{}, v201.Variable{}, chargedesk.Errorf(chargedesk.EINVALID, "key %q has a part longer than 50 characters", key)
	}
	return v201.Component{Name: cn, Instance: ci}, v201.Variable{Name: vn, Instance: vi}, nil
}

// keyOf prints a component and variable back as a key.
func keyOf(c v201.Component, v v201.Variable) string {
	k := c.Name
	if c.Instance != "" {
		k += "[" + c.Instance + "]"
	}
	k += "." + v.Name
	if v.Instance != "" {
		k += "[" + v.Instance + "]"
	}
	return k
}

func statusInfo201(si *v201.StatusInfo) string {
	if si == nil {
		return ""
	}
	if si.AdditionalInfo != "" {
		return si.ReasonCode + ": " + si.AdditionalInfo
	}
	return si.ReasonCode
}

// tokenType201 is the IdTokenType of a stored token (ISO14443 when unknown).
func (c *conn) tokenType201(ctx context.Context, idTag string) (v201.IDTokenType, error) {
	t, err := c.s.cfg.Store.Token(ctx, idTag)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
		return v201.IDTokenTypeISO14443, nil
	case err != nil:
		return "", err
	}
	return v201.IDTokenType(t.Type), nil
}

// evseConnector is the connector within an EVSE that the charger last
// reported (1 when it has reported none).
func (c *conn) evseConnector(ctx context.Context, evse int) int {
	if ch, err := c.s.cfg.Store.Charger(ctx, c.id); err == nil {
		if k := ch.Connector(evse); k != nil && k.EVSEConnectorID > 0 {
			return k.EVSEConnectorID
		}
	}
	return 1
}

// remoteStartID returns a random positive id for RequestStartTransaction.
func remoteStartID() int {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return int(binary.BigEndian.Uint32(b[:])>>1) + 1
}

// build201 maps a command to its OCPP 2.0.1 CALL.
func (c *conn) build201(ctx context.Context, cmd chargedesk.Command) (request, error) {
	st := func(s string, si *v201.StatusInfo) chargedesk.Result {
		return chargedesk.Result{Status: chargedesk.ResultStatus(s), Detail: statusInfo201(si)}
	}
	var evse *v201.EVSE
	if cmd.ConnectorID > 0 {
		evse = &v201.EVSE{ID: cmd.ConnectorID}
	}
	switch cmd.Kind {
	case chargedesk.CmdRemoteStart:
		typ, err := c.tokenType201(ctx, cmd.IDTag)
		if err != nil {
			return request{}, err
		}
		rsid := remoteStartID()
		return request{"RequestStartTransaction",
			v201.RequestStartTransactionRequest{EvseID: optInt(cmd.ConnectorID), RemoteStartID: rsid, IDToken: v201.IDToken{IDToken: cmd.IDTag, Type: typ}},
			answer(func(r *v201.RequestStartTransactionResponse) chargedesk.Result {
				res := st(string(r.Status), r.StatusInfo)
				res.TransactionID, res.RemoteStartID = r.TransactionID, rsid
				return res
			})}, nil
	case chargedesk.CmdRemoteStop:
		return request{"RequestStopTransaction", v201.RequestStopTransactionRequest{TransactionID: cmd.TransactionID},
			answer(func(r *v201.RequestStopTransactionResponse) chargedesk.Result {
				return st(string(r.Status), r.StatusInfo)
			})}, nil
	case chargedesk.CmdReset:
		typ := v201.ResetTypeOnIdle
		if cmd.ResetType == chargedesk.ResetHard {
			typ = v201.ResetTypeImmediate
		}
		return request{"Reset", v201.ResetRequest{Type: typ, EvseID: optInt(cmd.ConnectorID)},
			answer(func(r *v201.ResetResponse) chargedesk.Result { return st(string(r.Status), r.StatusInfo) })}, nil
	case chargedesk.CmdUnlockConnector:
		return request{"UnlockConnector", v201.UnlockConnectorRequest{EvseID: cmd.ConnectorID, ConnectorID: c.evseConnector(ctx, cmd.ConnectorID)},
			answer(func(r *v201.UnlockConnectorResponse) chargedesk.Result { return st(string(r.Status), r.StatusInfo) })}, nil
	case chargedesk.CmdTriggerMessage:
		if evse != nil && cmd.Trigger == "StatusNotification" {
			// F06.FR.12: a StatusNotification is triggered for a connector.
			connector := c.evseConnector(ctx, cmd.ConnectorID)
			evse.ConnectorID = &connector
		}
		return request{"TriggerMessage", v201.TriggerMessageRequest{RequestedMessage: v201.MessageTrigger(cmd.Trigger), Evse: evse},
			answer(func(r *v201.TriggerMessageResponse) chargedesk.Result { return st(string(r.Status), r.StatusInfo) })}, nil
	case chargedesk.CmdChangeAvailability:
		return request{"ChangeAvailability", v201.ChangeAvailabilityRequest{OperationalStatus: v201.OperationalStatus(cmd.Availability), Evse: evse},
			answer(func(r *v201.ChangeAvailabilityResponse) chargedesk.Result { return st(string(r.Status), r.StatusInfo) })}, nil
	case chargedesk.CmdClearCache:
		return request{"ClearCache", v201.ClearCacheRequest{},
			answer(func(r *v201.ClearCacheResponse) chargedesk.Result { return st(string(r.Status), r.StatusInfo) })}, nil
	case chargedesk.CmdSendLocalList:
		list := make([]v201.AuthorizationData, 0, len(cmd.LocalList))
		for _, e := range cmd.LocalList {
			typ, err := c.tokenType201(ctx, e.IDTag)
			if err != nil {
				return request{}, err
			}
			d := v201.AuthorizationData{IDToken: v201.IDToken{IDToken: e.IDTag, Type: typ}}
			if e.Status != "" {
				d.IDTokenInfo = &v201.IDTokenInfo{Status: v201.AuthorizationStatus(e.Status)}
				if !e.ExpiresAt.IsZero() {
					d.IDTokenInfo.CacheExpiryDateTime = ocpp.NewDateTime(e.ExpiresAt)
				}
			}
			list = append(list, d)
		}
		return request{"SendLocalList", v201.SendLocalListRequest{VersionNumber: cmd.ListVersion, UpdateType: v201.UpdateType(cmd.UpdateType), LocalAuthorizationList: list},
			answer(func(r *v201.SendLocalListResponse) chargedesk.Result { return st(string(r.Status), r.StatusInfo) })}, nil
	case chargedesk.CmdGetLocalListVersion:
		return request{"GetLocalListVersion", v201.GetLocalListVersionRequest{},
			answer(func(r *v201.GetLocalListVersionResponse) chargedesk.Result {
				return chargedesk.Result{Status: chargedesk.ResultAccepted, ListVersion: r.VersionNumber}
			})}, nil
	case chargedesk.CmdGetConfiguration:
		keys := cmd.Keys
		if len(keys) == 0 {
			keys = defaultVariables201
		}
		data := make([]v201.GetVariableData, 0, len(keys))
		for _, k := range keys {
			comp, vari, err := variable201(k)
			if err != nil {
				return request{}, err
			}
			data = append(data, v201.GetVariableData{Component: comp, Variable: vari})
		}
		return request{"GetVariables", v201.GetVariablesRequest{GetVariableData: data},
			answer(func(r *v201.GetVariablesResponse) chargedesk.Result {
				res := chargedesk.Result{Status: chargedesk.ResultAccepted}
				for _, v := range r.GetVariableResult {
					key := keyOf(v.Component, v.Variable)
					switch v.AttributeStatus {
					case v201.GetVariableStatusUnknownComponent, v201.GetVariableStatusUnknownVariable:
						res.UnknownKeys = append(res.UnknownKeys, key)
						continue
					}
					cv := chargedesk.ConfigurationValue{Key: key, Value: v.AttributeValue}
					if v.AttributeStatus != v201.GetVariableStatusAccepted {
						cv.Status = string(v.AttributeStatus)
					}
					res.Configuration = append(res.Configuration, cv)
				}
				return res
			})}, nil
	case chargedesk.CmdChangeConfiguration:
		comp, vari, err := variable201(cmd.Key)
		if err != nil {
			return request{}, err
		}
		return request{"SetVariables", v201.SetVariablesRequest{SetVariableData: []v201.SetVariableData{{AttributeValue: cmd.Value, Component: comp, Variable: vari}}},
			answer(func(r *v201.SetVariablesResponse) chargedesk.Result {
				if len(r.SetVariableResult) == 0 {
					return chargedesk.Result{Status: chargedesk.ResultFailed, Detail: "empty setVariableResult"}
				}
				v := r.SetVariableResult[0]
				switch v.AttributeStatus {
				case v201.SetVariableStatusUnknownComponent, v201.SetVariableStatusUnknownVariable, v201.SetVariableStatusNotSupportedAttributeType:
					// As 1.6 ChangeConfiguration says of an unknown key.
					return chargedesk.Result{Status: chargedesk.ResultNotSupported, Detail: string(v.AttributeStatus)}
				}
				return st(string(v.AttributeStatus), v.AttributeStatusInfo)
			})}, nil
	case chargedesk.CmdDataTransfer:
		var data json.RawMessage
		if cmd.Data != "" {
			data, _ = json.Marshal(cmd.Data)
		}
		return request{"DataTransfer", v201.DataTransferRequest{VendorID: cmd.VendorID, MessageID: cmd.MessageID, Data: data},
			answer(func(r *v201.DataTransferResponse) chargedesk.Result {
				res := st(string(r.Status), r.StatusInfo)
				var s string
				if json.Unmarshal(r.Data, &s) == nil {
					res.Data = s
				} else {
					res.Data = string(r.Data)
				}
				return res
			})}, nil
	}
	return request{}, chargedesk.Errorf(chargedesk.EINVALID, "unknown command kind %q", cmd.Kind)
}
