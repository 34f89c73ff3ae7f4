// Package policy decides every remote command before it is sent and writes
// the audit entries that record the decision and the charger's answer.
//
// Gateway is the only way commands reach chargers: the operator API and the
// support agent both send through it. Rules is the rule set checked against
// live state.
package policy
