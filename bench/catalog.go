package bench

import (
	"slices"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
)

// Goals: what the driver wants, as the driver can see it.
const (
	// goalCharging: the car charges (at this charger or an alternative).
	goalCharging = "charging"
	// goalCableOut: the cable is out of the charger.
	goalCableOut = "cable_out"
	// goalAnswer: an answer or a hand-over; the driver cannot check more.
	goalAnswer = "answer"
)

// FaultSpec is one root cause of the catalogue and what grading expects of
// it.
type FaultSpec struct {
	// Name is the catalogue's stable name (FAULTS.md).
	Name string `json:"name"`
	// Category is the intent category the fault belongs to.
	Category string `json:"category"`
	// Fixable reports whether the catalogue expects a remote fix: the
	// driver charging, the cable out, the connector available.
	Fixable bool `json:"fixable"`
	// Escalate is the ticket category of the expected hand-over to people
	// ("" when the conversation should not end escalated).
	Escalate string `json:"escalate,omitempty"`
	// Ticket is a ticket category expected even though the driver's
	// problem is fixed (reader_fault).
	Ticket string `json:"ticket,omitempty"`
	// Alternative reports whether the driver must be sent to the nearest
	// available compatible charger.
	Alternative bool `json:"alternative,omitempty"`
	// Only16 runs the fault on OCPP 1.6 chargers only: it lives in the
	// backend or the driver's account, so the version does not matter.
	Only16 bool `json:"only16,omitempty"`
	goal   string
}

// faults is the catalogue of FAULTS.md in its order.
var faults = []FaultSpec{
	{Name: "stale_transaction", Category: chargedesk.CategorySessionWontStart, Fixable: true, goal: goalCharging},
	{Name: "controller_hung", Category: chargedesk.CategorySessionWontStart, Fixable: true, goal: goalCharging},
	{Name: "handshake_timeout", Category: chargedesk.CategorySessionWontStart, Fixable: true, goal: goalCharging},
	{Name: "vehicle_schedule", Category: chargedesk.CategorySessionWontStart, Fixable: true, goal: goalCharging},
	{Name: "remote_start_ignored", Category: chargedesk.CategorySessionWontStart, Fixable: true, goal: goalCharging},
	{Name: "hardware_fault_power", Category: chargedesk.CategorySessionWontStart, Escalate: agent.TicketFieldService, Alternative: true, goal: goalCharging},

	{Name: "card_expired", Category: chargedesk.CategoryPaymentFailure, Fixable: true, Only16: true, goal: goalCharging},
	{Name: "transient_decline", Category: chargedesk.CategoryPaymentFailure, Fixable: true, Only16: true, goal: goalCharging},
	{Name: "app_sync_delay", Category: chargedesk.CategoryPaymentFailure, Fixable: true, Only16: true, goal: goalCharging},
	{Name: "duplicate_holds", Category: chargedesk.CategoryPaymentFailure, Fixable: true, Only16: true, goal: goalAnswer},
	{Name: "hard_decline", Category: chargedesk.CategoryPaymentFailure, Only16: true, goal: goalCharging},

	{Name: "stale_status", Category: chargedesk.CategoryChargerOffline, Fixable: true, goal: goalCharging},
	{Name: "comm_drop_short", Category: chargedesk.CategoryChargerOffline, Fixable: true, goal: goalCharging},
	{Name: "comm_drop_long", Category: chargedesk.CategoryChargerOffline, Escalate: agent.TicketOutage, Alternative: true, goal: goalCharging},
	{Name: "left_inoperative", Category: chargedesk.CategoryChargerOffline, Fixable: true, goal: goalCharging},

	{Name: "lock_after_session", Category: chargedesk.CategoryConnectorStuck, Fixable: true, goal: goalCableOut},
	{Name: "own_session_running", Category: chargedesk.CategoryConnectorStuck, Fixable: true, goal: goalCableOut},
	{Name: "someone_elses_session", Category: chargedesk.CategoryConnectorStuck, Escalate: agent.TicketHumanReview, goal: goalAnswer},
	{Name: "lock_mechanical", Category: chargedesk.CategoryConnectorStuck, Escalate: agent.TicketFieldService, goal: goalCableOut},
	{Name: "vehicle_side_lock", Category: chargedesk.CategoryConnectorStuck, Fixable: true, goal: goalCableOut},

	{Name: "local_list_stale", Category: chargedesk.CategoryRFIDFailure, Fixable: true, goal: goalCharging},
	{Name: "token_blocked", Category: chargedesk.CategoryRFIDFailure, Escalate: agent.TicketAccount, Only16: true, goal: goalAnswer},
	{Name: "token_expired", Category: chargedesk.CategoryRFIDFailure, Escalate: agent.TicketAccount, Only16: true, goal: goalAnswer},
	{Name: "token_unknown", Category: chargedesk.CategoryRFIDFailure, Escalate: agent.TicketAccount, Only16: true, goal: goalAnswer},
	{Name: "reader_fault", Category: chargedesk.CategoryRFIDFailure, Fixable: true, Ticket: agent.TicketFieldService, goal: goalCharging},

	{Name: "slow_charging", Category: chargedesk.CategorySlowCharging, Escalate: agent.TicketFieldService, goal: goalAnswer},
	{Name: "billing_dispute", Category: chargedesk.CategoryBillingDispute, Escalate: agent.TicketBilling, Only16: true, goal: goalAnswer},
	{Name: "hardware_damage", Category: chargedesk.CategoryHardwareDamage, Escalate: agent.TicketFieldService, Alternative: true, goal: goalCharging},
}

// Faults returns the catalogue the benchmark draws tasks from.
func Faults() []FaultSpec { return slices.Clone(faults) }

// faultSpec returns the spec of name.
func faultSpec(name string) (FaultSpec, bool) {
	for _, f := range faults {
		if f.Name == name {
			return f, true
		}
	}
	return FaultSpec{}, false
}

// CategoryOrder returns the categories in report order.
func CategoryOrder() []string {
	return []string{
		chargedesk.CategorySessionWontStart, chargedesk.CategoryPaymentFailure, chargedesk.CategoryChargerOffline,
		chargedesk.CategoryConnectorStuck, chargedesk.CategoryRFIDFailure, chargedesk.CategorySlowCharging,
		chargedesk.CategoryBillingDispute, chargedesk.CategoryHardwareDamage,
	}
}
