package sim

import (
	"context"

	"github.com/chargedesk/chargedesk/ocpp"
	v201 "github.com/chargedesk/chargedesk/ocpp/v201"
)

// handle201 answers a CSMS CALL of OCPP 2.0.1; see handle16.
func (c *Charger) handle201(ctx context.Context, s *session, action string, payload []byte) (any, func(context.Context), error) {
	switch action {
	case "RequestStartTransaction":
		var req v201.RequestStartTransactionRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		c.mu.Lock()
		hung := req.EvseID != nil && c.hasFaultLocked(FaultControllerHung, *req.EvseID) || c.hasFaultLocked(FaultControllerHung, 0)
		c.mu.Unlock()
		id := c.pickRemoteConnector(req.EvseID)
		if id == 0 || hung || c.checkToken(req.IDToken.IDToken) != nil {
			return v201.RequestStartTransactionResponse{Status: v201.RequestStartStopStatusRejected}, nil, nil
		}
		rid := req.RemoteStartID
		return v201.RequestStartTransactionResponse{Status: v201.RequestStartStopStatusAccepted},
			func(ctx context.Context) { c.remoteStart(ctx, id, req.IDToken.IDToken, string(req.IDToken.Type), &rid) }, nil

	case "RequestStopTransaction":
		var req v201.RequestStopTransactionRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		id, tx := c.transactionByID(req.TransactionID)
		if tx == nil {
			return v201.RequestStopTransactionResponse{Status: v201.RequestStartStopStatusRejected}, nil, nil
		}
		return v201.RequestStopTransactionResponse{Status: v201.RequestStartStopStatusAccepted}, func(ctx context.Context) {
			_ = c.stopTx(ctx, id, tx, reasonRemote, "")
		}, nil

	case "Reset":
		var req v201.ResetRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		if req.EvseID != nil {
			// Resetting a single EVSE is optional; this charger resets
			// only as a whole.
			return v201.ResetResponse{Status: v201.ResetStatusRejected}, nil, nil
		}
		if req.Type == v201.ResetTypeOnIdle && c.busy() {
			c.mu.Lock()
			c.resetOnIdle = true
			c.mu.Unlock()
			return v201.ResetResponse{Status: v201.ResetStatusScheduled}, nil, nil
		}
		hard := req.Type == v201.ResetTypeImmediate
		return v201.ResetResponse{Status: v201.ResetStatusAccepted}, func(ctx context.Context) { c.doReset(ctx, hard) }, nil

	case "UnlockConnector":
		var req v201.UnlockConnectorRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		if req.EvseID < 1 || req.EvseID > len(c.cfg.Connectors) || req.ConnectorID != 1 {
			return v201.UnlockConnectorResponse{Status: v201.UnlockStatusUnknownConnector}, nil, nil
		}
		c.mu.Lock()
		running := c.conn(req.EvseID).tx != nil
		c.mu.Unlock()
		if running {
			// 2.0.1: never unlock under an authorized transaction.
			return v201.UnlockConnectorResponse{Status: v201.UnlockStatusOngoingAuthorizedTransaction}, nil, nil
		}
		if !c.unlock(req.EvseID) {
			// The NotifyEvent of the lock failure follows the answer.
			return v201.UnlockConnectorResponse{Status: v201.UnlockStatusUnlockFailed}, c.publishStatuses, nil
		}
		return v201.UnlockConnectorResponse{Status: v201.UnlockStatusUnlocked}, c.publishStatuses, nil

	case "TriggerMessage":
		var req v201.TriggerMessageRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		id := 0
		if req.Evse != nil {
			id = req.Evse.ID
			if id < 0 || id > len(c.cfg.Connectors) || (req.Evse.ConnectorID != nil && *req.Evse.ConnectorID != 1) {
				return v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusRejected}, nil, nil
			}
		}
		var after func(context.Context)
		switch req.RequestedMessage {
		case v201.MessageTriggerBootNotification:
			if c.bootAccepted(s) {
				// F06.FR.17: no triggered boot once the boot is accepted.
				return v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusRejected}, nil, nil
			}
			after = func(ctx context.Context) { c.triggeredBoot(ctx, s) }
		case v201.MessageTriggerHeartbeat:
			after = func(ctx context.Context) { _ = s.call(ctx, "Heartbeat", struct{}{}, nil) }
		case v201.MessageTriggerStatusNotification:
			after = func(ctx context.Context) { c.triggerStatus(ctx, id) }
		case v201.MessageTriggerMeterValues:
			after = func(ctx context.Context) { c.triggerMeter(ctx, id, meterTrigger) }
		case v201.MessageTriggerTransactionEvent:
			after = func(ctx context.Context) { c.triggerMeter(ctx, id, txTrigger) }
		case v201.MessageTriggerFirmwareStatusNotification:
			after = func(ctx context.Context) {
				_ = s.call(ctx, "FirmwareStatusNotification", v201.FirmwareStatusNotificationRequest{Status: v201.FirmwareStatusIdle}, nil)
			}
		case v201.MessageTriggerLogStatusNotification:
			after = func(ctx context.Context) {
				_ = s.call(ctx, "LogStatusNotification", v201.LogStatusNotificationRequest{Status: v201.UploadLogStatusIdle}, nil)
			}
		default:
			return v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusNotImplemented}, nil, nil
		}
		return v201.TriggerMessageResponse{Status: v201.TriggerMessageStatusAccepted}, after, nil

	case "ChangeAvailability":
		var req v201.ChangeAvailabilityRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		id := 0
		if req.Evse != nil {
			id = req.Evse.ID
			if req.Evse.ConnectorID != nil && *req.Evse.ConnectorID != 1 {
				return v201.ChangeAvailabilityResponse{Status: v201.ChangeAvailabilityStatusRejected}, nil, nil
			}
		}
		st := c.changeAvailability(id, req.OperationalStatus == v201.OperationalStatusOperative)
		return v201.ChangeAvailabilityResponse{Status: v201.ChangeAvailabilityStatus(st)}, c.publishStatuses, nil

	case "ClearCache":
		c.mu.Lock()
		c.cache = map[string]authEntry{}
		c.onAuthListsChangedLocked()
		c.notifyLocked()
		c.mu.Unlock()
		return v201.ClearCacheResponse{Status: v201.ClearCacheStatusAccepted}, nil, nil

	case "SendLocalList":
		var req v201.SendLocalListRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		entries := make([]listUpdate, 0, len(req.LocalAuthorizationList))
		for _, e := range req.LocalAuthorizationList {
			u := listUpdate{idTag: e.IDToken.IDToken}
			if e.IDTokenInfo != nil {
				u.status, u.expiry = string(e.IDTokenInfo.Status), e.IDTokenInfo.CacheExpiryDateTime.Time
			}
			entries = append(entries, u)
		}
		st := c.applyLocalList(req.VersionNumber, req.UpdateType == v201.UpdateTypeFull, entries)
		return v201.SendLocalListResponse{Status: v201.SendLocalListStatus(st)}, nil, nil

	case "GetLocalListVersion":
		return v201.GetLocalListVersionResponse{VersionNumber: max(c.localListVersion(), 0)}, nil, nil

	case "GetVariables":
		var req v201.GetVariablesRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		resp := v201.GetVariablesResponse{GetVariableResult: []v201.GetVariableResult{}}
		c.mu.Lock()
		for _, d := range req.GetVariableData {
			r := v201.GetVariableResult{Component: d.Component, Variable: d.Variable, AttributeType: d.AttributeType}
			key, ok := variables201[variable201{d.Component.Name, d.Variable.Name}]
			switch {
			case !knownComponent201(d.Component.Name):
				r.AttributeStatus = v201.GetVariableStatusUnknownComponent
			case !ok:
				r.AttributeStatus = v201.GetVariableStatusUnknownVariable
			case d.AttributeType != "" && d.AttributeType != v201.AttributeTypeActual:
				r.AttributeStatus = v201.GetVariableStatusNotSupportedAttributeType
			default:
				r.AttributeStatus = v201.GetVariableStatusAccepted
				r.AttributeValue = c.variableLocked(key)
			}
			resp.GetVariableResult = append(resp.GetVariableResult, r)
		}
		c.mu.Unlock()
		return resp, nil, nil

	case "SetVariables":
		var req v201.SetVariablesRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		resp := v201.SetVariablesResponse{SetVariableResult: []v201.SetVariableResult{}}
		for _, d := range req.SetVariableData {
			r := v201.SetVariableResult{Component: d.Component, Variable: d.Variable, AttributeType: d.AttributeType}
			key, ok := variables201[variable201{d.Component.Name, d.Variable.Name}]
			switch {
			case !knownComponent201(d.Component.Name):
				r.AttributeStatus = v201.SetVariableStatusUnknownComponent
			case !ok:
				r.AttributeStatus = v201.SetVariableStatusUnknownVariable
			case d.AttributeType != "" && d.AttributeType != v201.AttributeTypeActual:
				r.AttributeStatus = v201.SetVariableStatusNotSupportedAttributeType
			default:
				if c.changeSetting(key, d.AttributeValue) == "Accepted" {
					r.AttributeStatus = v201.SetVariableStatusAccepted
				} else {
					r.AttributeStatus = v201.SetVariableStatusRejected
				}
			}
			resp.SetVariableResult = append(resp.SetVariableResult, r)
		}
		return resp, nil, nil

	case "DataTransfer":
		return v201.DataTransferResponse{Status: v201.DataTransferStatusUnknownVendorID}, nil, nil
	}
	return nil, nil, ocpp.Errorf(ocpp.NotSupported, "%s is not supported by this charger", action)
}
