package twilio

import "testing"

// The agent's questions, as it writes them (agent/replies.go).
const (
	askLast4En      = "Thanks. To confirm it's you, what are the last 4 digits of the payment card on your account?"
	askLast4Fr      = "Merci. Pour confirmer que c'est bien vous, quels sont les 4 derniers chiffres de la carte de paiement de votre compte?"
	askLast4Es      = "Gracias. Para confirmar que es usted, ¿cuáles son los últimos 4 dígitos de la tarjeta de pago de su cuenta?"
	askLast4AgainEn = "To be sure it's you, I need only the last 4 digits of the payment card saved on your account — never the full number. What are those 4 digits?"
	askYesNoEn      = "Shall I restart it? Please answer yes or no."
	askChargerEn    = "Which charger are you at? The ID is on the label (like MPL-TOR-0042), or tell me the place."
)

func TestKeysMeanAfterTheLast4Question(t *testing.T) {
	for _, tc := range []struct{ digits, reply, lang, want string }{
		{"4242", askLast4En, "en", "4242"},
		{"4242", askLast4Fr, "fr", "4242"},
		{"4242", askLast4Es, "es", "4242"},
		{"1234", askLast4AgainEn, "en", "1234"},
		{"1", askYesNoEn, "en", "yes"},
		{"2", askYesNoEn, "en", "no"},
		{"0042", askChargerEn, "en", "0042"},
	} {
		if got := keysMean(tc.digits, tc.reply, tc.lang); got != tc.want {
			t.Errorf("keys %s after %q: %q, want %q", tc.digits, tc.reply, got, tc.want)
		}
	}
}

func TestHeardMean(t *testing.T) {
	for _, tc := range []struct{ heard, reply, want string }{
		{"four two four two", askLast4En, "4242"},
		{"Four, two, four, two.", askLast4AgainEn, "4242"},
		{"quatre deux quatre deux", askLast4Fr, "4242"},
		{"zéro sept neuf un", askLast4Fr, "0791"},
		{"cuatro dos cuatro dos", askLast4Es, "4242"},
		{"4 2 4 2", askLast4En, "4242"},
		{"four two four two", askChargerEn, "four two four two"},
		{"it ends in four two four two", askLast4En, "it ends in four two four two"},
		{"I don't know", askLast4En, "I don't know"},
	} {
		if got := heardMean(tc.heard, tc.reply); got != tc.want {
			t.Errorf("heard %q after %q: %q, want %q", tc.heard, tc.reply, got, tc.want)
		}
	}
}
