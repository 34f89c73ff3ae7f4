package csms

import (
	"context"
	"strconv"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
)

// handlers16 answers the CALLs an OCPP 1.6 charger sends. Read-only.
var handlers16 = map[string]handlerFunc{
	"BootNotification":                 handle(boot16),
	"Heartbeat":                        heartbeat,
	"StatusNotification":               handle(status16),
	"Authorize":                        handle(authorize16),
	"StartTransaction":                 handle(startTransaction16),
	"StopTransaction":                  handle(stopTransaction16),
	"MeterValues":                      handle(meterValues16),
	"DataTransfer":                     handle(dataTransfer16),
	"DiagnosticsStatusNotification":    handle(diagnosticsStatus16),
	"FirmwareStatusNotification":       handle(firmwareStatus16),
	"SecurityEventNotification":        handle(securityEvent16),
	"LogStatusNotification":            handle(logStatus16),
	"SignedFirmwareStatusNotification": handle(signedFirmwareStatus16),
}

func boot16(ctx context.Context, c *conn, req *v16.BootNotificationRequest) (any, error) {
	serial := req.ChargePointSerialNumber
	if serial == "" {
		serial = req.ChargeBoxSerialNumber
	}
	status, interval, err := c.recordBoot(ctx, bootInfo{vendor: req.ChargePointVendor, model: req.ChargePointModel, serial: serial, firmware: req.FirmwareVersion})
	if err != nil {
		return nil, err
	}
	return v16.BootNotificationResponse{Status: v16.RegistrationStatus(status), CurrentTime: ocpp.NewDateTime(c.s.now()), Interval: interval}, nil
}

func status16(ctx context.Context, c *conn, req *v16.StatusNotificationRequest) (any, error) {
	err := c.putStatus(ctx, chargedesk.Connector{
		ID: req.ConnectorID, Status: chargedesk.ConnectorStatus(req.Status), ErrorCode: string(req.ErrorCode),
		Info: req.Info, VendorID: req.VendorID, VendorErrorCode: req.VendorErrorCode, StatusAt: req.Timestamp.Time,
	})
	if err != nil {
		return nil, err
	}
	return v16.StatusNotificationResponse{}, nil
}

// idTagInfo16 turns a verdict into a 1.6 IdTagInfo. 1.6 has no Unknown: an
// unknown token is Invalid.
func idTagInfo16(v verdict) v16.IDTagInfo {
	st := v.status
	if st == chargedesk.AuthUnknown {
		st = chargedesk.AuthInvalid
	}
	info := v16.IDTagInfo{Status: v16.AuthorizationStatus(st), ParentIDTag: v.parent}
	if !v.expiresAt.IsZero() {
		info.ExpiryDate = ocpp.NewDateTime(v.expiresAt)
	}
	return info
}

func authorize16(ctx context.Context, c *conn, req *v16.AuthorizeRequest) (any, error) {
	// A tap on this charger while the token's transaction runs here is how a
	// driver stops it: not a concurrent transaction.
	v, err := c.authorize(ctx, req.IDTag, func(tx *chargedesk.Transaction) bool { return tx.ChargerID == c.id })
	if err != nil {
		return nil, err
	}
	return v16.AuthorizeResponse{IDTagInfo: idTagInfo16(v)}, nil
}

// startTransaction16 stores the transaction before answering and always
// answers with a transaction id: the verdict travels in idTagInfo.
func startTransaction16(ctx context.Context, c *conn, req *v16.StartTransactionRequest) (any, error) {
	startedAt := req.Timestamp.Time
	v, err := c.authorize(ctx, req.IDTag, func(tx *chargedesk.Transaction) bool {
		// A retried StartTransaction finds its own first attempt.
		return tx.ChargerID == c.id && tx.ConnectorID == req.ConnectorID && tx.StartedAt.Equal(startedAt.Truncate(time.Microsecond))
	})
	if err != nil {
		return nil, err
	}
	given, _ := ctx.Value(txIDKey{}).(string)
	tx, err := c.s.cfg.Store.StartTransaction(ctx, &chargedesk.Transaction{
		ID: given, ChargerID: c.id, ConnectorID: req.ConnectorID, IDTag: req.IDTag, AuthStatus: v.status,
		StartedAt: startedAt, MeterStartWh: int64(req.MeterStart), LastMeterWh: int64(req.MeterStart),
		LastMeterAt: startedAt, UpdatedAt: c.s.now(),
	})
	if err != nil {
		return nil, err
	}
	id, err := strconv.Atoi(tx.ID)
	if err != nil {
		return nil, chargedesk.Errorf(chargedesk.EINTERNAL, "stored 1.6 transaction id %q is not an integer", tx.ID)
	}
	c.log.Info("transaction started", "transaction_id", tx.ID, "connector", req.ConnectorID, "verdict", v.status)
	return v16.StartTransactionResponse{TransactionID: id, IDTagInfo: idTagInfo16(v)}, nil
}

