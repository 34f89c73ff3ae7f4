// Package agent is chargedesk's support agent: it holds conversations with
// drivers (SMS, voice, chat), binds the caller to a driver account, finds the
// charger they mean, diagnoses the failure from the charger's live state, and
// runs one playbook per failure of the fault catalogue (FAULTS.md).
//
// The agent proposes; it never acts around the policy. Every remote command
// goes through the configured chargedesk.Commander (policy.Gateway), with the
// conversation as Actor and the verified driver as DriverID, and a refusal is
// an ordinary outcome. A fix counts only when the charger's own state says so
// (a transaction started with the driver's token, Unlocked, a fresh
// Available status); otherwise the driver is told what happens next and a
// ticket carries the diagnosis and evidence to people.
//
// The conversation's state lives in the store (Conversation.State and Data,
// and the turns), so a new Agent over the same store continues any
// conversation. Understanding (agent/nlu) and diagnosis (agent/diagnose) are
// separate packages; this package owns the dialogue, the playbooks, the
// replies in English, Québec French and US Spanish, tickets and the nearest
// alternative charger.
package agent
