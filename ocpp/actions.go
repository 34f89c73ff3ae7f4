package ocpp

import (
	"slices"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
)

// Direction says which side of a connection sends the CALL of an action.
type Direction uint8

// The directions. DataTransfer is the only action both sides send.
const (
	ChargerToCSMS Direction = 1 << iota
	CSMSToCharger
	BothDirections = ChargerToCSMS | CSMSToCharger
)

// String returns the name of the direction constant.
func (d Direction) String() string {
	switch d {
	case ChargerToCSMS:
		return "ChargerToCSMS"
	case CSMSToCharger:
		return "CSMSToCharger"
	case BothDirections:
		return "Both"
	}
	return "Direction(0)"
}

// Action is one message type of a protocol version.
type Action struct {
	Name      string
	Protocol  chargedesk.Protocol
	Direction Direction
}

// SentByCharger reports whether a charger may send a CALL of this action.
func (a Action) SentByCharger() bool { return a.Direction&ChargerToCSMS != 0 }

// SentByCSMS reports whether the CSMS may send a CALL of this action.
func (a Action) SentByCSMS() bool { return a.Direction&CSMSToCharger != 0 }

// actions16 and actions201 list every action that has a schema, with its
// direction. They are read-only.
var (
	actions16 = map[string]Direction{
		// Core, firmware, local list, reservation, smart charging, remote
		// trigger profiles.
		"Authorize":                     ChargerToCSMS,
		"BootNotification":              ChargerToCSMS,
		"CancelReservation":             CSMSToCharger,
		"ChangeAvailability":            CSMSToCharger,
		"ChangeConfiguration":           CSMSToCharger,
		"ClearCache":                    CSMSToCharger,
		"ClearChargingProfile":          CSMSToCharger,
		"DataTransfer":                  BothDirections,
		"DiagnosticsStatusNotification": ChargerToCSMS,
		"FirmwareStatusNotification":    ChargerToCSMS,
		"GetCompositeSchedule":          CSMSToCharger,
		"GetConfiguration":              CSMSToCharger,
		"GetDiagnostics":                CSMSToCharger,
		"GetLocalListVersion":           CSMSToCharger,
		"Heartbeat":                     ChargerToCSMS,
		"MeterValues":                   ChargerToCSMS,
		"RemoteStartTransaction":        CSMSToCharger,
		"RemoteStopTransaction":         CSMSToCharger,
		"ReserveNow":                    CSMSToCharger,
		"Reset":                         CSMSToCharger,
		"SendLocalList":                 CSMSToCharger,
		"SetChargingProfile":            CSMSToCharger,
		"StartTransaction":              ChargerToCSMS,
		"StatusNotification":            ChargerToCSMS,
		"StopTransaction":               ChargerToCSMS,
		"TriggerMessage":                CSMSToCharger,
		"UnlockConnector":               CSMSToCharger,
		"UpdateFirmware":                CSMSToCharger,
		// Security extension.
		"CertificateSigned":                CSMSToCharger,
		"DeleteCertificate":                CSMSToCharger,
		"ExtendedTriggerMessage":           CSMSToCharger,
		"GetInstalledCertificateIds":       CSMSToCharger,
		"GetLog":                           CSMSToCharger,
		"InstallCertificate":               CSMSToCharger,
		"LogStatusNotification":            ChargerToCSMS,
		"SecurityEventNotification":        ChargerToCSMS,
		"SignCertificate":                  ChargerToCSMS,
		"SignedFirmwareStatusNotification": ChargerToCSMS,
		"SignedUpdateFirmware":             CSMSToCharger,
	}
	actions201 = map[string]Direction{
		"Authorize":                         ChargerToCSMS,
		"BootNotification":                  ChargerToCSMS,
		"CancelReservation":                 CSMSToCharger,
		"CertificateSigned":                 CSMSToCharger,
		"ChangeAvailability":                CSMSToCharger,
		"ClearCache":                        CSMSToCharger,
		"ClearChargingProfile":              CSMSToCharger,
		"ClearDisplayMessage":               CSMSToCharger,
		"ClearVariableMonitoring":           CSMSToCharger,
		"ClearedChargingLimit":              ChargerToCSMS,
		"CostUpdated":                       CSMSToCharger,
		"CustomerInformation":               CSMSToCharger,
		"DataTransfer":                      BothDirections,
		"DeleteCertificate":                 CSMSToCharger,
		"FirmwareStatusNotification":        ChargerToCSMS,
		"Get15118EVCertificate":             ChargerToCSMS,
		"GetBaseReport":                     CSMSToCharger,
		"GetCertificateStatus":              ChargerToCSMS,
		"GetChargingProfiles":               CSMSToCharger,
		"GetCompositeSchedule":              CSMSToCharger,
		"GetDisplayMessages":                CSMSToCharger,
		"GetInstalledCertificateIds":        CSMSToCharger,
		"GetLocalListVersion":               CSMSToCharger,
		"GetLog":                            CSMSToCharger,
		"GetMonitoringReport":               CSMSToCharger,
		"GetReport":                         CSMSToCharger,
		"GetTransactionStatus":              CSMSToCharger,
		"GetVariables":                      CSMSToCharger,
		"Heartbeat":                         ChargerToCSMS,
		"InstallCertificate":                CSMSToCharger,
		"LogStatusNotification":             ChargerToCSMS,
		"MeterValues":                       ChargerToCSMS,
		"NotifyChargingLimit":               ChargerToCSMS,
		"NotifyCustomerInformation":         ChargerToCSMS,
		"NotifyDisplayMessages":             ChargerToCSMS,
		"NotifyEVChargingNeeds":             ChargerToCSMS,
		"NotifyEVChargingSchedule":          ChargerToCSMS,
		"NotifyEvent":                       ChargerToCSMS,
		"NotifyMonitoringReport":            ChargerToCSMS,
		"NotifyReport":                      ChargerToCSMS,
		"PublishFirmware":                   CSMSToCharger,
		"PublishFirmwareStatusNotification": ChargerToCSMS,
		"ReportChargingProfiles":            ChargerToCSMS,
		"RequestStartTransaction":           CSMSToCharger,
		"RequestStopTransaction":            CSMSToCharger,
		"ReservationStatusUpdate":           ChargerToCSMS,
		"ReserveNow":                        CSMSToCharger,
		"Reset":                             CSMSToCharger,
		"SecurityEventNotification":         ChargerToCSMS,
		"SendLocalList":                     CSMSToCharger,
		"SetChargingProfile":                CSMSToCharger,
		"SetDisplayMessage":                 CSMSToCharger,
		"SetMonitoringBase":                 CSMSToCharger,
		"SetMonitoringLevel":                CSMSToCharger,
		"SetNetworkProfile":                 CSMSToCharger,
		"SetVariableMonitoring":             CSMSToCharger,
		"SetVariables":                      CSMSToCharger,
		"SignCertificate":                   ChargerToCSMS,
		"StatusNotification":                ChargerToCSMS,
		"TransactionEvent":                  ChargerToCSMS,
		"TriggerMessage":                    CSMSToCharger,
		"UnlockConnector":                   CSMSToCharger,
		"UnpublishFirmware":                 CSMSToCharger,
		"UpdateFirmware":                    CSMSToCharger,
	}
)

