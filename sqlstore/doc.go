// Package sqlstore implements chargedesk.Store over database/sql, for SQLite
// (modernc.org/sqlite, no cgo; the default, one file in a data directory) and
// PostgreSQL (pgx; for several nodes sharing one database) with the same code.
//
// It owns the schema and its migrations (embedded, one goose directory per
// dialect, applied by Open), the translation between domain types and rows,
// the mapping of database failures to chargedesk error codes, and the storage
// rules the domain relies on: OCPP 1.6 transaction ids assigned by the
// database, idempotent transaction starts, each charger's event history
// trimmed to chargedesk.MaxRecentEvents, and an append-only, hash-chained
// audit log that cannot fork when several nodes append at once.
//
// Queries are written once with '?' placeholders and rebound to '$n' for
// PostgreSQL. Times are stored in UTC to the microsecond: as integer Unix
// microseconds in SQLite and as timestamptz in PostgreSQL.
//
// Durability: anything a method has returned without error is committed and
// survives a crash of the process (SQLite runs in WAL mode with
// synchronous=FULL, so it also survives a power loss).
package sqlstore
