// Package v201 holds the payload types of OCPP 2.0.1: one Go struct per
// request and response of every action, the objects they contain (named as
// the schema definitions without the "Type" suffix) and the enumerations
// as string types (definitions without "EnumType") with one constant per
// value. The types are generated from the official JSON schemas (see
// package ocpp) and carry no logic beyond marshalling: json tags are the
// schema's field names, optional fields are omitted when empty (pointers
// for optional numbers, booleans and objects), and dateTime fields are
// ocpp.DateTime. CustomData keeps only vendorId; other vendor fields are
// dropped when decoding.
//
// Regenerate with go generate in package ocpp.
package v201
