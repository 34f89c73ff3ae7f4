package chargedesk

import (
	"time"
)

// Protocol is an OCPP version as negotiated in the WebSocket subprotocol.
type Protocol string

// The protocol versions chargedesk speaks.
const (
	OCPP16  Protocol = "ocpp1.6"
	OCPP201 Protocol = "ocpp2.0.1"
)

// Valid reports whether p is a protocol chargedesk speaks.
func (p Protocol) Valid() bool { return p == OCPP16 || p == OCPP201 }

// RegistrationStatus is the answer chargedesk gave to a charger's last
// BootNotification.
type RegistrationStatus string

// Registration statuses, identical in OCPP 1.6 and 2.0.1.
const (
	RegistrationAccepted RegistrationStatus = "Accepted"
	RegistrationPending  RegistrationStatus = "Pending"
	RegistrationRejected RegistrationStatus = "Rejected"
)

// MaxChargerIDLen is the longest charger id accepted: the 2.0.1 limit on a
// charging station identity, which 1.6 chargers also fit in practice.
const MaxChargerIDLen = 48

// ValidateChargerID returns an EINVALID error unless id is 1 to 48 characters
// of ASCII letters, digits, '-', '_' or '.'. The set is safe in URL paths, in
// HTTP Basic user names (no ':'), and in bus subjects once '.' is escaped.
func ValidateChargerID(id string) error {
	if id == "" {
		return Errorf(EINVALID, "charger id is empty")
	}
	if len(id) > MaxChargerIDLen {
		return Errorf(EINVALID, "charger id is longer than %d characters", MaxChargerIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return Errorf(EINVALID, "charger id %q has a character outside A-Z a-z 0-9 - _ .", id)
		}
	}
	return nil
}

