package diagnose

import (
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/payments"
)

func TestDisagrees(t *testing.T) {
	offline := func() *chargedesk.Charger {
		ch := chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", time.Hour))
		ch.Connected, ch.DisconnectedAt = false, before(20*mins)
		return ch
	}
	blocked := []*chargedesk.Token{tok("04A2B3", chargedesk.AuthBlocked)}
	cases := []struct {
		name     string
		view     View
		top      string
		disagree bool
	}{
		{"card refused but the charger is offline",
			View{Now: now, Category: chargedesk.CategoryRFIDFailure, Charger: offline(), ConnectorID: 1},
			CodeCommDrop, true},
		{"offline as described",
			View{Now: now, Category: chargedesk.CategoryChargerOffline, Charger: offline(), ConnectorID: 1},
			CodeCommDrop, false},
		{"won't start because the card is blocked",
			View{Now: now, Category: chargedesk.CategorySessionWontStart, DriverID: "drv-1", Tokens: blocked,
				Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", time.Minute)), ConnectorID: 1},
			CodeTokenBlocked, false},
		{"won't start because another driver charges on the connector",
			View{Now: now, Category: chargedesk.CategorySessionWontStart, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)},
				Charger: chargerOf(v16, conn(1, chargedesk.StatusCharging, "NoError", 20*mins)), ConnectorID: 1,
				Active: []*chargedesk.Transaction{activeTx(1, "FFEE01", 20*mins, time.Minute, 9000)}},
			CodeSomeoneElsesSess, true},
		{"stuck cable is the caller's running session",
			View{Now: now, Category: chargedesk.CategoryConnectorStuck, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthAccepted)},
				Charger: chargerOf(v16, conn(1, chargedesk.StatusCharging, "NoError", 20*mins)), ConnectorID: 1,
				Active: []*chargedesk.Transaction{activeTx(1, "04A2B3", 20*mins, time.Minute, 9000)}},
			CodeOwnSessionRunning, false},
		{"says payment, sees a faulted power module",
			View{Now: now, Category: chargedesk.CategoryPaymentFailure,
				Charger: chargerOf(v16, conn(1, chargedesk.StatusFaulted, "InternalError", 20*mins)), ConnectorID: 1},
			CodeHardwareFaultPower, true},
		{"says offline, sees a faulted power module",
			View{Now: now, Category: chargedesk.CategoryChargerOffline,
				Charger: chargerOf(v201, conn(1, chargedesk.StatusFaulted, "", 20*mins)), ConnectorID: 1},
			CodeHardwareFaultPower, false},
		{"no category never disagrees",
			View{Now: now, Charger: offline(), ConnectorID: 1},
			CodeCommDrop, false},
		{"nothing wrong is not a disagreement",
			View{Now: now, Category: chargedesk.CategoryConnectorStuck,
				Charger: chargerOf(v16, conn(1, chargedesk.StatusAvailable, "NoError", time.Hour)), ConnectorID: 1},
			CodeNoFaultSeen, false},
		{"billing dispute over stray holds",
			View{Now: now, Category: chargedesk.CategoryBillingDispute, DriverID: "drv-1",
				Payment: &PaymentView{Holds: []payments.Hold{
					{ID: "h1", AmountCents: 5000, Status: payments.HoldPending},
					{ID: "h2", AmountCents: 5000, Status: payments.HoldPending},
				}}},
			CodeDuplicateHolds, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Diagnose(tc.view)
			checkWellFormed(t, got)
			if got[0].Code != tc.top {
				t.Fatalf("top cause %s, want %s; all %v", got[0].Code, tc.top, codes(got))
			}
			if d := tc.view.Disagrees(got[0]); d != tc.disagree {
				t.Errorf("Disagrees(%s) with category %q = %v, want %v", got[0].Code, tc.view.Category, d, tc.disagree)
			}
		})
	}
}

