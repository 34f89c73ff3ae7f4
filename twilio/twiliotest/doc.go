// Package twiliotest is a fake Twilio for tests: a Signer that posts
// webhooks to chargedesk signed as Twilio signs them, and an API that plays
// Twilio's REST API on a loopback listener, checks basic auth and records
// the Messages and Calls requests it receives; RelayPlayer collects what
// the phone line says on a relay call.
package twiliotest
