package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
)

const (
	v16  = chargedesk.OCPP16
	v201 = chargedesk.OCPP201
	mins = time.Minute
)

type diagCase struct {
	name string
	view func() View
	// top is the expected best cause, fixable whether it has a remote fix.
	top     string
	fixable bool
	// evidence are substrings the top cause's evidence must contain.
	evidence []string
	// absent are codes that must not appear at all.
	absent []string
}

func TestDiagnose(t *testing.T) {
	cases := []diagCase{
		{
			name: "charger_unknown",
			view: func() View { return View{Now: now, Category: chargedesk.CategorySessionWontStart} },
			top:  CodeChargerUnknown, evidence: []string{"not known"},
		},
		{
			name: "connector_unknown/no such connector",
			view: func() View {
				return View{Now: now, Charger: chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 30*mins)), ConnectorID: 3}
			},
			top: CodeConnectorUnknown, evidence: []string{"no connector 3"},
		},
		{
			name: "connector_unknown/two connectors in use",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategorySessionWontStart, Charger: chargerOf(v16,
					conn(1, chargedesk.StatusAvailable, "NoError", 30*mins), conn(2, chargedesk.StatusAvailable, "NoError", 30*mins))}
			},
			top: CodeConnectorUnknown, evidence: []string{"2 connectors"},
		},
		{
			name: "connector inferred/the only one in trouble",
			view: func() View {
				return View{Now: now, Charger: chargerOf(v16,
					conn(1, chargedesk.StatusAvailable, "NoError", 30*mins), conn(2, chargedesk.StatusFaulted, "InternalError", 8*mins))}
			},
			top: CodeHardwareFaultPower, evidence: []string{"connector 2 has been Faulted for 8 min"}, absent: []string{CodeConnectorUnknown},
		},
		{
			name: "boot_pending",
			view: func() View {
				ch := chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 30*mins))
				ch.BootStatus = chargedesk.RegistrationPending
				return View{Now: now, Charger: ch, ConnectorID: 1}
			},
			top: CodeBootPending, evidence: []string{"answered Pending"},
		},
		{
			name: "comm_drop/short",
			view: func() View {
				ch := chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 30*mins))
				ch.Connected, ch.DisconnectedAt, ch.LastSeenAt = false, before(40*time.Second), before(45*time.Second)
				return View{Now: now, Category: chargedesk.CategoryChargerOffline, Charger: ch, ConnectorID: 1}
			},
			top: CodeCommDrop, evidence: []string{"short drop", "40 s ago"},
		},
		{
			name: "comm_drop/long",
			view: func() View {
				ch := chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 30*mins))
				ch.Connected, ch.DisconnectedAt, ch.LastSeenAt, ch.LastHeartbeatAt = false, before(12*mins), before(12*mins+5*time.Second), before(13*mins)
				return View{Now: now, Category: chargedesk.CategoryChargerOffline, Charger: ch, ConnectorID: 1}
			},
			top: CodeCommDrop, evidence: []string{"disconnected since 14:18 (12 min)", "long outage", "last contact 14:17"},
			absent: []string{CodeNoFaultSeen},
		},
		{
			name: "comm_drop/flapping counted from events",
			view: func() View {
				ch := chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 30*mins))
				ch.Connected, ch.DisconnectedAt = false, before(5*mins)
				var f frames
				for i := range 4 {
					f.conn(time.Duration(5+10*i)*mins, chargedesk.EventDisconnected)
					f.conn(time.Duration(8+10*i)*mins, chargedesk.EventConnected)
				}
				return View{Now: now, Charger: ch, Events: f.list()}
			},
			top: CodeCommDrop, evidence: []string{"dropped 4 times"},
		},
		{
			name: "comm_drop/connected but silent",
			view: func() View {
				ch := chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 2*time.Hour))
				ch.LastSeenAt, ch.LastHeartbeatAt = before(45*mins), before(45*mins)
				return View{Now: now, Category: chargedesk.CategoryChargerOffline, Charger: ch, ConnectorID: 1}
			},
			top: CodeCommDrop, evidence: []string{"socket is open but nothing was received for 45 min"},
		},
		{
			name: "stale_transaction/1.6 Finishing",
			view: func() View {
				var f frames
				authorize16(&f, 2*mins, "04A2B3", "ConcurrentTx")
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusFinishing, "NoError", 50*mins)), ConnectorID: 1,
					Active: []*chargedesk.Transaction{activeTx(1, "OTHER1", time.Hour, 50*mins, 4000)},
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeStaleTransaction, fixable: true,
			evidence: []string{"transaction 41 (another card)", "Finishing for 50 min", "no energy reported since 13:40 (50 min)", "got ConcurrentTx"},
			absent:   []string{CodeSomeoneElsesSess},
		},
		{
			name: "stale_transaction/2.0.1 Occupied and silent",
			view: func() View {
				tx := activeTx(1, "OTHER1", time.Hour, time.Hour, 0)
				tx.ChargingState = "Charging"
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", time.Hour)), ConnectorID: 1,
					Active: []*chargedesk.Transaction{tx}, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeStaleTransaction, fixable: true, evidence: []string{"no energy reported since 13:30 (1 h)"},
		},
		{
			name: "controller_hung/1.6 Preparing after accepted Authorize",
			view: func() View {
				var f frames
				heartbeats(&f, 6)
				authorize16(&f, 4*mins, "04A2B3", "Accepted")
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", 5*mins)), ConnectorID: 1,
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeControllerHung, fixable: true,
			evidence: []string{"connector 1 has been Preparing for 5 min", "Authorize for card 04A2B3 was accepted at 14:26 (4 min ago)"},
			absent:   []string{CodeLocalListStale, CodeReaderFault},
		},
		{
			name: "controller_hung/2.0.1 Occupied without transaction",
			view: func() View {
				var f frames
				authorize201(&f, 6*mins, "04A2B3", "Accepted")
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 7*mins)), ConnectorID: 1,
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeControllerHung, fixable: true, evidence: []string{"Occupied for 7 min"},
		},
		{
			name: "controller_hung/not yet: Authorize a minute ago",
			view: func() View {
				var f frames
				authorize16(&f, time.Minute, "04A2B3", "Accepted")
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", 2*mins)), ConnectorID: 1,
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeNoFaultSeen, absent: []string{CodeControllerHung},
		},
		{
			name: "handshake_timeout/1.6 EVCommunicationError",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "EVCommunicationError", 3*mins)), ConnectorID: 1}
			},
			top: CodeHandshakeTimeout, fixable: true, evidence: []string{"with error EVCommunicationError"},
			absent: []string{CodeHardwareFaultPower},
		},
		{
			name: "handshake_timeout/2.0.1 NotifyEvent",
			view: func() View {
				var f frames
				f.exchange(3*mins, chargedesk.DirIn, "NotifyEvent", obj{"generatedAt": now, "seqNo": 0, "eventData": []obj{{
					"eventId": 1, "timestamp": now, "trigger": "Alerting", "actualValue": "true", "techCode": "EVCommunicationError",
					"eventNotificationType": "HardWiredNotification",
					"component":             obj{"name": "Connector", "evse": obj{"id": 1, "connectorId": 1}}, "variable": obj{"name": "Problem"},
				}}}, obj{})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 3*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeHandshakeTimeout, fixable: true, evidence: []string{"Occupied for 3 min with error EVCommunicationError"},
		},
		{
			name: "vehicle_schedule/1.6 SuspendedEV",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusSuspendedEV, "NoError", 6*mins)), ConnectorID: 1,
					Active:   []*chargedesk.Transaction{activeTx(1, "04A2B3", 7*mins, 30*time.Second, 0)},
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeVehicleSchedule, fixable: false, evidence: []string{"SuspendedEV for 6 min", "refusing energy"},
			absent: []string{CodeStaleTransaction},
		},
		{
			name: "vehicle_schedule/2.0.1 chargingState SuspendedEV",
			view: func() View {
				tx := activeTx(1, "04A2B3", 7*mins, 30*time.Second, 0)
				tx.ChargingState = "SuspendedEV"
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 7*mins)), ConnectorID: 1,
					Active: []*chargedesk.Transaction{tx}, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeVehicleSchedule, evidence: []string{"refusing energy"}, absent: []string{CodeStaleTransaction},
		},
		{
			name: "remote_start_ignored/1.6",
			view: func() View {
				var f frames
				f.exchange(3*mins, chargedesk.DirOut, "RemoteStartTransaction", obj{"connectorId": 1, "idTag": "04A2B3"}, obj{"status": "Accepted"})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", 5*mins)), ConnectorID: 1,
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeRemoteStartIgnored, fixable: true,
			evidence: []string{"RemoteStartTransaction for card 04A2B3 was accepted at 14:27 (3 min ago) but no transaction started within 1 min"},
		},
		{
			name: "remote_start_ignored/2.0.1 repeated after a reset",
			view: func() View {
				var f frames
				f.exchange(12*mins, chargedesk.DirOut, "RequestStartTransaction", obj{"evseId": 1, "remoteStartId": 7, "idToken": obj{"idToken": "04A2B3", "type": "Central"}}, obj{"status": "Accepted"})
				f.exchange(9*mins, chargedesk.DirOut, "Reset", obj{"type": "OnIdle"}, obj{"status": "Accepted"})
				f.exchange(2*mins, chargedesk.DirOut, "RequestStartTransaction", obj{"evseId": 1, "remoteStartId": 8, "idToken": obj{"idToken": "04A2B3", "type": "Central"}}, obj{"status": "Accepted"})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 15*mins)), ConnectorID: 1,
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeRemoteStartIgnored, fixable: false, evidence: []string{"RequestStartTransaction", "2 accepted remote starts were ignored"},
		},
		{
			name: "remote_start_ignored/not yet: accepted 20 s ago",
			view: func() View {
				var f frames
				f.exchange(20*time.Second, chargedesk.DirOut, "RemoteStartTransaction", obj{"connectorId": 1, "idTag": "04A2B3"}, obj{"status": "Accepted"})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", time.Minute)), ConnectorID: 1,
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeNoFaultSeen, evidence: []string{"may still start"}, absent: []string{CodeRemoteStartIgnored},
		},
		{
			name: "remote_start_ignored/no: the transaction started",
			view: func() View {
				var f frames
				f.exchange(3*mins, chargedesk.DirOut, "RemoteStartTransaction", obj{"connectorId": 1, "idTag": "04A2B3"}, obj{"status": "Accepted"})
				f.exchange(150*time.Second, chargedesk.DirIn, "StartTransaction", obj{"connectorId": 1, "idTag": "04A2B3", "meterStart": 0, "timestamp": now}, obj{"transactionId": 41, "idTagInfo": obj{"status": "Accepted"}})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", 5*mins)), ConnectorID: 1,
					Events: f.list(), DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			absent: []string{CodeRemoteStartIgnored},
		},
		{
			name: "hardware_fault_power/1.6 InternalError with vendor code",
			view: func() View {
				c := conn(1, chargedesk.StatusFaulted, "InternalError", 12*mins)
				c.VendorErrorCode, c.Info = "PWR-MOD-07", "power module fault"
				var f frames
				f.exchange(20*mins, chargedesk.DirOut, "Reset", obj{"type": "Soft"}, obj{"status": "Accepted"})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart, Charger: chargerOf(v16, c), ConnectorID: 1, Events: f.list()}
			},
			top: CodeHardwareFaultPower, fixable: false,
			evidence: []string{"Faulted for 12 min with error InternalError", "PWR-MOD-07", "Soft reset was accepted at 14:10 and the fault came back"},
		},
		{
			name: "hardware_fault_power/2.0.1 Faulted",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryChargerOffline, Charger: chargerOf(v201, conn(1, chargedesk.StatusFaulted, "", 12*mins)), ConnectorID: 1}
			},
			top: CodeHardwareFaultPower, evidence: []string{"Faulted for 12 min"},
		},
		{
			name: "stale_status/Unavailable with no cause in the history",
			view: func() View {
				var f frames
				heartbeats(&f, 10)
				return View{Now: now, Category: chargedesk.CategoryChargerOffline,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusUnavailable, "NoError", 25*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeStaleStatus, fixable: true,
			evidence: []string{"Unavailable for 25 min with no error code", "last heartbeat 1 min ago", "no ChangeAvailability"},
		},
		{
			name: "left_inoperative/1.6 ChangeAvailability accepted",
			view: func() View {
				var f frames
				f.exchange(90*mins, chargedesk.DirOut, "ChangeAvailability", obj{"connectorId": 1, "type": "Inoperative"}, obj{"status": "Accepted"})
				return View{Now: now, Category: chargedesk.CategoryChargerOffline,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusUnavailable, "NoError", 89*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeLeftInoperative, fixable: true, evidence: []string{"ChangeAvailability Inoperative for connector 1 was answered Accepted at 13:00 (1 h 30 min ago)"},
			absent: []string{CodeStaleStatus},
		},
		{
			name: "left_inoperative/2.0.1 whole station",
			view: func() View {
				var f frames
				f.exchange(90*mins, chargedesk.DirOut, "ChangeAvailability", obj{"operationalStatus": "Inoperative"}, obj{"status": "Accepted"})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusUnavailable, "", 89*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeLeftInoperative, fixable: true,
		},
		{
			name: "stale_status/Operative accepted but still Unavailable",
			view: func() View {
				var f frames
				f.exchange(90*mins, chargedesk.DirOut, "ChangeAvailability", obj{"connectorId": 1, "type": "Inoperative"}, obj{"status": "Accepted"})
				f.exchange(60*mins, chargedesk.DirOut, "ChangeAvailability", obj{"connectorId": 1, "type": "Operative"}, obj{"status": "Accepted"})
				return View{Now: now, Category: chargedesk.CategoryChargerOffline,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusUnavailable, "NoError", 89*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeStaleStatus, fixable: true, evidence: []string{"ChangeAvailability Operative was accepted at 13:30"}, absent: []string{CodeLeftInoperative},
		},
		{
			name: "lock_after_session/1.6 ConnectorLockFailure",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusFinishing, "ConnectorLockFailure", 10*mins)), ConnectorID: 1,
					Recent: []*chargedesk.Transaction{endedTx(1, "04A2B3", 10*mins)}, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeLockAfterSession, fixable: true,
			evidence: []string{"Finishing for 10 min with error ConnectorLockFailure", "transaction 40 ended at 14:20 (10 min ago), reason EVDisconnected"},
		},
		{
			name: "lock_after_session/2.0.1 Occupied after the session",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 10*mins)), ConnectorID: 1,
					Recent: []*chargedesk.Transaction{endedTx(1, "04A2B3", 10*mins)}, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeLockAfterSession, fixable: true, evidence: []string{"tells a charger lock from a car lock"},
		},
		{
			name: "own_session_running/1.6",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusCharging, "NoError", 30*mins)), ConnectorID: 1,
					Active:   []*chargedesk.Transaction{activeTx(1, "04A2B3", 30*mins, time.Minute, 12000)},
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeOwnSessionRunning, fixable: true, evidence: []string{"transaction 41 of card 04A2B3 runs on connector 1", "12.0 kWh", "belongs to the caller"},
		},
		{
			name: "own_session_running/2.0.1",
			view: func() View {
				tx := activeTx(1, "04A2B3", 30*mins, time.Minute, 12000)
				tx.ChargingState = "Charging"
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 30*mins)), ConnectorID: 1,
					Active: []*chargedesk.Transaction{tx}, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeOwnSessionRunning, fixable: true,
		},
		{
			name: "someone_elses_session/1.6",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusCharging, "NoError", 30*mins)), ConnectorID: 1,
					Active:   []*chargedesk.Transaction{activeTx(1, "FFEE01", 30*mins, time.Minute, 12000)},
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeSomeoneElsesSess, fixable: false, evidence: []string{"transaction 41 of another card", "not one of the caller's"},
			absent: []string{CodeOwnSessionRunning},
		},
		{
			name: "someone_elses_session/unverified caller",
			view: func() View {
				tx := activeTx(1, "FFEE01", 30*mins, time.Minute, 12000)
				tx.ChargingState = "Charging"
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 30*mins)), ConnectorID: 1, Active: []*chargedesk.Transaction{tx}}
			},
			top: CodeSomeoneElsesSess, evidence: []string{"the caller is not verified"}, absent: []string{CodeOwnSessionRunning},
		},
		{
			name: "stale_transaction/2.0.1 EVConnected without energy",
			view: func() View {
				tx := activeTx(1, "OTHER1", 30*mins, 20*mins, 0)
				tx.ChargingState = "EVConnected"
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 30*mins)), ConnectorID: 1, Active: []*chargedesk.Transaction{tx}}
			},
			top: CodeStaleTransaction, fixable: true,
		},
		{
			name: "remote_start_ignored/no: the charger rebooted since",
			view: func() View {
				var f frames
				f.exchange(5*mins, chargedesk.DirOut, "RemoteStartTransaction", obj{"connectorId": 1, "idTag": "04A2B3"}, obj{"status": "Accepted"})
				f.exchange(3*mins, chargedesk.DirIn, "BootNotification", obj{"chargePointVendor": "V", "chargePointModel": "M"}, obj{"status": "Accepted", "interval": 300, "currentTime": now})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", 3*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeNoFaultSeen, absent: []string{CodeRemoteStartIgnored},
		},
		{
			name: "handshake_timeout/2.0.1 problem cleared",
			view: func() View {
				var f frames
				nev := func(age time.Duration, value string) {
					f.exchange(age, chargedesk.DirIn, "NotifyEvent", obj{"generatedAt": now, "seqNo": 0, "eventData": []obj{{
						"eventId": 1, "timestamp": now, "trigger": "Delta", "actualValue": value, "techCode": "EVCommunicationError",
						"eventNotificationType": "HardWiredNotification",
						"component":             obj{"name": "Connector", "evse": obj{"id": 1}}, "variable": obj{"name": "Problem"},
					}}}, obj{})
				}
				nev(10*mins, "true")
				nev(4*mins, "false")
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusAvailable, "", 4*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeNoFaultSeen, absent: []string{CodeHandshakeTimeout},
		},
		{
			name: "lock_mechanical/two UnlockFailed",
			view: func() View {
				var f frames
				f.exchange(4*mins, chargedesk.DirOut, "UnlockConnector", obj{"connectorId": 1}, obj{"status": "UnlockFailed"})
				f.exchange(2*mins, chargedesk.DirOut, "UnlockConnector", obj{"connectorId": 1}, obj{"status": "UnlockFailed"})
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusFinishing, "NoError", 15*mins)), ConnectorID: 1, Events: f.list(),
					Recent: []*chargedesk.Transaction{endedTx(1, "04A2B3", 15*mins)}}
			},
			top: CodeLockMechanical, fixable: false, evidence: []string{"UnlockConnector failed 2 time(s), last at 14:28", "field service"},
		},
		{
			name: "lock_mechanical/2.0.1 one failure leaves one retry",
			view: func() View {
				var f frames
				f.exchange(2*mins, chargedesk.DirOut, "UnlockConnector", obj{"evseId": 1, "connectorId": 1}, obj{"status": "UnlockFailed"})
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 15*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeLockMechanical, fixable: true, evidence: []string{"one retry"},
		},
		{
			name: "vehicle_side_lock/1.6 Unlocked but still Finishing",
			view: func() View {
				var f frames
				f.exchange(3*mins, chargedesk.DirOut, "UnlockConnector", obj{"connectorId": 1}, obj{"status": "Unlocked"})
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusFinishing, "NoError", 15*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeVehicleSideLock, fixable: false, evidence: []string{"answered Unlocked at 14:27 (3 min ago) but the connector still shows Finishing"},
		},
		{
			name: "vehicle_side_lock/2.0.1 Unlocked but still Occupied",
			view: func() View {
				var f frames
				f.exchange(3*mins, chargedesk.DirOut, "UnlockConnector", obj{"evseId": 1, "connectorId": 1}, obj{"status": "Unlocked"})
				return View{Now: now, Category: chargedesk.CategoryConnectorStuck,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 15*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeVehicleSideLock, fixable: false,
		},
		{
			name: "local_list_stale/no Authorize while the reader works",
			view: func() View {
				var f frames
				heartbeats(&f, 10)
				authorize16(&f, 9*mins, "99AA00", "Accepted")
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 5*mins)), ConnectorID: 1, Events: f.list(),
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeLocalListStale, fixable: true, evidence: []string{"sent no Authorize for it in the last 15 min"},
		},
		{
			name: "local_list_stale/2.0.1 Authorize refused while the account says Accepted",
			view: func() View {
				var f frames
				authorize201(&f, 3*mins, "04A2B3", "Invalid")
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusAvailable, "", 5*mins)), ConnectorID: 1, Events: f.list(),
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeLocalListStale, fixable: true, evidence: []string{"the last Authorize for 04A2B3 returned Invalid at 14:27 (3 min ago) while the account says Accepted"},
		},
		{
			name: "local_list_stale/session won't start, Preparing with no Authorize",
			view: func() View {
				var f frames
				heartbeats(&f, 8)
				authorize16(&f, 12*mins, "99AA00", "Accepted")
				f.exchange(11*mins, chargedesk.DirIn, "StartTransaction", obj{"connectorId": 2, "idTag": "99AA00", "meterStart": 0, "timestamp": now}, obj{"transactionId": 40, "idTagInfo": obj{"status": "Accepted"}})
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", 6*mins)), ConnectorID: 1, Events: f.list(),
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeLocalListStale, fixable: true, absent: []string{CodeControllerHung},
		},
		{
			name: "reader_fault/1.6 ReaderFailure",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger:     chargerOf(v16, conn(1, chargedesk.StatusAvailable, "ReaderFailure", 20*mins), conn(2, chargedesk.StatusAvailable, "ReaderFailure", 20*mins)),
					ConnectorID: 1, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeReaderFault, fixable: true, evidence: []string{"ReaderFailure"},
		},
		{
			name: "reader_fault/2.0.1 token reader problem",
			view: func() View {
				var f frames
				f.exchange(20*mins, chargedesk.DirIn, "NotifyEvent", obj{"generatedAt": now, "seqNo": 0, "eventData": []obj{{
					"eventId": 1, "timestamp": now, "trigger": "Alerting", "actualValue": "true", "eventNotificationType": "HardWiredNotification",
					"component": obj{"name": "TokenReader"}, "variable": obj{"name": "Problem"},
				}}}, obj{})
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusAvailable, "", 20*mins)), ConnectorID: 1, Events: f.list(),
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeReaderFault, fixable: true, evidence: []string{"token reader problem at 14:10"},
		},
		{
			name: "token_blocked",
			view: func() View {
				var f frames
				authorize16(&f, 2*mins, "04A2B3", "Blocked")
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 5*mins)), ConnectorID: 1, Events: f.list(),
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthBlocked)}}
			},
			top: CodeTokenBlocked, fixable: false, evidence: []string{"card 04A2B3 is Blocked in the backend", "answered Blocked"},
		},
		{
			name: "token_expired/by ExpiresAt",
			view: func() View {
				tk := tok("04A2B3", chargedesk.AuthAccepted)
				tk.ExpiresAt = time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusAvailable, "", 5*mins)), ConnectorID: 1,
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tk}}
			},
			top: CodeTokenExpired, fixable: false, evidence: []string{"expired on Feb 28, 2026"},
			absent: []string{CodeLocalListStale},
		},
		{
			name: "token_unknown/Invalid in the backend",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", 5*mins)), ConnectorID: 1,
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthInvalid)}}
			},
			top: CodeTokenUnknown, evidence: []string{"never activated"},
		},
		{
			name: "token_unknown/unverified caller, card refused at the charger",
			view: func() View {
				var f frames
				authorize201(&f, 2*mins, "0BADCAFE", "Unknown")
				return View{Now: now, Category: chargedesk.CategoryRFIDFailure,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusAvailable, "", 5*mins)), ConnectorID: 1, Events: f.list()}
			},
			top: CodeTokenUnknown, evidence: []string{"a card was refused (Unknown)", "not verified"},
		},
		{
			name: "card_expired",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryPaymentFailure, DriverID: "drv-1",
					Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", time.Minute)), ConnectorID: 1,
					Payment: &PaymentView{
						Methods:           []payments.Method{{ID: "pm1", Brand: "Visa", Last4: "4242", ExpMonth: 2, ExpYear: 2026, Synced: true, Default: true}},
						LastAuthorization: decline("pm1", "4242", payments.DeclineExpiredCard, 3*mins),
					}}
			},
			top: CodeCardExpired, fixable: true, evidence: []string{"Visa ending 4242", "declined expired_card at 14:27", "expired at the end of 02/2026"},
		},
		{
			name: "transient_decline",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryPaymentFailure, DriverID: "drv-1",
					Payment: &PaymentView{
						Methods:           []payments.Method{{ID: "pm1", Brand: "Visa", Last4: "4242", ExpMonth: 2, ExpYear: 2029, Synced: true, Default: true}},
						LastAuthorization: decline("pm1", "4242", payments.DeclineProcessingError, 3*mins),
					}}
			},
			top: CodeTransientDecline, fixable: true, evidence: []string{"declined processing_error"},
		},
		{
			name: "hard_decline",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryPaymentFailure, DriverID: "drv-1",
					Charger: chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", time.Hour)), ConnectorID: 1,
					Payment: &PaymentView{
						Methods:           []payments.Method{{ID: "pm1", Brand: "Mastercard", Last4: "5555", ExpMonth: 2, ExpYear: 2029, Synced: true, Default: true}},
						LastAuthorization: decline("pm1", "5555", payments.DeclineDoNotHonor, 3*mins),
					}}
			},
			top: CodeHardDecline, fixable: false, evidence: []string{"declined do_not_honor", "will not help"},
		},
		{
			name: "app_sync_delay",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategoryPaymentFailure, DriverID: "drv-1",
					Payment: &PaymentView{Methods: []payments.Method{
						{ID: "pm2", Brand: "Visa", Last4: "1881", ExpMonth: 6, ExpYear: 2029, Synced: false, AddedAt: before(10 * mins)},
					}}}
			},
			top: CodeAppSyncDelay, fixable: true, evidence: []string{"Visa ending 1881 was added in the app at 14:20 (10 min ago)"},
		},
		{
			name: "duplicate_holds",
			view: func() View {
				hold := func(id, ref string) payments.Hold {
					return payments.Hold{ID: id, AccountID: "drv-1", MethodID: "pm1", AmountCents: payments.DuplicateHoldCents, Currency: payments.USD, Status: payments.HoldPending, SessionRef: ref}
				}
				return View{Now: now, Category: chargedesk.CategoryPaymentFailure, DriverID: "drv-1",
					Payment: &PaymentView{
						Methods: []payments.Method{{ID: "pm1", Brand: "Visa", Last4: "4242", ExpMonth: 2, ExpYear: 2029, Synced: true, Default: true}},
						Holds:   []payments.Hold{hold("h1", ""), hold("h2", ""), hold("h3", ""), hold("h4", "CP-1/41")},
					}}
			},
			top: CodeDuplicateHolds, fixable: true, evidence: []string{"3 pending hold(s) totalling $150.00 belong to no session", "1 more pay(s) for a live session"},
		},
		{
			name: "slow_charging",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategorySlowCharging,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusCharging, "NoError", 30*mins)), ConnectorID: 1,
					Active:   []*chargedesk.Transaction{activeTx(1, "04A2B3", 31*mins, time.Minute, 3750)},
					Specs:    []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 50}},
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeSlowCharging, fixable: false, evidence: []string{"3.8 kWh in 30 min: 7.5 kW on average on a 50 kW connector (15%)"},
		},
		{
			name: "no_fault_seen/slow charging at full power",
			view: func() View {
				return View{Now: now, Category: chargedesk.CategorySlowCharging,
					Charger: chargerOf(v16, conn(1, chargedesk.StatusCharging, "NoError", 30*mins)), ConnectorID: 1,
					Active:   []*chargedesk.Transaction{activeTx(1, "04A2B3", 31*mins, time.Minute, 22500)},
					Specs:    []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 50}},
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)}}
			},
			top: CodeNoFaultSeen, evidence: []string{"45.0 kW on average"}, absent: []string{CodeSlowCharging},
		},
		{
			name: "no_fault_seen/healthy charger and account",
			view: func() View {
				var f frames
				heartbeats(&f, 10)
				return View{Now: now, Category: chargedesk.CategorySessionWontStart,
					Charger: chargerOf(v201, conn(1, chargedesk.StatusAvailable, "", time.Hour)), ConnectorID: 1, Events: f.list(),
					DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)},
					Payment: &PaymentView{Methods: []payments.Method{{ID: "pm1", Brand: "Visa", Last4: "4242", ExpMonth: 2, ExpYear: 2029, Synced: true, Default: true}}}}
			},
			top: CodeNoFaultSeen, evidence: []string{"charger CP-1 is connected, last heartbeat 1 min ago", "connector 1 has been Available for 1 h", "Accepted in the backend", "default card is valid"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.view()
			got := Diagnose(v)
			checkWellFormed(t, got)
			// Another driver's card id never appears in evidence: it may
			// reach the caller.
			own := map[string]bool{}
			for _, tk := range v.Tokens {
				own[tk.IDTag] = true
			}
			for _, tx := range append(append([]*chargedesk.Transaction{}, v.Active...), v.Recent...) {
				for _, c := range got {
					if !own[tx.IDTag] && strings.Contains(strings.Join(c.Evidence, " "), tx.IDTag) {
						t.Errorf("%s evidence names another driver's card %s: %q", c.Code, tx.IDTag, c.Evidence)
					}
				}
			}
			for _, c := range got {
				for _, a := range tc.absent {
					if c.Code == a {
						t.Errorf("%s must not be listed; got %v", a, codes(got))
					}
				}
			}
			if tc.top == "" {
				return
			}
			top := got[0]
			if top.Code != tc.top {
				t.Fatalf("top cause %s, want %s; all %v; evidence %q", top.Code, tc.top, codes(got), top.Evidence)
			}
			if top.Fixable != tc.fixable {
				t.Errorf("%s: Fixable %v, want %v", top.Code, top.Fixable, tc.fixable)
			}
			all := strings.Join(top.Evidence, " | ")
			for _, want := range tc.evidence {
				if !strings.Contains(all, want) {
					t.Errorf("%s evidence lacks %q:\n%s", top.Code, want, all)
				}
			}
		})
	}
}

func decline(methodID, last4, code string, age time.Duration) *payments.Authorization {
	return &payments.Authorization{ID: "au1", AccountID: "drv-1", MethodID: methodID, Brand: "Visa", Last4: last4,
		AmountCents: 5000, Currency: payments.USD, Decline: payments.NewDecline(code), At: before(age)}
}
