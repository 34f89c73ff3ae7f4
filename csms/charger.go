package csms

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
)

// bootInfo is what a BootNotification of either version says.
type bootInfo struct {
	vendor, model, serial, firmware string
}

// recordBoot stores what the charger said at boot and returns the
// registration status to answer with (as configured for the charger) and
// the interval that goes with it.
func (c *conn) recordBoot(ctx context.Context, b bootInfo) (chargedesk.RegistrationStatus, int, error) {
	_, status, err := c.s.cfg.Store.ChargerCredentials(ctx, c.id)
	if err != nil {
		return "", 0, err
	}
	now := c.s.now()
	err = c.s.chargers.update(ctx, c.id, func(ch *chargedesk.Charger) error {
		ch.Vendor, ch.Model, ch.SerialNumber, ch.FirmwareVersion = b.vendor, b.model, b.serial, b.firmware
		ch.BootStatus, ch.LastBootAt, ch.LastSeenAt = status, now, now
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	c.setBootStatus(status)
	c.log.Info("boot", "status", status, "vendor", b.vendor, "model", b.model, "firmware", b.firmware)
	interval := c.s.cfg.HeartbeatInterval
	if status != chargedesk.RegistrationAccepted {
		interval = c.s.cfg.PendingRetryInterval
	}
	return status, int(interval / time.Second), nil
}

// heartbeat records a heartbeat (batched) and returns the current time.
func (c *conn) heartbeat() time.Time {
	now := c.s.now()
	c.s.touches.heartbeat(c.id, now)
	return now
}

// putStatus stores a connector's status before it is acknowledged.
func (c *conn) putStatus(ctx context.Context, conn chargedesk.Connector) error {
	now := c.s.now()
	conn.ChargerID, conn.UpdatedAt = c.id, now
	if conn.StatusAt.IsZero() {
		conn.StatusAt = now
	}
	return c.s.cfg.Store.PutConnector(ctx, conn)
}

// setChargerStatus records a firmware or diagnostics/log status report.
func (c *conn) setChargerStatus(ctx context.Context, firmware, diagnostics string) error {
	_, err := c.s.cfg.Store.UpdateCharger(ctx, c.id, func(ch *chargedesk.Charger) error {
		if firmware != "" {
			ch.FirmwareStatus = firmware
		}
		if diagnostics != "" {
			ch.DiagnosticsStatus = diagnostics
		}
		return nil
	})
	return err
}

// maxMeterWh bounds a believable energy register (1 TWh): larger values,
// NaN and infinities are a charger's garbage and are not stored.
const maxMeterWh = 1e12

// usableValue reports whether a sampled value can be stored.
func usableValue(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && math.Abs(v) <= maxMeterWh
}

// scale applies a 2.0.1 unit multiplier (a power of ten). ok is false when
// the multiplier or the result is not believable.
func scale(v float64, multiplier int) (float64, bool) {
	if multiplier < -18 || multiplier > 18 {
		return 0, false
	}
	v *= math.Pow10(multiplier)
	return v, usableValue(v)
}

// energyWh converts an energy register reading to Wh; ok is false for a unit
// that is not energy.
func energyWh(value float64, unit string) (float64, bool) {
	switch strings.ToLower(unit) {
	case "", "wh":
		return value, true
	case "kwh":
		return value * 1000, true
	}
	return 0, false
}

// lastEnergy returns the newest Energy.Active.Import.Register total (no
// phase) among samples, in Wh.
func lastEnergy(samples []chargedesk.MeterSample) (wh int64, at time.Time, ok bool) {
	for _, s := range samples {
		if s.Measurand != "Energy.Active.Import.Register" || s.Phase != "" {
			continue
		}
		v, isEnergy := energyWh(s.Value, s.Unit)
		if !isEnergy || (ok && s.At.Before(at)) {
			continue
		}
		wh, at, ok = int64(v+0.5), s.At, true
	}
	return wh, at, ok
}

// storeMeterValues stores samples and, when they hold an energy register
// reading for an active transaction, the transaction's last meter value.
func (c *conn) storeMeterValues(ctx context.Context, samples []chargedesk.MeterSample, txID string) error {
	if len(samples) == 0 {
		return nil
	}
	if err := c.appendSamples(ctx, samples); err != nil {
		return err
	}
	wh, at, ok := lastEnergy(samples)
	if txID == "" || !ok {
		return nil
	}
	tx, err := c.s.cfg.Store.Transaction(ctx, c.id, txID)
	if chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND {
		c.log.Warn("meter values for an unknown transaction", "transaction_id", txID)
		return nil
	}
	if err != nil {
		return err
	}
	if !tx.Meter(wh, at) {
		return nil
	}
	tx.UpdatedAt = c.s.now()
	return c.s.cfg.Store.UpdateTransaction(ctx, tx)
}

// appendSamples stores meter samples. Meter values are evidence, not what a
// charger's transaction depends on: a store failure is logged, never turned
// into a CallError that would stall the charger's transaction queue.
func (c *conn) appendSamples(ctx context.Context, samples []chargedesk.MeterSample) error {
	if len(samples) == 0 {
		return nil
	}
	if err := c.s.cfg.Store.AppendMeterValues(ctx, samples); err != nil {
		c.log.Error("store meter values", "samples", len(samples), "err", err)
	}
	return nil
}
