// Package v16 holds the payload types of OCPP 1.6J (core profiles and the
// security extension): one Go struct per request and response of every
// action, the objects they contain, and the enumerations as string types
// with one constant per value. The types are generated from the official
// JSON schemas (see package ocpp) and carry no logic beyond marshalling:
// json tags are the schema's field names, optional fields are omitted when
// empty (pointers for optional numbers, booleans and objects), and dateTime
// fields are ocpp.DateTime.
//
// Regenerate with go generate in package ocpp.
package v16
