package twilio

import (
	"strings"
	"unicode"

	"github.com/chargedesk/chargedesk"
)

// What the phone line says on its own (the agent says everything else),
// by language: en, fr (Québec) and es (US).
const (
	lineOffers     = "offers"
	lineHold       = "hold"
	lineHoldAgain  = "hold_again"
	lineGoodbye    = "goodbye"
	lineConnecting = "connecting"
	lineNoHuman    = "no_human"
	lineReprompt   = "reprompt"
	lineMenu       = "menu"
	lineDropped    = "dropped"
	lineNotReady   = "not_ready"
	lineTrouble    = "trouble"

	// What the line says as the agent sends a command that takes a while.
	lineRestarting  = "restarting"
	lineUnlocking   = "unlocking"
	lineStarting    = "starting"
	lineStopping    = "stopping"
	lineSendingCard = "sending_card"
	lineReenabling  = "reenabling"
	lineTakingOut   = "taking_out"
)

// holdingLines are the lines said while the agent works on a turn.
var holdingLines = []string{lineHold, lineHoldAgain, lineRestarting, lineUnlocking, lineStarting,
	lineStopping, lineSendingCard, lineReenabling, lineTakingOut}

var lines = map[string]map[string]string{
	lineOffers: {
		"en": "Pour le service en français, dites français. Para español, diga español.",
		"fr": "For English, say English. Para español, diga español.",
		"es": "For English, say English. Pour le service en français, dites français.",
	},
	lineHold: {
		"en": "One moment, I'm working on it with the charger now. It can take up to a minute.",
		"fr": "Un instant, je m'en occupe avec la borne. Ça peut prendre jusqu'à une minute.",
		"es": "Un momento, lo estoy haciendo con el cargador. Puede tardar hasta un minuto.",
	},
	lineRestarting: {
		"en": "I'm restarting the charger now. It takes about thirty seconds to a minute, please stay on the line.",
		"fr": "Je redémarre la borne maintenant. Ça prend de trente secondes à une minute, restez en ligne.",
		"es": "Estoy reiniciando el cargador ahora. Tarda de treinta segundos a un minuto, no cuelgue.",
	},
	lineUnlocking: {
		"en": "I'm unlocking the connector now. It takes a few seconds.",
		"fr": "Je déverrouille le connecteur maintenant. Ça prend quelques secondes.",
		"es": "Estoy desbloqueando el conector ahora. Tarda unos segundos.",
	},
	lineStarting: {
		"en": "I'm starting the charge from here now. It takes a few seconds.",
		"fr": "Je démarre la recharge d'ici maintenant. Ça prend quelques secondes.",
		"es": "Estoy iniciando la carga desde aquí ahora. Tarda unos segundos.",
	},
	lineStopping: {
		"en": "I'm stopping the session now. It takes a few seconds.",
		"fr": "J'arrête la session maintenant. Ça prend quelques secondes.",
		"es": "Estoy deteniendo la sesión ahora. Tarda unos segundos.",
	},
	lineSendingCard: {
		"en": "I'm sending your card to the charger now. It takes a few seconds.",
		"fr": "J'envoie votre carte à la borne maintenant. Ça prend quelques secondes.",
		"es": "Estoy enviando su tarjeta al cargador ahora. Tarda unos segundos.",
	},
	lineReenabling: {
		"en": "I'm putting the connector back in service now. It takes a few seconds.",
		"fr": "Je remets le connecteur en service maintenant. Ça prend quelques secondes.",
		"es": "Estoy poniendo el conector en servicio ahora. Tarda unos segundos.",
	},
	lineTakingOut: {
		"en": "I'm taking that connector out of service now so that nobody uses it.",
		"fr": "Je mets ce connecteur hors service maintenant pour que personne ne l'utilise.",
		"es": "Estoy sacando ese conector de servicio ahora para que nadie lo use.",
	},
	lineHoldAgain: {
		"en": "Still working on it, thanks for waiting.",
		"fr": "Je m'en occupe toujours, merci de patienter.",
		"es": "Sigo en ello, gracias por esperar.",
	},
	lineGoodbye: {
		"en": "Thank you for calling charging support. Goodbye.",
		"fr": "Merci d'avoir appelé le soutien à la recharge. Au revoir.",
		"es": "Gracias por llamar a soporte de carga. Adiós.",
	},
	lineConnecting: {
		"en": "I'm connecting you to a person now. They have everything I found.",
		"fr": "Je vous transfère maintenant à une personne. Elle a tout ce que j'ai trouvé.",
		"es": "Le comunico ahora con una persona. Tiene todo lo que encontré.",
	},
	lineNoHuman: {
		"en": "A person from our team will follow up with you. Thank you for calling. Goodbye.",
		"fr": "Une personne de notre équipe fera le suivi avec vous. Merci d'avoir appelé. Au revoir.",
		"es": "Una persona de nuestro equipo le dará seguimiento. Gracias por llamar. Adiós.",
	},
	lineReprompt: {
		"en": "Sorry, I didn't catch that. Could you say it again?",
		"fr": "Désolé, je n'ai pas bien compris. Pouvez-vous répéter?",
		"es": "Perdón, no le entendí. ¿Puede repetirlo?",
	},
	lineMenu: {
		"en": "Let's use your keypad. Press 1 if charging won't start, 2 if the cable is stuck, 3 if your charging card is refused, 4 if a payment failed, 5 if the charger is off or offline, 6 if charging is slow, or 0 for a person.",
		"fr": "Utilisons le clavier. Faites le 1 si la recharge ne démarre pas, le 2 si le câble est coincé, le 3 si votre carte de recharge est refusée, le 4 si un paiement a échoué, le 5 si la borne est éteinte ou hors ligne, le 6 si la recharge est lente, ou le 0 pour parler à une personne.",
		"es": "Usemos el teclado. Marque 1 si la carga no arranca, 2 si el cable está atascado, 3 si rechazan su tarjeta de carga, 4 si falló un pago, 5 si el cargador está apagado o sin conexión, 6 si la carga es lenta, o 0 para hablar con una persona.",
	},
	lineDropped: {
		"en": "Sorry, the line had a problem. Let's carry on.",
		"fr": "Désolé, la ligne a eu un problème. Continuons.",
		"es": "Perdón, la línea tuvo un problema. Sigamos.",
	},
	lineNotReady: {
		"en": "Sorry, this is taking longer than it should. Please tell me again what's happening.",
		"fr": "Désolé, c'est plus long que prévu. Redites-moi ce qui se passe, s'il vous plaît.",
		"es": "Perdón, esto está tardando más de lo debido. Dígame otra vez qué pasa, por favor.",
	},
	lineTrouble: {
		"en": "Sorry, something went wrong on my side. Could you say that again?",
		"fr": "Désolé, quelque chose n'a pas fonctionné de mon côté. Pouvez-vous répéter?",
		"es": "Perdón, algo falló de mi lado. ¿Puede repetirlo?",
	},
}

