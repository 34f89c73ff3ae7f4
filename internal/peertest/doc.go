// Package peertest runs OCPP charge points that chargedesk did not write, so
// that tests can show the central system works with independent
// implementations of OCPP 1.6J and 2.0.1.
//
// Two peers are provided, each able to speak both versions:
//
//   - StartOCPPRPC runs interop/ocpprpc/chargepoint.js under Node, built on
//     the npm package ocpp-rpc in strict mode, which validates every message
//     in both directions against the official JSON schemas.
//   - StartOCPPGo runs a charge point built on github.com/lorenzodonini/ocpp-go
//     in the test process.
//
// Both connect to Scenario.URL + "/" + ChargerID with HTTP Basic auth (the
// ocpp-go peer also over TLS with a client certificate, Scenario.TLS), run the
// same charging scenario (boot, status Available, Authorize, start, status
// Charging, meter values, stop, status Available), then stay connected and
// answer every remote command the CSMS sends, with plausible answers and the
// follow-up messages a real charger would send (a TriggerMessage is answered,
// then the requested message is sent; an accepted remote start starts a
// transaction). What each peer sees is recorded as PeerEvents.
//
// The package is for tests only; nothing in the product imports it.
package peertest
