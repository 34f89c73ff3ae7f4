// Package csms is chargedesk's OCPP central system: the WebSocket endpoint
// /ocpp/{chargerId} for OCPP 1.6J and 2.0.1 chargers, their authentication,
// one connection object per charger (read loop, one outstanding CALL per
// direction, ordered command queue, timeouts, keepalive), the handlers for
// every charger-initiated message, and the version-agnostic commands of the
// domain mapped to each protocol version.
//
// A charger authenticates before the WebSocket handshake: with HTTP Basic
// auth (OCPP security profiles 1 and 2), or with a client certificate that
// the TLS listener verified and whose subject common name is its id
// (profile 3). A charger registered Rejected is disabled and refused
// whatever it presents (chargerauth.go).
//
// Durable facts (transactions, connector statuses, boots) are written to the
// store before they are acknowledged to the charger; chatty facts (last seen,
// heartbeats, the frame history) are batched in the background so that a read
// loop never waits on the database for them.
//
// The port history that uptime reports are computed from is written with
// those durable facts: a connector status that differs from the stored one,
// a connection and a disconnection (and, when a node starts, the chargers
// it held before, offline from when they were last heard) each append one
// row, in the same store transaction as the change itself — never one per
// heartbeat or repeated status.
package csms
