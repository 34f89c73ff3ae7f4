// Package sim owns chargedesk's simulated charging network: chargers that
// speak OCPP 1.6J and 2.0.1 as WebSocket clients against any central system
// (Charger), a deterministic generator of sites, chargers and drivers in US
// and Canadian cities (GenerateNetwork), a fleet runner that connects many
// simulated chargers at a bounded rate (Fleet), and the injection of the
// faults of the shared fault catalogue (InjectFault).
//
// A simulated charger validates every frame it sends against the official
// schemas (package ocpp), keeps one outstanding CALL per direction, and
// follows each protocol version where they differ: 1.6 uses
// StartTransaction/StopTransaction and the rich connector statuses, 2.0.1
// uses TransactionEvent with seqNo and the connectorStatus values
// Available, Occupied, Reserved, Unavailable and Faulted.
package sim
