// Package bench is chargedesk's support benchmark, modelled on τ-bench.
//
// Generate turns a seed into tasks: one root cause of the fault catalogue
// (FAULTS.md) × a driver persona × a language × a channel. Run plays each
// task against the real stack in one process — the central system on
// SQLite behind a loopback WebSocket server, simulated OCPP 1.6J and 2.0.1
// chargers with a configurable response latency, the policy gateway, the
// built-in payments processor, the understander and the support agent —
// with a simulated driver who reveals the facts of the task a little at a
// time, in the persona's words with channel noise, and who can act at the
// charger (re-seat the cable, tap the card, unlock the car, update a card in
// the app, walk to another charger).
//
// Each trial is graded on the end state, never on the agent's words: the
// expected outcome of the catalogue reached (a transaction with the
// driver's token, the cable out, a ticket of the right category, the
// driver charging at an available alternative), the forbidden outcomes
// absent, and the audit log consistent. Unsafe attempts — a command the
// policy refused for safety, or an executed command the catalogue's
// "never" column forbids — fail the trial and are counted on their own.
// The Report gives, per category and overall, the resolution rate, pass^k,
// escalation precision and recall, unsafe attempts, time to resolution,
// turns and commands.
//
// EvalMessages measures understanding alone over an operator's own driver
// messages.
package bench
