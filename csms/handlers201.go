package csms

import (
	"context"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v201"
)

// handlers201 answers the CALLs an OCPP 2.0.1 charger sends. Read-only.
var handlers201 = map[string]handlerFunc{
	"BootNotification":           handle(boot201),
	"Heartbeat":                  heartbeat,
	"StatusNotification":         handle(status201),
	"Authorize":                  handle(authorize201),
	"TransactionEvent":           handle(transactionEvent201),
	"MeterValues":                handle(meterValues201),
	"NotifyEvent":                handle(notifyEvent201),
	"SecurityEventNotification":  handle(securityEvent201),
	"FirmwareStatusNotification": handle(firmwareStatus201),
	"LogStatusNotification":      handle(logStatus201),
	"NotifyReport":               handle(notifyReport201),
	"DataTransfer":               handle(dataTransfer201),
}

func boot201(ctx context.Context, c *conn, req *v201.BootNotificationRequest) (any, error) {
	cs := req.ChargingStation
	status, interval, err := c.recordBoot(ctx, bootInfo{vendor: cs.VendorName, model: cs.Model, serial: cs.SerialNumber, firmware: cs.FirmwareVersion})
	if err != nil {
		return nil, err
	}
	return v201.BootNotificationResponse{Status: v201.RegistrationStatus(status), CurrentTime: ocpp.NewDateTime(c.s.now()), Interval: interval}, nil
}

func status201(ctx context.Context, c *conn, req *v201.StatusNotificationRequest) (any, error) {
	err := c.putStatus(ctx, chargedesk.Connector{
		ID: req.EvseID, EVSEConnectorID: req.ConnectorID,
		Status: chargedesk.ConnectorStatus(req.ConnectorStatus), StatusAt: req.Timestamp.Time,
	})
	if err != nil {
		return nil, err
	}
	return v201.StatusNotificationResponse{}, nil
}

func idTokenInfo201(v verdict) v201.IDTokenInfo {
	info := v201.IDTokenInfo{Status: v201.AuthorizationStatus(v.status)}
	if !v.expiresAt.IsZero() {
		info.CacheExpiryDateTime = ocpp.NewDateTime(v.expiresAt)
	}
	return info
}

// tokenOf is the token to judge: none for NoAuthorization (free vend).
func tokenOf(t *v201.IDToken) string {
	if t == nil || t.Type == v201.IDTokenTypeNoAuthorization {
		return ""
	}
	return t.IDToken
}

func authorize201(ctx context.Context, c *conn, req *v201.AuthorizeRequest) (any, error) {
	v, err := c.authorize(ctx, tokenOf(&req.IDToken), func(tx *chargedesk.Transaction) bool { return tx.ChargerID == c.id })
	if err != nil {
		return nil, err
	}
	return v201.AuthorizeResponse{IDTokenInfo: idTokenInfo201(v)}, nil
}

// transactionEvent201 applies a TransactionEvent to the stored transaction
// before answering, and never answers with a CallError for a business
// reason. Events may arrive out of order after an offline period: state
// fields follow the highest seqNo, meter values are all kept, and an Ended
// event ends the transaction whatever its position.
func transactionEvent201(ctx context.Context, c *conn, req *v201.TransactionEventRequest) (any, error) {
	info := req.TransactionInfo
	evse := 0
	if req.Evse != nil {
		evse = req.Evse.ID
	}
	now := c.s.now()
	samples := samples201(c.id, evse, info.TransactionID, req.MeterValue)

	var resp v201.TransactionEventResponse
	var v verdict
	if req.IDToken != nil {
		var err error
		v, err = c.authorize(ctx, tokenOf(req.IDToken), func(tx *chargedesk.Transaction) bool {
			return tx.ChargerID == c.id && tx.ID == info.TransactionID
		})
		if err != nil {
			return nil, err
		}
		ti := idTokenInfo201(v)
		resp.IDTokenInfo = &ti
	}

	tx, err := c.s.cfg.Store.Transaction(ctx, c.id, info.TransactionID)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		// Started, or the first event we see of a transaction.
		tx = &chargedesk.Transaction{ID: info.TransactionID, ChargerID: c.id, ConnectorID: evse, StartedAt: req.Timestamp.Time, UpdatedAt: now}
		if wh, _, ok := lastEnergy(samples); ok && req.EventType == v201.TransactionEventStarted {
			tx.MeterStartWh = wh
		}
		if tx, err = c.s.cfg.Store.StartTransaction(ctx, tx); err != nil {
			return nil, err
		}
		c.log.Info("transaction started", "transaction_id", tx.ID, "evse", evse, "offline", req.Offline != nil && *req.Offline)
	} else if err != nil {
		return nil, err
	}

	if req.SeqNo >= tx.SeqNo {
		tx.SeqNo = req.SeqNo
		if info.ChargingState != "" {
			tx.ChargingState = string(info.ChargingState)
		}
	}
	if tx.ConnectorID == 0 && evse != 0 {
		tx.ConnectorID = evse
	}
	if info.RemoteStartID != nil {
		tx.RemoteStartID = *info.RemoteStartID
	}
	if req.IDToken != nil && tx.IDTag == "" {
		tx.IDTag, tx.AuthStatus = req.IDToken.IDToken, v.status
	}
	if wh, at, ok := lastEnergy(samples); ok {
		tx.Meter(wh, at)
	}
	if req.EventType == v201.TransactionEventEnded && tx.Active() {
		reason := string(info.StoppedReason)
		if reason == "" {
			reason = string(v201.ReasonLocal)
		}
		tx.StoppedAt, tx.StopReason, tx.MeterStopWh = req.Timestamp.Time, reason, tx.LastMeterWh
		if req.IDToken != nil {
			tx.StopIDTag = req.IDToken.IDToken
		}
		c.log.Info("transaction stopped", "transaction_id", tx.ID, "reason", reason)
	}
	tx.UpdatedAt = now
	if err := c.s.cfg.Store.UpdateTransaction(ctx, tx); err != nil {
		return nil, err
	}
	for i := range samples {
		samples[i].ConnectorID = tx.ConnectorID
	}
	if err := c.appendSamples(ctx, samples); err != nil {
		return nil, err
	}
	return resp, nil
}

