package chargedesk

import "time"

// Transaction is one charging session.
type Transaction struct {
	// ID is the OCPP transaction id: for 1.6 the integer chargedesk assigned
	// in its StartTransaction answer, in decimal; for 2.0.1 the charger's own
	// transactionId.
	ID          string `json:"id"`
	ChargerID   string `json:"chargerId"`
	ConnectorID int    `json:"connectorId"`
	// IDTag is the token that started the transaction ("" when a 2.0.1
	// transaction has not been authorized yet).
	IDTag string `json:"idTag,omitempty"`
	// AuthStatus is the verdict chargedesk gave for IDTag at the start.
	AuthStatus   AuthStatus `json:"authStatus,omitempty"`
	StartedAt    time.Time  `json:"startedAt"`
	MeterStartWh int64      `json:"meterStartWh"`
	// RemoteStartID links a 2.0.1 transaction to the RequestStartTransaction
	// that caused it.
	RemoteStartID int `json:"remoteStartId,omitempty"`
	// ChargingState is the 2.0.1 chargingState last reported.
	ChargingState string `json:"chargingState,omitempty"`
	// SeqNo is the highest 2.0.1 TransactionEvent seqNo applied.
	SeqNo int `json:"seqNo,omitempty"`

	// LastMeterWh and LastMeterAt are the latest energy reading and its
	// time on the charger's clock.
	LastMeterWh int64     `json:"lastMeterWh,omitempty"`
	LastMeterAt time.Time `json:"lastMeterAt,omitzero"`
	// EnergyAt is when the energy register last rose, on the charger's
	// clock (StartedAt until it does): a transaction whose register has
	// been flat for minutes delivers nothing. The store fills it in when
	// it is zero (EnergyRoseAt).
	EnergyAt time.Time `json:"energyAt,omitzero"`

	// StoppedAt is zero while the transaction is active.
	StoppedAt   time.Time `json:"stoppedAt,omitzero"`
	MeterStopWh int64     `json:"meterStopWh,omitempty"`
	StopReason  string    `json:"stopReason,omitempty"`
	StopIDTag   string    `json:"stopIdTag,omitempty"`

	UpdatedAt time.Time `json:"updatedAt"`
}

// Meter records an energy reading taken at at: it becomes the latest
// reading when it is newer than the one held, and moves EnergyAt when the
// register rose. It reports whether the reading was taken.
func (t *Transaction) Meter(wh int64, at time.Time) bool {
	if !at.After(t.LastMeterAt) {
		return false
	}
	base := t.LastMeterWh
	if t.LastMeterAt.IsZero() {
		base = t.MeterStartWh
	}
	if wh > base {
		t.EnergyAt = at
	}
	t.LastMeterWh, t.LastMeterAt = wh, at
	return true
}

// EnergyRoseAt is EnergyAt or, when that is not known, the latest moment
// energy may have risen: the latest reading, or the start.
func (t *Transaction) EnergyRoseAt() time.Time {
	switch {
	case !t.EnergyAt.IsZero():
		return t.EnergyAt
	case t.LastMeterAt.After(t.StartedAt):
		return t.LastMeterAt
	}
	return t.StartedAt
}

// Active reports whether the transaction has not ended.
func (t *Transaction) Active() bool { return t.StoppedAt.IsZero() }

// TransactionFilter selects transactions.
type TransactionFilter struct {
	ChargerID string
	// ChargerIDs keeps the transactions of any of these chargers (at most
	// MaxFilterChargerIDs), so that a page of chargers gets its sessions
	// in one query.
	ChargerIDs []string
	IDTag      string
	// ActiveOnly keeps transactions that have not ended.
	ActiveOnly bool
	Limit      int
}

// MaxFilterChargerIDs bounds TransactionFilter.ChargerIDs.
const MaxFilterChargerIDs = 1000

// MeterSample is one sampled value of a MeterValues message or a
// TransactionEvent's meterValue.
type MeterSample struct {
	ChargerID     string    `json:"chargerId"`
	ConnectorID   int       `json:"connectorId"`
	TransactionID string    `json:"transactionId,omitempty"`
	At            time.Time `json:"at"`
	// Measurand defaults to Energy.Active.Import.Register as in both specs.
	Measurand string  `json:"measurand"`
	Phase     string  `json:"phase,omitempty"`
	Context   string  `json:"context,omitempty"`
	Location  string  `json:"location,omitempty"`
	Unit      string  `json:"unit,omitempty"`
	Value     float64 `json:"value"`
}