// TestCategoryBreaksNearTies checks that the driver's words choose between
// causes the data supports about equally, and only then.
func TestCategoryBreaksNearTies(t *testing.T) {
	view := func(cat string) View {
		// A faulted power module (0.92) and a blocked card (0.9 when the
		// driver speaks of cards).
		return View{Now: now, Category: cat, DriverID: "drv-1", Tokens: []*chargedesk.Token{tok("04A2B3", chargedesk.AuthBlocked)},
			Charger: chargerOf(v16, conn(1, chargedesk.StatusFaulted, "InternalError", 20*mins)), ConnectorID: 1}
	}
	for _, tc := range []struct{ cat, top string }{
		{chargedesk.CategoryRFIDFailure, CodeTokenBlocked},
		{chargedesk.CategoryChargerOffline, CodeHardwareFaultPower},
		{chargedesk.CategorySessionWontStart, CodeHardwareFaultPower},
		{chargedesk.CategoryConnectorStuck, CodeHardwareFaultPower},
	} {
		t.Run(tc.cat, func(t *testing.T) {
			got := Diagnose(view(tc.cat))
			if got[0].Code != tc.top {
				t.Errorf("top %s, want %s; all %v", got[0].Code, tc.top, codes(got))
			}
		})
	}
}

// TestGuessedConnectorWeighsLess checks that causes found on a connector
// the driver did not name rank below the same cause on a named one.
func TestGuessedConnectorWeighsLess(t *testing.T) {
	ch := chargerOf(v16, conn(1, chargedesk.StatusFaulted, "InternalError", 20*mins), conn(2, chargedesk.StatusFinishing, "ConnectorLockFailure", 20*mins))
	named := Diagnose(View{Now: now, Charger: ch, ConnectorID: 1})
	guessed := Diagnose(View{Now: now, Charger: ch})
	find := func(cs []Cause, code string) float64 {
		for _, c := range cs {
			if c.Code == code {
				return c.Confidence
			}
		}
		return -1
	}
	if n, g := find(named, CodeHardwareFaultPower), find(guessed, CodeHardwareFaultPower); g < 0 || g >= n {
		t.Errorf("hardware_fault_power: named %.2f, guessed %.2f; want 0 <= guessed < named", n, g)
	}
	if find(guessed, CodeConnectorUnknown) < 0 {
		t.Errorf("connector_unknown missing when two connectors are in trouble: %v", codes(guessed))
	}
	if find(named, CodeLockAfterSession) >= 0 {
		t.Errorf("connector 2's lock failure listed for connector 1: %v", codes(named))
	}
}

// TestMalformedEvents checks that frames that do not decode are skipped,
// not trusted.
func TestMalformedEvents(t *testing.T) {
	evs := []chargedesk.Event{
		{At: before(mins), Direction: chargedesk.DirIn, Type: "CALLRESULT", MessageID: "x", Action: "RemoteStartTransaction", Payload: []byte(`{"status":`)},
		{At: before(3 * mins), Direction: chargedesk.DirOut, Type: "CALL", MessageID: "x", Action: "RemoteStartTransaction", Payload: []byte(`not json`)},
		{At: before(4 * mins), Direction: chargedesk.DirOut, Type: "CALL", MessageID: "y", Action: "UnlockConnector", Payload: nil},
	}
	got := Diagnose(View{Now: now, Category: chargedesk.CategorySessionWontStart, Events: evs,
		Charger: chargerOf(v16, conn(1, chargedesk.StatusPreparing, "NoError", time.Minute)), ConnectorID: 1})
	checkWellFormed(t, got)
	if got[0].Code != CodeNoFaultSeen {
		t.Errorf("top %s, want no_fault_seen; all %v", got[0].Code, codes(got))
	}
}

// TestCodesHaveCategories keeps every failure code mapped to the category
// the playbooks use.
func TestCodesHaveCategories(t *testing.T) {
	failures := []string{CodeStaleTransaction, CodeControllerHung, CodeHandshakeTimeout, CodeVehicleSchedule, CodeRemoteStartIgnored,
		CodeHardwareFaultPower, CodeStaleStatus, CodeCommDrop, CodeLeftInoperative, CodeLockAfterSession, CodeOwnSessionRunning,
		CodeSomeoneElsesSess, CodeLockMechanical, CodeVehicleSideLock, CodeLocalListStale, CodeTokenBlocked, CodeTokenExpired,
		CodeTokenUnknown, CodeReaderFault, CodeCardExpired, CodeTransientDecline, CodeAppSyncDelay, CodeDuplicateHolds,
		CodeHardDecline, CodeSlowCharging, CodeBootPending}
	for _, c := range failures {
		if (Cause{Code: c}).Category() == "" {
			t.Errorf("%s has no category", c)
		}
	}
	for _, c := range []string{CodeChargerUnknown, CodeConnectorUnknown, CodeNoFaultSeen} {
		if got := (Cause{Code: c}).Category(); got != "" {
			t.Errorf("%s has category %q, want none", c, got)
		}
	}
}