// stopTransaction16 never refuses: an unknown transaction is logged and
// acknowledged, a repeated stop changes nothing.
func stopTransaction16(ctx context.Context, c *conn, req *v16.StopTransactionRequest) (any, error) {
	txID := strconv.Itoa(req.TransactionID)
	tx, err := c.s.cfg.Store.Transaction(ctx, c.id, txID)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
		c.log.Warn("StopTransaction for an unknown transaction", "transaction_id", txID)
	case err != nil:
		return nil, err
	case tx.Active():
		// The samples are stored with the stop, once: a repeated stop of
		// the same transaction adds nothing.
		samples := samples16(c.id, tx.ConnectorID, txID, req.TransactionData)
		reason := string(req.Reason)
		if reason == "" {
			reason = string(v16.ReasonLocal)
		}
		tx.StoppedAt, tx.MeterStopWh, tx.StopReason, tx.StopIDTag = req.Timestamp.Time, int64(req.MeterStop), reason, req.IDTag
		tx.LastMeterWh, tx.LastMeterAt, tx.UpdatedAt = int64(req.MeterStop), req.Timestamp.Time, c.s.now()
		if err := c.s.cfg.Store.UpdateTransaction(ctx, tx); err != nil {
			return nil, err
		}
		c.log.Info("transaction stopped", "transaction_id", txID, "reason", reason)
		if err := c.appendSamples(ctx, samples); err != nil {
			return nil, err
		}
	}
	var resp v16.StopTransactionResponse
	if req.IDTag != "" {
		// The verdict on the token that stopped the session: whether the
		// token is valid, not whether it is busy elsewhere.
		v, err := c.authorize(ctx, req.IDTag, func(*chargedesk.Transaction) bool { return true })
		if err != nil {
			return nil, err
		}
		info := idTagInfo16(v)
		resp.IDTagInfo = &info
	}
	return resp, nil
}

func meterValues16(ctx context.Context, c *conn, req *v16.MeterValuesRequest) (any, error) {
	txID := ""
	if req.TransactionID != nil {
		txID = strconv.Itoa(*req.TransactionID)
	}
	if err := c.storeMeterValues(ctx, samples16(c.id, req.ConnectorID, txID, req.MeterValue), txID); err != nil {
		return nil, err
	}
	return v16.MeterValuesResponse{}, nil
}

// samples16 flattens 1.6 meter values; signed or non-numeric values are
// skipped (they stay in the frame history).
func samples16(chargerID string, connector int, txID string, mvs []v16.MeterValue) []chargedesk.MeterSample {
	var out []chargedesk.MeterSample
	for _, mv := range mvs {
		for _, sv := range mv.SampledValue {
			if sv.Format == v16.ValueFormatSignedData {
				continue
			}
			val, err := strconv.ParseFloat(sv.Value, 64)
			if err != nil || !usableValue(val) {
				continue
			}
			measurand := string(sv.Measurand)
			if measurand == "" {
				measurand = string(v16.MeasurandEnergyActiveImportRegister)
			}
			unit := string(sv.Unit)
			if unit == "" && measurand == string(v16.MeasurandEnergyActiveImportRegister) {
				unit = "Wh"
			}
			out = append(out, chargedesk.MeterSample{
				ChargerID: chargerID, ConnectorID: connector, TransactionID: txID, At: mv.Timestamp.Time,
				Measurand: measurand, Phase: string(sv.Phase), Context: string(sv.Context),
				Location: string(sv.Location), Unit: unit, Value: val,
			})
		}
	}
	return out
}

func dataTransfer16(_ context.Context, c *conn, req *v16.DataTransferRequest) (any, error) {
	c.log.Info("DataTransfer from charger for an unknown vendor", "vendor_id", req.VendorID, "message_id", req.MessageID)
	return v16.DataTransferResponse{Status: v16.DataTransferStatusUnknownVendorID}, nil
}

func diagnosticsStatus16(ctx context.Context, c *conn, req *v16.DiagnosticsStatusNotificationRequest) (any, error) {
	return v16.DiagnosticsStatusNotificationResponse{}, c.setChargerStatus(ctx, "", string(req.Status))
}

func firmwareStatus16(ctx context.Context, c *conn, req *v16.FirmwareStatusNotificationRequest) (any, error) {
	return v16.FirmwareStatusNotificationResponse{}, c.setChargerStatus(ctx, string(req.Status), "")
}

func signedFirmwareStatus16(ctx context.Context, c *conn, req *v16.SignedFirmwareStatusNotificationRequest) (any, error) {
	return v16.SignedFirmwareStatusNotificationResponse{}, c.setChargerStatus(ctx, string(req.Status), "")
}

func logStatus16(ctx context.Context, c *conn, req *v16.LogStatusNotificationRequest) (any, error) {
	return v16.LogStatusNotificationResponse{}, c.setChargerStatus(ctx, "", string(req.Status))
}

func securityEvent16(_ context.Context, c *conn, req *v16.SecurityEventNotificationRequest) (any, error) {
	c.log.Warn("security event", "type", req.Type, "info", req.TechInfo)
	return v16.SecurityEventNotificationResponse{}, nil
}