// menuChoices are what a key of the keypad menu tells the agent, in the
// driver's words.
var menuChoices = map[string]map[byte]string{
	"en": {'1': "my charge won't start", '2': "the cable is stuck in my car", '3': "my charging card is refused",
		'4': "my payment was declined", '5': "the charger is offline, the screen is off", '6': "charging is very slow",
		'0': "I want to talk to a person"},
	"fr": {'1': "la recharge ne démarre pas", '2': "le câble est coincé dans mon auto", '3': "ma carte de recharge est refusée",
		'4': "mon paiement a été refusé", '5': "la borne est hors ligne, l'écran est éteint", '6': "la recharge est très lente",
		'0': "je veux parler à une personne"},
	"es": {'1': "la carga no arranca", '2': "el cable está atascado en mi auto", '3': "rechazan mi tarjeta de carga",
		'4': "mi pago fue rechazado", '5': "el cargador está desconectado, la pantalla está apagada", '6': "la carga es muy lenta",
		'0': "quiero hablar con una persona"},
}

// yesNo are the words keys 1 and 2 stand for when the agent asked a yes or
// no question.
var yesNo = map[string][2]string{"en": {"yes", "no"}, "fr": {"oui", "non"}, "es": {"sí", "no"}}

// yesNoAsks are how the agent's replies ask for a yes or a no.
var yesNoAsks = []string{"yes or no", "reply yes", "answer yes", "oui ou non", "répondez oui", "sí o no", "responda sí"}

