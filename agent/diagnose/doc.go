// Package diagnose ranks the root causes of a driver's failed charge from the
// charger's live state.
//
// The support agent reads everything it knows about one problem into a View
// — the charger and its connectors, the charger's active and recent
// transactions, its recent OCPP frames, the caller's tokens and payment
// state — and Diagnose returns the candidate causes, best first, each with a
// confidence, short factual evidence ("connector 2 has been Preparing for
// 4 min", "last contact 14:02 (12 min ago)") and whether a remote fix exists.
// The codes are the fault names of the catalogue (FAULTS.md), so a
// diagnosis names the playbook step that fixes it, plus charger_unknown,
// connector_unknown, boot_pending and no_fault_seen.
//
// The driver's words say where to look; the charger's state decides what is
// wrong. Every rule derives a cause from data only: connector status, error
// code and the age of the report; the connection, heartbeat and boot; who
// owns an active transaction and whether it still shows energy; the CALLs in
// the event history and their answers (a remote start accepted and never
// started, an Authorize accepted and followed by nothing, an UnlockConnector
// that failed, a ChangeAvailability Inoperative never reversed); the token
// store's verdicts; and the payment processor's last decline, cards and
// holds. The category only weighs causes that are equally supported and
// scales the ones that concern a different part of the system (a blocked card
// matters less to a driver whose cable is stuck). When the best cause points
// to another failure than the driver described, View.Disagrees reports it
// and the agent says what it sees.
//
// Some causes cannot be told apart from state alone — a charger refusing a
// card from its local list sends no Authorize, nor does a broken reader —
// and then both are returned with the evidence that weighs between them; the
// playbook's first action (an UnlockConnector, a TriggerMessage) is chosen to
// tell them apart.
//
// The package is pure: no I/O, no clock (View.Now), no state between calls.
// It reads at most MaxEventsRead events, none older than EventWindow, and
// decodes only the frames of the actions it judges, so a diagnosis takes
// microseconds.
package diagnose
