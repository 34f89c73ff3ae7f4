package payments

// Decline codes, named as Stripe names them. Only processing_error is
// transient: the request did not get a verdict from the issuer (a processor
// or network error, including a timeout) and the same card may be retried.
// Every other code is the issuer's verdict and retrying the same card does
// not change it.
const (
	DeclineExpiredCard       = "expired_card"
	DeclineProcessingError   = "processing_error"
	DeclineInsufficientFunds = "insufficient_funds"
	DeclineDoNotHonor        = "do_not_honor"
	DeclineStolenCard        = "stolen_card"
	DeclineCardDeclined      = "card_declined"
)

// Decline is why the card network refused an authorization. Message is safe
// to tell the driver: a stolen_card decline reads as a generic decline, as
// card networks require.
type Decline struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Transient is true when retrying the same card may succeed.
	Transient bool `json:"transient"`
}

// declineMessage returns the driver-safe text of a decline code, or false
// for an unknown code.
func declineMessage(code string) (string, bool) {
	switch code {
	case DeclineExpiredCard:
		return "the card has expired", true
	case DeclineProcessingError:
		return "an error occurred while processing the card; try again", true
	case DeclineInsufficientFunds:
		return "the card has insufficient funds", true
	case DeclineDoNotHonor:
		return "the card issuer declined the payment", true
	case DeclineStolenCard, DeclineCardDeclined:
		return "the card was declined", true
	}
	return "", false
}

// NewDecline returns the decline for code with its standard message and
// transience. An unknown code is treated as the generic card_declined.
func NewDecline(code string) *Decline {
	msg, ok := declineMessage(code)
	if !ok {
		code = DeclineCardDeclined
		msg, _ = declineMessage(code)
	}
	return &Decline{Code: code, Message: msg, Transient: code == DeclineProcessingError}
}

// networkTimeout is the transient decline of a request to the card network
// that timed out.
func networkTimeout() *Decline {
	return &Decline{Code: DeclineProcessingError, Message: "the card network did not answer in time; try again", Transient: true}
}

// isHardDeclineCode reports whether code may be used by the hard_decline
// fault: an issuer's refusal that no retry changes.
func isHardDeclineCode(code string) bool {
	switch code {
	case DeclineInsufficientFunds, DeclineDoNotHonor, DeclineStolenCard, DeclineCardDeclined:
		return true
	}
	return false
}
