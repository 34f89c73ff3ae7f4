// Package clustertest runs chargedesk as a cluster, the way a network runs
// it: several `chargedesk serve` processes on one PostgreSQL database and
// one NATS server, behind a TCP load balancer that spreads the chargers
// over the nodes, and kills nodes with SIGKILL while chargers charge,
// commands are sent and drivers talk to the agent. Its tests need
// CHARGEDESK_TEST_POSTGRES and CHARGEDESK_TEST_NATS_URL (.ci/run sets both)
// and skip without them.
package clustertest
