package twilio

import "testing"

func TestSpoken(t *testing.T) {
	for _, tc := range []struct {
		name, lang, in string
		texted         bool
		want           string
	}{
		{"charger id en", "en", "Which charger are you at? The ID is on the label (like MPL-TOR-0042), or tell me the place.",
			false, "Which charger are you at? The ID is on the label, like M P L, T O R, zero zero four two, or tell me the place."},
		{"charger id fr", "fr", "La borne ABC-MTL-0042 est hors ligne.", false, "La borne A B C, M T L, zéro zéro quatre deux est hors ligne."},
		{"charger id es", "es", "El cargador CDA-LAX-0107 tiene 2 conectores.", false, "El cargador C D A, L A X, cero uno cero siete tiene dos conectores."},
		{"short group as a number", "en", "Charger A-42, connector 1, right?", false, "Charger A, forty-two, connector one, right?"},
		{"link omitted", "en", "Here is your payment link: https://pay.example.com/p/abc (valid 1 hour). Reply once you've paid and I'll start the session.",
			false, "Reply once you've paid and I'll start the session."},
		{"link texted", "en", "Here is your payment link: https://pay.example.com/p/abc (valid 1 hour). Reply once you've paid.",
			true, "I've texted you the link. Reply once you've paid."},
		{"link texted fr", "fr", "Voici votre lien de paiement : https://pay.example.com/p/abc (valide 1 heure). Répondez-moi une fois payé.",
			true, "Je vous ai envoyé le lien par texto. Répondez-moi une fois payé."},
		{"link omitted es", "es", "Aquí está su enlace de pago: https://x.example/p (válido 1 hora). Respóndame cuando haya pagado.",
			false, "Respóndame cuando haya pagado."},
		{"markdown list", "en", "**Options:**\n- plug in again\n- tap your card", false, "Options. plug in again. tap your card."},
		{"ticket reference", "en", "I've passed this to a support agent (ticket T-0123456789abcdef0123456789abcdef).", false,
			"I've passed this to a support agent, ticket ending in C D E F."},
		{"units and numbers en", "en", "Charger B connector 2 (CCS 150 kW) is 1.5 km away.", false,
			"Charger B connector two, CCS one hundred fifty kilowatts, is one point five kilometres away."},
		{"numbers fr", "fr", "La borne a 71 connecteurs, 80 places et 97 prises, 200 km.", false,
			"La borne a soixante-et-onze connecteurs, quatre-vingts places et quatre-vingt-dix-sept prises, deux cents kilomètres."},
		{"numbers es", "es", "Suele responder en menos de 15 minutos, 21 o 100.", false, "Suele responder en menos de quince minutos, veintiuno o cien."},
		{"last four digit by digit", "en", "What are those 4 digits? Not 4242.", false, "What are those four digits? Not four two four two."},
		{"quotes and dashes fr", "fr", "Une heure suffit, par exemple « il y a 20 minutes » — merci.", false, "Une heure suffit, par exemple il y a vingt minutes, merci."},
		{"time", "en", "around 2:30 pm", false, "around two thirty pm."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Spoken(tc.in, tc.lang, tc.texted); got != tc.want {
				t.Errorf("Spoken(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSentences(t *testing.T) {
	got := Sentences("Done. Your session started on connector one! Anything else? Ok")
	want := []string{"Done.", "Your session started on connector one!", "Anything else?", "Ok"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sentence %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestKeysMean(t *testing.T) {
	for _, tc := range []struct{ digits, reply, lang, want string }{
		{"1", "Do you want me to start the charge now? Please answer yes or no.", "en", "yes"},
		{"2", "Voulez-vous que je lance la recharge maintenant? Répondez oui ou non.", "fr", "non"},
		{"1", "¿Inicio la carga en el conector 1 ahora, sí o no?", "es", "sí"},
		{"1", "Charger X has 2 connectors. Which connector number are you using?", "en", "1"},
		{"0042", "Which charger are you at?", "en", "0042"},
	} {
		if got := keysMean(tc.digits, tc.reply, tc.lang); got != tc.want {
			t.Errorf("keysMean(%q after %q) = %q, want %q", tc.digits, tc.reply, got, tc.want)
		}
	}
}
