// Package httpapi owns chargedesk's operator REST API: the routes under
// /api/v1 (chargers, transactions, tokens, remote commands, the audit log),
// the probes /healthz and /readyz, and the /metrics endpoint handed in by the
// caller.
//
// Every route is registered in routes.go on a standard net/http.ServeMux.
// Handlers are functions that take their dependencies as arguments and return
// an http.Handler. Domain errors (chargedesk.Error codes) are turned into an
// HTTP status and a JSON body in exactly one place, writeError in errors.go.
// README.md beside this file describes the API for operators.
package httpapi