// line returns a line in lang (English when lang is not spoken).
// doingLine is the line said as the agent sends cmd, or "" for a command
// too quick to be worth announcing (a question to the charger).
func doingLine(cmd chargedesk.Command) string {
	switch cmd.Kind {
	case chargedesk.CmdReset:
		return lineRestarting
	case chargedesk.CmdUnlockConnector:
		return lineUnlocking
	case chargedesk.CmdRemoteStart:
		return lineStarting
	case chargedesk.CmdRemoteStop:
		return lineStopping
	case chargedesk.CmdSendLocalList:
		return lineSendingCard
	case chargedesk.CmdChangeAvailability:
		if cmd.Availability == chargedesk.AvailabilityInoperative {
			return lineTakingOut
		}
		return lineReenabling
	}
	return ""
}

func line(key, lang string) string {
	return lines[key][spokenLang(lang)]
}

// last4Asks are how the agent's replies ask the last 4 digits of a card
// on the account.
var last4Asks = []string{"last 4 digits", "those 4 digits", "4 derniers chiffres", "ces 4 chiffres", "últimos 4 dígitos", "esos 4 dígitos"}

// asksLast4 reports whether an agent reply asks the last 4 digits of a
// card.
func asksLast4(reply string) bool {
	r := strings.ToLower(reply)
	for _, a := range last4Asks {
		if strings.Contains(r, a) {
			return true
		}
	}
	return false
}

// digitWords are the digits as callers say them in en, fr and es (no word
// is one digit in a language and another in the next).
var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "one": '1', "two": '2', "three": '3', "four": '4', "five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
	"zéro": '0', "un": '1', "deux": '2', "trois": '3', "quatre": '4', "cinq": '5', "sept": '7', "huit": '8', "neuf": '9',
	"cero": '0', "uno": '1', "dos": '2', "tres": '3', "cuatro": '4', "cinco": '5', "seis": '6', "siete": '7', "ocho": '8', "nueve": '9',
}

// heardMean is what a transcript heard after reply means: when the reply
// asked the last 4 digits of a card and the caller said nothing but
// digits ("four two four two", "quatre deux quatre deux"), the digits as
// typed, which is how the agent reads them; any other transcript as it is.
func heardMean(text, reply string) string {
	if !asksLast4(reply) {
		return text
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var digits []byte
	for _, w := range words {
		if d, ok := digitWords[w]; ok {
			digits = append(digits, d)
			continue
		}
		for _, r := range w {
			if r < '0' || r > '9' {
				return text
			}
		}
		digits = append(digits, w...)
	}
	if len(digits) == 0 {
		return text
	}
	return string(digits)
}

// asksYesNo reports whether an agent reply asks for a yes or a no.
func asksYesNo(reply string) bool {
	r := strings.ToLower(reply)
	for _, a := range yesNoAsks {
		if strings.Contains(r, a) {
			return true
		}
	}
	return false
}

// twilioLang is the language code of a call in lang.
func twilioLang(lang string) string {
	switch spokenLang(lang) {
	case "fr":
		return "fr-CA"
	case "es":
		return "es-US"
	}
	return "en-US"
}
