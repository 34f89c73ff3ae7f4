// Package twilio adapts chargedesk to Twilio: it verifies the
// X-Twilio-Signature on incoming webhooks and WebSocket upgrades, holds a
// small REST client for the two outbound calls chargedesk makes (sending an
// SMS and updating a live call), and is the phone line: /twilio/voice
// answers a call with ConversationRelay TwiML (or a <Gather> loop),
// /twilio/relay speaks the agent's answers in spoken style (Spoken) with
// holding lines, keypad digits, barge-in and handoff, /twilio/voice/after
// dials a person or says goodbye. RelayCall plays Twilio's side of a relay
// call (chargedesk call, tests).
//
// The SMS channel, /twilio/sms, lives in httpapi (sms.go) beside the web
// chat; both channels hand each message to the one agent.
package twilio
