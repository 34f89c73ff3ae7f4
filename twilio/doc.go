// Package twilio adapts chargedesk to Twilio: it verifies the
// X-Twilio-Signature on incoming webhooks and WebSocket upgrades, and it
// holds a small REST client for the two outbound calls chargedesk makes
// (sending an SMS and updating a live call).
//
// The package imports only the standard library; the SMS and voice
// channels that use it live in httpapi.
package twilio
