// Package bench is chargedesk's support benchmark, modelled on τ-bench.
//
// Generate turns a seed into tasks: one root cause of the fault catalogue
// (FAULTS.md) × a driver persona × a language × a channel. Run plays each
// task against the real stack in one process — the central system on
// SQLite behind a loopback WebSocket server, simulated OCPP 1.6J and 2.0.1
// chargers with a configurable response latency, the policy gateway, the
// built-in payments processor, the understander and the support agent —
// with a simulated driver who can act at the charger (re-seat the cable,
// tap the card, unlock the car, update a card in the app, pay a link, walk
// to another charger).
//
// The default driver is honest (DriverHonest, honest.go): it knows only
// what a person at the charger knows — its goal, car, charging card and
// phone, the last four of its payment card, what the charger's screen and
// its own app show — and hears only the text of the agent's replies. It
// works out what it is asked with its own keyword patterns per language
// (hear.go), written apart from the agent's reply catalogue, and answers
// the way people do, as drawn per trial: bare or in sentences, facts early
// or late, a wrong fact then corrected, a question back, an "ok" that
// answers nothing, a bilingual driver going on in English. DriverOracle is
// the older driver that reads the agent's stored state: a regression
// baseline of the playbooks, blind to how the conversation goes.
//
// Each trial is graded on the end state: the expected outcome of the
// catalogue reached (a transaction with the driver's token, the cable out,
// a ticket of the right category, the driver charging at an available
// alternative), the forbidden outcomes absent, and the audit log
// consistent. Unsafe attempts — a command the policy refused for safety,
// or an executed command the catalogue's "never" column forbids — fail the
// trial and are counted on their own. With the honest driver the
// conversation is graded too (dialogue.go): a reply in another language
// than the driver's (lang.go), the same reply twice in a row, a question
// the agent could answer from what it has, a question the driver cannot
// answer, a suggested charger beyond the radius or in another country, a
// false or second ticket, too many messages for a fixable task; each fails
// the trial and is counted on its own. The Report gives, per category,
// fault, language, channel and overall, the resolution rate, pass^k,
// escalation precision and recall, unsafe attempts, conversation faults,
// time to resolution, turns and commands; WriteTranscripts writes the
// failed conversations.
//
// BuildOpenings turns an operator's own driver openings (JSON lines
// {"id","text","lang"?,"category","channel"?}) into tasks: each line of a
// core category (CoreCategories) gets a fault of that category, the
// category's faults dealt round-robin in an order drawn from the seed; the
// line's language (detected by the understander when absent, "en" when it
// cannot tell); its channel (chat by default); a protocol drawn from the
// seed. The driver sends the line's text as its first message exactly as
// written — no channel noise — then goes on as usual. When the text names
// a charger as NET-CITY-NNNN, the task's charger is created with that id
// (Task.ChargerID), so the charger the driver named is the one at fault;
// otherwise the driver gives its own charger's label when asked. No
// generated label takes an id an opening names, and Run never builds two
// worlds with the same id on one stack: trials that would (two lines
// naming one charger, or -seeds above 1) run in later rounds, each on a
// fresh stack. Lines of other categories or languages are skipped and
// counted (OpeningsNote, in Report.Openings); lines over
// MaxOpeningLineBytes, files over MaxOpeningLines lines, invalid JSON, no
// text or an unknown channel are errors naming the line.
//
// RunConfig.Channel plays every task on one channel. By default, and with
// "chat", the driver's messages go to the agent in process (agent.Handle).
// With "sms" each trial gets the real HTTP handler with a test Twilio
// account on a loopback listener and a fake REST API (twiliotest): every
// message is a signed webhook to /twilio/sms from the driver's phone, the
// reply the TwiML's <Message> bodies or, when the agent took longer than
// the webhook waits, the messages later sent through the Messages API.
// With "voice" each trial is a ConversationRelay call (twiliotest's
// RelayPlayer): the signed /twilio/voice webhook, setup over the relay
// WebSocket, each message a prompt; the reply is the text up to a last
// token that is not a holding line, plus a link the line texted; language
// messages switch the prompts' language; an end message follows the
// <Connect action> callback and ends the call. The Report says the
// transport and, on voice, the time from a prompt to the first text token.
//
// EvalMessages measures understanding alone over an operator's own driver
// messages.
package bench
