// Package ocpp is the OCPP-J wire format of versions 1.6 and 2.0.1: message
// framing (CALL, CALLRESULT, CALLERROR), the error codes of each version, the
// registry of actions and which side sends them, and validation of payloads
// against the official JSON schemas, which are embedded verbatim. Payload
// types live in the subpackages v16 and v201.
//
// The package is pure: no network, no database.
package ocpp