// Charger is one charging station as chargedesk knows it: its registration,
// what it said at boot, whether it is connected and its connectors.
type Charger struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`

	// Protocol is the version negotiated on the last connection.
	Protocol        Protocol           `json:"protocol,omitempty"`
	Vendor          string             `json:"vendor,omitempty"`
	Model           string             `json:"model,omitempty"`
	SerialNumber    string             `json:"serialNumber,omitempty"`
	FirmwareVersion string             `json:"firmwareVersion,omitempty"`
	BootStatus      RegistrationStatus `json:"bootStatus,omitempty"`
	// FirmwareStatus and DiagnosticsStatus are the last values the charger
	// reported in FirmwareStatusNotification and DiagnosticsStatusNotification
	// (LogStatusNotification in 2.0.1).
	FirmwareStatus    string `json:"firmwareStatus,omitempty"`
	DiagnosticsStatus string `json:"diagnosticsStatus,omitempty"`

	Connected bool `json:"connected"`
	// Node is the chargedesk node that holds the charger's socket.
	Node            string    `json:"node,omitempty"`
	ConnectedAt     time.Time `json:"connectedAt,omitzero"`
	DisconnectedAt  time.Time `json:"disconnectedAt,omitzero"`
	LastBootAt      time.Time `json:"lastBootAt,omitzero"`
	LastHeartbeatAt time.Time `json:"lastHeartbeatAt,omitzero"`
	// LastSeenAt is when the charger last sent anything.
	LastSeenAt   time.Time `json:"lastSeenAt,omitzero"`
	RegisteredAt time.Time `json:"registeredAt"`

	Connectors []Connector `json:"connectors"`
}

// Connector returns the connector with the given id, or nil.
func (c *Charger) Connector(id int) *Connector {
	for i := range c.Connectors {
		if c.Connectors[i].ID == id {
			return &c.Connectors[i]
		}
	}
	return nil
}

// ChargerRegistration is what an operator gives to register a charger.
type ChargerRegistration struct {
	ID          string
	Description string
	// PasswordHash is the hash of the charger's Basic auth password (see
	// HashPassword); empty means the charger authenticates with a client
	// certificate alone (or, where the server allows it, with nothing).
	PasswordHash string
	// BootStatus is the registration status given at the next boot:
	// Accepted for registered chargers, Pending for auto-registered ones.
	// Rejected disables the charger: its connections are refused at the
	// handshake, whatever credentials it presents.
	BootStatus RegistrationStatus
}

// Validate checks the registration.
func (r *ChargerRegistration) Validate() error {
	if err := ValidateChargerID(r.ID); err != nil {
		return err
	}
	if len(r.Description) > 200 {
		return Errorf(EINVALID, "description is longer than 200 characters")
	}
	switch r.BootStatus {
	case RegistrationAccepted, RegistrationPending, RegistrationRejected:
	default:
		return Errorf(EINVALID, "boot status %q is not Accepted, Pending or Rejected", r.BootStatus)
	}
	return nil
}

// ChargerFilter selects chargers in a listing. Every field set narrows it.
type ChargerFilter struct {
	// Connected, when set, keeps only chargers that are (or are not) connected.
	Connected *bool
	// SiteID keeps the chargers placed at that site (ChargerLocation).
	SiteID string
	// IDContains keeps the chargers whose id contains it, ignoring case.
	// It must itself look like part of a charger id (see Validate).
	IDContains string
	// Status keeps the chargers with at least one connector of that kind.
	Status StatusKind
	// AfterID pages through chargers in id order.
	AfterID string
	Limit   int
}

// Validate checks what a listing may be asked: an IDContains and an
// AfterID of charger id characters, a site id of at most 64 characters, a
// known Status kind. EINVALID.
func (f *ChargerFilter) Validate() error {
	if f.IDContains != "" {
		if err := ValidateChargerID(f.IDContains); err != nil {
			return Errorf(EINVALID, "search: %s", ErrorMessage(err))
		}
	}
	if f.AfterID != "" {
		if err := ValidateChargerID(f.AfterID); err != nil {
			return Errorf(EINVALID, "after: %s", ErrorMessage(err))
		}
	}
	if len(f.SiteID) > 64 {
		return Errorf(EINVALID, "site id is longer than 64 characters")
	}
	if f.Status != "" && !f.Status.Valid() {
		return Errorf(EINVALID, "status %.32q is not one of faulted, unavailable, in-use, available", f.Status)
	}
	return nil
}

// StatusKind groups connector statuses the way an operator looks at a
// fleet: something broken, something switched off, a car on it, free.
type StatusKind string

// Status kinds.
const (
	// KindFaulted: a connector, or the charger as a whole (connector 0),
	// is Faulted.
	KindFaulted StatusKind = "faulted"
	// KindUnavailable: a connector, or the charger as a whole, is
	// Unavailable.
	KindUnavailable StatusKind = "unavailable"
	// KindInUse: a connector is Charging or Occupied — 2.0.1's Occupied
	// is 1.6's Preparing, Charging, SuspendedEV, SuspendedEVSE and
	// Finishing, so all of those count.
	KindInUse StatusKind = "in-use"
	// KindAvailable: a connector is Available.
	KindAvailable StatusKind = "available"
)

// StatusKinds lists every status kind.
var StatusKinds = []StatusKind{KindFaulted, KindUnavailable, KindInUse, KindAvailable}

// Valid reports whether k is a known kind.
func (k StatusKind) Valid() bool {
	sts, _ := k.Statuses()
	return len(sts) > 0
}

// Statuses returns the connector statuses of kind k and whether connector
// 0, which stands for the charger as a whole, counts: a charger that is
// Faulted or Unavailable as a whole is, but its connector 0 being
// Available says nothing about a free connector.
func (k StatusKind) Statuses() (statuses []ConnectorStatus, wholeCharger bool) {
	switch k {
	case KindFaulted:
		return []ConnectorStatus{StatusFaulted}, true
	case KindUnavailable:
		return []ConnectorStatus{StatusUnavailable}, true
	case KindInUse:
		return []ConnectorStatus{StatusPreparing, StatusCharging, StatusSuspendedEV, StatusSuspendedEVSE,
			StatusFinishing, StatusOccupied}, false
	case KindAvailable:
		return []ConnectorStatus{StatusAvailable}, false
	}
	return nil, false
}

// ConnectorStatus is a connector's status as its charger last reported it.
// 1.6 and 2.0.1 share Available, Reserved, Unavailable and Faulted; 1.6 adds
// Preparing, Charging, SuspendedEV, SuspendedEVSE and Finishing; 2.0.1 adds
// Occupied.
type ConnectorStatus string

// Connector statuses of both protocol versions.
const (
	StatusAvailable     ConnectorStatus = "Available"
	StatusPreparing     ConnectorStatus = "Preparing"
	StatusCharging      ConnectorStatus = "Charging"
	StatusSuspendedEV   ConnectorStatus = "SuspendedEV"
	StatusSuspendedEVSE ConnectorStatus = "SuspendedEVSE"
	StatusFinishing     ConnectorStatus = "Finishing"
	StatusReserved      ConnectorStatus = "Reserved"
	StatusUnavailable   ConnectorStatus = "Unavailable"
	StatusFaulted       ConnectorStatus = "Faulted"
	StatusOccupied      ConnectorStatus = "Occupied"
)

// Connector is one outlet of a charger. ID is the number a driver sees: the
// connectorId of OCPP 1.6 or the evseId of OCPP 2.0.1 (where a charger with
// several connectors on one EVSE reports them under the same ID). ID 0 stands
// for the charger as a whole.
type Connector struct {
	ChargerID string `json:"chargerId"`
	ID        int    `json:"id"`
	// EVSEConnectorID is the 2.0.1 connectorId within the EVSE; 0 for 1.6.
	EVSEConnectorID int             `json:"evseConnectorId,omitempty"`
	Status          ConnectorStatus `json:"status"`
	// ErrorCode is the 1.6 ChargePointErrorCode ("NoError" when fine).
	ErrorCode       string `json:"errorCode,omitempty"`
	Info            string `json:"info,omitempty"`
	VendorID        string `json:"vendorId,omitempty"`
	VendorErrorCode string `json:"vendorErrorCode,omitempty"`
	// StatusAt is the charger's own timestamp of the status.
	StatusAt time.Time `json:"statusAt,omitzero"`
	// UpdatedAt is when chargedesk received it.
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}