func meterValues201(ctx context.Context, c *conn, req *v201.MeterValuesRequest) (any, error) {
	if err := c.storeMeterValues(ctx, samples201(c.id, req.EvseID, "", req.MeterValue), ""); err != nil {
		return nil, err
	}
	return v201.MeterValuesResponse{}, nil
}

// samples201 flattens 2.0.1 meter values, applying the unit multiplier.
func samples201(chargerID string, evse int, txID string, mvs []v201.MeterValue) []chargedesk.MeterSample {
	var out []chargedesk.MeterSample
	for _, mv := range mvs {
		for _, sv := range mv.SampledValue {
			measurand := string(sv.Measurand)
			if measurand == "" {
				measurand = string(v201.MeasurandEnergyActiveImportRegister)
			}
			unit, val := "", sv.Value
			if !usableValue(val) {
				continue
			}
			if sv.UnitOfMeasure != nil {
				unit = sv.UnitOfMeasure.Unit
				if sv.UnitOfMeasure.Multiplier != nil {
					var ok bool
					if val, ok = scale(val, *sv.UnitOfMeasure.Multiplier); !ok {
						continue
					}
				}
			}
			if unit == "" && measurand == string(v201.MeasurandEnergyActiveImportRegister) {
				unit = "Wh"
			}
			out = append(out, chargedesk.MeterSample{
				ChargerID: chargerID, ConnectorID: evse, TransactionID: txID, At: mv.Timestamp.Time,
				Measurand: measurand, Phase: string(sv.Phase), Context: string(sv.Context),
				Location: string(sv.Location), Unit: unit, Value: val,
			})
		}
	}
	return out
}

func notifyEvent201(_ context.Context, _ *conn, _ *v201.NotifyEventRequest) (any, error) {
	return v201.NotifyEventResponse{}, nil // kept in the frame history
}

func notifyReport201(_ context.Context, _ *conn, _ *v201.NotifyReportRequest) (any, error) {
	return v201.NotifyReportResponse{}, nil // kept in the frame history
}

func securityEvent201(_ context.Context, c *conn, req *v201.SecurityEventNotificationRequest) (any, error) {
	c.log.Warn("security event", "type", req.Type, "info", req.TechInfo)
	return v201.SecurityEventNotificationResponse{}, nil
}

func firmwareStatus201(ctx context.Context, c *conn, req *v201.FirmwareStatusNotificationRequest) (any, error) {
	return v201.FirmwareStatusNotificationResponse{}, c.setChargerStatus(ctx, string(req.Status), "")
}

func logStatus201(ctx context.Context, c *conn, req *v201.LogStatusNotificationRequest) (any, error) {
	return v201.LogStatusNotificationResponse{}, c.setChargerStatus(ctx, "", string(req.Status))
}

func dataTransfer201(_ context.Context, c *conn, req *v201.DataTransferRequest) (any, error) {
	c.log.Info("DataTransfer from charger for an unknown vendor", "vendor_id", req.VendorID, "message_id", req.MessageID)
	return v201.DataTransferResponse{Status: v201.DataTransferStatusUnknownVendorID}, nil
}
