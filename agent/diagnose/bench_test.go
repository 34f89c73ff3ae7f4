package diagnose

import (
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
)

// benchView is a busy two-connector 2.0.1 charger: an hour of heartbeats,
// status and meter-laden transaction events, authorizations, a remote start
// that was ignored, and a caller with cards and payment state.
func benchView() View {
	var f frames
	heartbeats(&f, 60)
	for i := range 60 {
		f.exchange(time.Duration(i)*time.Minute+20*time.Second, chargedesk.DirIn, "TransactionEvent", obj{
			"eventType": "Updated", "timestamp": now, "triggerReason": "MeterValuePeriodic", "seqNo": i,
			"transactionInfo": obj{"transactionId": "tx-2", "chargingState": "Charging"}, "evse": obj{"id": 2, "connectorId": 1},
			"meterValue": []obj{{"timestamp": now, "sampledValue": []obj{
				{"value": 1000 * i, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": obj{"unit": "Wh"}},
				{"value": 7400, "measurand": "Power.Active.Import", "unitOfMeasure": obj{"unit": "W"}},
			}}},
		}, obj{})
	}
	for i := range 5 {
		authorize201(&f, time.Duration(10+i*9)*time.Minute, "99AA00", "Accepted")
		f.exchange(time.Duration(12+i*9)*time.Minute, chargedesk.DirIn, "StatusNotification",
			obj{"timestamp": now, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}, obj{})
	}
	f.exchange(3*time.Minute, chargedesk.DirOut, "RequestStartTransaction",
		obj{"evseId": 1, "remoteStartId": 8, "idToken": obj{"idToken": "04A2B3", "type": "Central"}}, obj{"status": "Accepted"})
	tx := activeTx(2, "FFEE01", time.Hour, time.Minute, 59000)
	tx.ChargingState = "Charging"
	return View{
		Now: now, Category: chargedesk.CategorySessionWontStart,
		Charger: chargerOf(v201, conn(1, chargedesk.StatusOccupied, "", 5*time.Minute), conn(2, chargedesk.StatusOccupied, "", time.Hour)),
		Active:  []*chargedesk.Transaction{tx}, Events: f.list(),
		DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted), tok("04A2B4", chargedesk.AuthBlocked)},
		Payment: &PaymentView{
			Methods:           []payments.Method{{ID: "pm1", Brand: "Visa", Last4: "4242", ExpMonth: 2, ExpYear: 2029, Synced: true, Default: true}},
			LastAuthorization: decline("pm1", "4242", payments.DeclineProcessingError, time.Hour),
		},
		Specs: []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 50}, {ID: 2, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 50}},
	}
}

func BenchmarkDiagnose(b *testing.B) {
	v := benchView()
	if got := Diagnose(v); got[0].Code != CodeRemoteStartIgnored {
		b.Fatalf("bench view: top %s, want remote_start_ignored; all %v", got[0].Code, codes(got))
	}
	b.ReportAllocs()
	for b.Loop() {
		Diagnose(v)
	}
}