func actionTable(p chargedesk.Protocol) map[string]Direction {
	switch p {
	case chargedesk.OCPP16:
		return actions16
	case chargedesk.OCPP201:
		return actions201
	}
	return nil
}

// Lookup returns the action of protocol p with the given name (case
// sensitive, as on the wire); ok is false when p has no such action, which a
// receiver answers with NotImplemented.
func Lookup(p chargedesk.Protocol, action string) (a Action, ok bool) {
	d, ok := actionTable(p)[action]
	if !ok {
		return Action{}, false
	}
	return Action{Name: action, Protocol: p, Direction: d}, true
}

// Actions returns every action of protocol p sorted by name; nil for a
// protocol chargedesk does not speak.
func Actions(p chargedesk.Protocol) []Action {
	t := actionTable(p)
	as := make([]Action, 0, len(t))
	for name, d := range t {
		as = append(as, Action{Name: name, Protocol: p, Direction: d})
	}
	slices.SortFunc(as, func(a, b Action) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	if len(as) == 0 {
		return nil
	}
	return as
}

// CheckIncoming returns nil when a charger speaking p may send a CALL of
// action, and otherwise the *Error to answer it with: NotImplemented for an
// action p does not define, NotSupported for one only the CSMS sends.
func CheckIncoming(p chargedesk.Protocol, action string) error {
	a, ok := Lookup(p, action)
	if !ok {
		return Errorf(NotImplemented, "action %q is not defined in %s", textcut.Marked(action, 60), p)
	}
	if !a.SentByCharger() {
		return Errorf(NotSupported, "action %s is sent by the CSMS, not by a charging station", action)
	}
	return nil
}
