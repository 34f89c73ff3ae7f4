package sim

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/chargedesk/chargedesk/ocpp"
	v16 "github.com/chargedesk/chargedesk/ocpp/v16"
)

// handle16 answers a CSMS CALL of OCPP 1.6. It returns the answer payload,
// an optional follow-up to run once the answer is sent, or an error to
// answer with a CALLERROR.
func (c *Charger) handle16(ctx context.Context, s *session, action string, payload []byte) (any, func(context.Context), error) {
	switch action {
	case "RemoteStartTransaction":
		var req v16.RemoteStartTransactionRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		c.mu.Lock()
		hung := req.ConnectorID != nil && c.hasFaultLocked(FaultControllerHung, *req.ConnectorID) || c.hasFaultLocked(FaultControllerHung, 0)
		c.mu.Unlock()
		id := c.pickRemoteConnector(req.ConnectorID)
		if id == 0 || hung || c.checkToken(req.IDTag) != nil {
			return v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusRejected}, nil, nil
		}
		return v16.RemoteStartTransactionResponse{Status: v16.RemoteStartStopStatusAccepted},
			func(ctx context.Context) { c.remoteStart(ctx, id, req.IDTag, "", nil) }, nil

	case "RemoteStopTransaction":
		var req v16.RemoteStopTransactionRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		id, tx := c.transactionByID(strconv.Itoa(req.TransactionID))
		if tx == nil {
			return v16.RemoteStopTransactionResponse{Status: v16.RemoteStartStopStatusRejected}, nil, nil
		}
		return v16.RemoteStopTransactionResponse{Status: v16.RemoteStartStopStatusAccepted}, func(ctx context.Context) {
			_ = c.stopTx(ctx, id, tx, reasonRemote, "")
		}, nil

	case "Reset":
		var req v16.ResetRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		hard := req.Type == v16.ResetTypeHard
		return v16.ResetResponse{Status: v16.ResetStatusAccepted}, func(ctx context.Context) { c.doReset(ctx, hard) }, nil

	case "UnlockConnector":
		var req v16.UnlockConnectorRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		if req.ConnectorID < 1 || req.ConnectorID > len(c.cfg.Connectors) {
			return v16.UnlockConnectorResponse{Status: v16.UnlockStatusNotSupported}, nil, nil
		}
		// 1.6: a running transaction is stopped first, then the
		// connector unlocks.
		var after func(context.Context)
		if send, err := c.endTx(req.ConnectorID, nil, reasonUnlockCommand, ""); err == nil {
			after = send
		}
		status := v16.UnlockStatusUnlocked
		if !c.unlock(req.ConnectorID) {
			status = v16.UnlockStatusUnlockFailed
		}
		if after == nil {
			after = c.publishStatuses
		}
		return v16.UnlockConnectorResponse{Status: status}, after, nil

	case "TriggerMessage":
		var req v16.TriggerMessageRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		id := 0
		if req.ConnectorID != nil {
			id = *req.ConnectorID
			if id < 0 || id > len(c.cfg.Connectors) {
				return v16.TriggerMessageResponse{Status: v16.TriggerMessageStatusRejected}, nil, nil
			}
		}
		var after func(context.Context)
		switch req.RequestedMessage {
		case v16.MessageTriggerBootNotification:
			after = func(ctx context.Context) { c.triggeredBoot(ctx, s) }
		case v16.MessageTriggerHeartbeat:
			after = func(ctx context.Context) { _ = s.call(ctx, "Heartbeat", struct{}{}, nil) }
		case v16.MessageTriggerStatusNotification:
			after = func(ctx context.Context) { c.triggerStatus(ctx, id) }
		case v16.MessageTriggerMeterValues:
			after = func(ctx context.Context) { c.triggerMeter(ctx, id, meterTrigger) }
		case v16.MessageTriggerFirmwareStatusNotification:
			after = func(ctx context.Context) {
				_ = s.call(ctx, "FirmwareStatusNotification", v16.FirmwareStatusNotificationRequest{Status: v16.FirmwareStatusIdle}, nil)
			}
		case v16.MessageTriggerDiagnosticsStatusNotification:
			after = func(ctx context.Context) {
				_ = s.call(ctx, "DiagnosticsStatusNotification", v16.DiagnosticsStatusNotificationRequest{Status: v16.DiagnosticsStatusIdle}, nil)
			}
		default:
			return v16.TriggerMessageResponse{Status: v16.TriggerMessageStatusNotImplemented}, nil, nil
		}
		return v16.TriggerMessageResponse{Status: v16.TriggerMessageStatusAccepted}, after, nil

	case "ChangeAvailability":
		var req v16.ChangeAvailabilityRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		st := c.changeAvailability(req.ConnectorID, req.Type == v16.AvailabilityTypeOperative)
		return v16.ChangeAvailabilityResponse{Status: v16.AvailabilityStatus(st)}, c.publishStatuses, nil

	case "ClearCache":
		c.mu.Lock()
		c.cache = map[string]authEntry{}
		c.onAuthListsChangedLocked()
		c.notifyLocked()
		c.mu.Unlock()
		return v16.ClearCacheResponse{Status: v16.ClearCacheStatusAccepted}, nil, nil

	case "SendLocalList":
		var req v16.SendLocalListRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		entries := make([]listUpdate, 0, len(req.LocalAuthorizationList))
		for _, e := range req.LocalAuthorizationList {
			u := listUpdate{idTag: e.IDTag}
			if e.IDTagInfo != nil {
				u.status, u.expiry = string(e.IDTagInfo.Status), e.IDTagInfo.ExpiryDate.Time
			}
			entries = append(entries, u)
		}
		st := c.applyLocalList(req.ListVersion, req.UpdateType == v16.UpdateTypeFull, entries)
		return v16.SendLocalListResponse{Status: v16.UpdateStatus(st)}, nil, nil

	case "GetLocalListVersion":
		return v16.GetLocalListVersionResponse{ListVersion: c.localListVersion()}, nil, nil

	case "GetConfiguration":
		var req v16.GetConfigurationRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		keys := req.Key
		if len(keys) == 0 {
			keys = settingKeys()
		}
		var resp v16.GetConfigurationResponse
		c.mu.Lock()
		for _, k := range keys {
			spec, ok := settingSpecs[k]
			if !ok {
				resp.UnknownKey = append(resp.UnknownKey, k)
				continue
			}
			resp.ConfigurationKey = append(resp.ConfigurationKey, v16.KeyValue{Key: k, Readonly: spec.readonly, Value: c.settings[k]})
		}
		c.mu.Unlock()
		return resp, nil, nil

	case "ChangeConfiguration":
		var req v16.ChangeConfigurationRequest
		if err := decode(payload, &req); err != nil {
			return nil, nil, err
		}
		return v16.ChangeConfigurationResponse{Status: v16.ConfigurationStatus(c.changeSetting(req.Key, req.Value))}, nil, nil

	case "DataTransfer":
		return v16.DataTransferResponse{Status: v16.DataTransferStatusUnknownVendorID}, nil, nil
	}
	return nil, nil, ocpp.Errorf(ocpp.NotSupported, "%s is not supported by this charger", action)
}

// changeSetting applies a configuration change and returns Accepted,
// Rejected or NotSupported.
func (c *Charger) changeSetting(key, value string) string {
	norm, known, ok := checkSetting(key, value)
	if !known {
		return "NotSupported"
	}
	if !ok {
		return "Rejected"
	}
	c.mu.Lock()
	c.settings[key] = norm
	c.notifyLocked()
	c.mu.Unlock()
	if key == keyHeartbeatInterval {
		c.heartbeatChanged()
	}
	return "Accepted"
}

// heartbeatChanged wakes the heartbeat loop to take a new interval.
func (c *Charger) heartbeatChanged() {
	select {
	case c.hbChanged <- struct{}{}:
	default:
	}
}

// decode reads a validated payload into v.
func decode(payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return ocpp.Errorf(ocpp.FormatViolation, "payload does not decode: %v", err)
	}
	return nil
}
