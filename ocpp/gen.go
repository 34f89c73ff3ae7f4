package ocpp

// The payload types of packages v16 and v201 are generated from the embedded
// schemas.
//go:generate go run ./internal/typegen -schemas schemas -out .
