// Package payments owns how chargedesk sees a driver's money: the payment
// methods on a driver's account, authorizations (pre-authorization holds
// taken before a session starts) and their declines, captures and releases,
// and pay-by-link requests sent to a driver who has no usable card.
//
// Processor is the interface the support agent and the policy work through.
// Builtin is the implementation shipped with chargedesk: an in-memory
// processor with real, consistent state (cards that expire by the clock,
// holds that lapse, idempotent authorizations) and the payment faults of
// the fault catalogue (FAULTS.md, section payment_failure), used by the
// demo, the tests and the support benchmark. A real processor such as
// Stripe would sit behind the same interface later, each decline mapped to
// the Stripe-style codes defined here.
//
// The package never sees a full card number: a card is known only by its
// brand, last four digits and expiry, so there is nothing sensitive to
// store or log. Keep it that way in any adapter: never accept, store or log
// a primary account number, and never ask a driver for one.
package payments
