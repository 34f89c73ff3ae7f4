package agent

import "github.com/chargedesk/chargedesk"

// problemPhrases name each problem the way a driver would, to ask which one
// it is ("is it that %s, or that %s?").
var problemPhrases = map[string]map[string]string{
	"en": {
		chargedesk.CategorySessionWontStart: "the charge won't start",
		chargedesk.CategoryPaymentFailure:   "your bank card or payment is declined",
		chargedesk.CategoryChargerOffline:   "the charger is off or offline",
		chargedesk.CategoryConnectorStuck:   "the cable won't come out",
		chargedesk.CategoryRFIDFailure:      "your charging card or fob is refused",
		chargedesk.CategorySlowCharging:     "it charges too slowly",
		chargedesk.CategoryBillingDispute:   "you were charged the wrong amount",
		chargedesk.CategoryHardwareDamage:   "something is broken or unsafe",
	},
	"fr": {
		chargedesk.CategorySessionWontStart: "la recharge ne démarre pas",
		chargedesk.CategoryPaymentFailure:   "votre carte bancaire ou le paiement est refusé",
		chargedesk.CategoryChargerOffline:   "la borne est éteinte ou hors ligne",
		chargedesk.CategoryConnectorStuck:   "le câble ne sort pas",
		chargedesk.CategoryRFIDFailure:      "votre carte de recharge ou votre porte-clé est refusé",
		chargedesk.CategorySlowCharging:     "la recharge est trop lente",
		chargedesk.CategoryBillingDispute:   "le montant facturé n'est pas le bon",
		chargedesk.CategoryHardwareDamage:   "quelque chose est brisé ou dangereux",
	},
	"es": {
		chargedesk.CategorySessionWontStart: "la carga no inicia",
		chargedesk.CategoryPaymentFailure:   "rechazan su tarjeta bancaria o el pago",
		chargedesk.CategoryChargerOffline:   "el cargador está apagado o fuera de línea",
		chargedesk.CategoryConnectorStuck:   "el cable no sale",
		chargedesk.CategoryRFIDFailure:      "rechazan su tarjeta de carga o llavero",
		chargedesk.CategorySlowCharging:     "carga demasiado lento",
		chargedesk.CategoryBillingDispute:   "le cobraron un monto equivocado",
		chargedesk.CategoryHardwareDamage:   "algo está roto o es peligroso",
	},
}

// problemPhrase names category in lang (English when missing).
func problemPhrase(lang, category string) string {
	if p, ok := problemPhrases[lang][category]; ok {
		return p
	}
	return problemPhrases["en"][category]
}
