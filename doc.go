// Package chargedesk holds the domain of chargedesk: the plain types that
// describe a charging network as support sees it (chargers, connectors,
// transactions, tokens, events, commands and their results, audit entries),
// their validation, the one error type with codes, and the interfaces that the
// adapter packages implement.
//
// It imports only the standard library. Adapters are named after what they
// adapt: ocpp (the wire protocol), csms (the central system that speaks it),
// sqlstore (SQLite and PostgreSQL), natsbus (NATS) and httpapi (HTTP).
package chargedesk
