package bench

// The honest driver's own words, by language: sentences for a driver who
// answers in full, and the small talk people add. Bare answers ("1",
// "yes", "4242") need no table. %s and %d are the fact given.

// Keys of the honest driver's phrases.
const (
	hLabel       = "label"         // %s
	hConnector   = "connector"     // %d
	hOnlyOne     = "only_one"      // no connector number to give
	hPhone       = "phone"         // %s
	hLast4       = "last4"         // %s
	hAlready     = "already"       // %s: a fact already given
	hStartedAgo  = "started_ago"   // %d minutes
	hYes         = "yes"           // bare
	hAtCharger   = "at_charger"    // in a sentence
	hStartYes    = "start_yes"     // in a sentence
	hNo          = "no"            // bare
	hYesLink     = "yes_link"      // in a sentence
	hNoLink      = "no_link"       // in a sentence
	hWhy         = "why"           // a question back
	hOK          = "ok"            // answers nothing
	hThanks      = "thanks"        // answers nothing
	hWhat        = "what"          // the driver did not get the reply
	hNoneOfThose = "none_of_those" // %s: the driver's charger
	hEarly       = "early"         // %s phone, %s last 4: volunteered
	hCar         = "car"           // %s: the car
	hReplugged   = "replugged"
	hPluggedIn   = "plugged_in"
	hTapped      = "tapped"
	hScheduleOff = "schedule_off"
	hCarUnlocked = "car_unlocked"
	hGotOut      = "got_out"
	hStillStuck  = "still_stuck"
	hPaid        = "paid"
	hUpdatedCard = "updated_card"
	hBackOnline  = "back_online"
	hStillDark   = "still_dark"
	hNotCharging = "not_charging"
	hTooFar      = "too_far"
	hThatsAll    = "thats_all"
	hSwitchLang  = "switch_lang" // said in the new language
)

var honestPhrases = map[string]map[string][]string{
	hLabel:       {"en": {"it's %s", "the label says %s", "I'm at %s"}, "fr": {"c'est %s", "l'étiquette dit %s", "je suis à la borne %s"}, "es": {"es el %s", "la etiqueta dice %s", "estoy en el %s"}},
	hConnector:   {"en": {"connector %d", "I'm on number %d"}, "fr": {"le connecteur %d", "je suis sur le %d"}, "es": {"el conector %d", "estoy en el %d"}},
	hOnlyOne:     {"en": {"there's only one cable", "I don't know, there's just one plug"}, "fr": {"il n'y a qu'un seul câble", "je ne sais pas, il y a juste une prise"}, "es": {"solo hay un cable", "no sé, solo hay un conector"}},
	hPhone:       {"en": {"my number is %s", "it's %s"}, "fr": {"mon numéro c'est le %s", "c'est le %s"}, "es": {"mi número es %s", "es el %s"}},
	hLast4:       {"en": {"it ends in %s", "the last four are %s"}, "fr": {"elle finit par %s", "les quatre derniers sont %s"}, "es": {"termina en %s", "los últimos cuatro son %s"}},
	hAlready:     {"en": {"I already told you, %s", "like I said, %s"}, "fr": {"je vous l'ai déjà dit, %s", "comme j'ai dit, %s"}, "es": {"ya se lo dije, %s", "como le dije, %s"}},
	hStartedAgo:  {"en": {"about %d minutes ago", "maybe %d minutes ago"}, "fr": {"il y a environ %d minutes", "ça fait à peu près %d minutes"}, "es": {"hace unos %d minutos", "hace como %d minutos"}},
	hYes:         {"en": {"yes", "yeah", "ok yes"}, "fr": {"oui", "ouais", "oui svp"}, "es": {"sí", "si", "sí, por favor"}},
	hAtCharger:   {"en": {"yes, I'm right here at the charger", "yes I'm standing next to it"}, "fr": {"oui, je suis juste à côté de la borne", "oui je suis devant"}, "es": {"sí, estoy aquí junto al cargador", "sí, estoy al lado"}},
	hStartYes:    {"en": {"yes please start it", "yes, go ahead"}, "fr": {"oui, lancez-la svp", "oui allez-y"}, "es": {"sí, iníciela por favor", "sí, adelante"}},
	hNo:          {"en": {"no"}, "fr": {"non"}, "es": {"no"}},
	hYesLink:     {"en": {"yes please send me the link", "sure, text me the link"}, "fr": {"oui envoyez-moi le lien svp", "d'accord, textez-moi le lien"}, "es": {"sí, mándeme el enlace por favor", "claro, envíeme el enlace"}},
	hNoLink:      {"en": {"no thanks, I don't want a link"}, "fr": {"non merci, je ne veux pas de lien"}, "es": {"no gracias, no quiero enlace"}},
	hWhy:         {"en": {"why do you need that?", "what do you need that for?"}, "fr": {"pourquoi vous avez besoin de ça?", "c'est pour quoi?"}, "es": {"¿para qué necesita eso?", "¿por qué necesita eso?"}},
	hOK:          {"en": {"ok", "okay"}, "fr": {"ok", "d'accord"}, "es": {"ok", "vale"}},
	hThanks:      {"en": {"thanks", "thank you"}, "fr": {"merci"}, "es": {"gracias"}},
	hWhat:        {"en": {"sorry, what do you need from me?", "I don't understand, what should I do?"}, "fr": {"désolé, vous avez besoin de quoi?", "je ne comprends pas, je dois faire quoi?"}, "es": {"perdón, ¿qué necesita de mí?", "no entiendo, ¿qué tengo que hacer?"}},
	hNoneOfThose: {"en": {"none of those, I'm at %s"}, "fr": {"aucune de celles-là, je suis à %s"}, "es": {"ninguno de esos, estoy en %s"}},
	hEarly:       {"en": {"my phone is %s and my card ends in %s"}, "fr": {"mon téléphone c'est %s et ma carte finit par %s"}, "es": {"mi teléfono es %s y mi tarjeta termina en %s"}},
	hCar:         {"en": {"I drive a %s"}, "fr": {"j'ai une %s"}, "es": {"tengo un %s"}},
	hReplugged:   {"en": {"done, I unplugged it and plugged it back in", "ok replugged"}, "fr": {"c'est fait, je l'ai débranché et rebranché", "ok rebranché"}, "es": {"listo, lo desconecté y lo volví a conectar", "ya lo reconecté"}},
	hPluggedIn:   {"en": {"I'm plugged in", "ok it's plugged in"}, "fr": {"c'est branché", "ok je suis branché"}, "es": {"ya estoy conectado", "ok, ya conecté"}},
	hTapped:      {"en": {"plugged in and tapped my card"}, "fr": {"branché et j'ai passé ma carte"}, "es": {"conectado y pasé mi tarjeta"}},
	hScheduleOff: {"en": {"ok I turned the schedule off in the car"}, "fr": {"ok j'ai enlevé la programmation dans l'auto"}, "es": {"listo, quité el horario en el carro"}},
	hCarUnlocked: {"en": {"I unlocked the car and the plug came out"}, "fr": {"j'ai déverrouillé l'auto et la fiche est sortie"}, "es": {"abrí el carro y salió el conector"}},
	hGotOut:      {"en": {"got it out, thanks", "it's out, thank you"}, "fr": {"il est sorti, merci", "c'est sorti, merci"}, "es": {"ya salió, gracias", "ya lo saqué, gracias"}},
	hStillStuck:  {"en": {"it's still stuck, it won't come out"}, "fr": {"c'est encore coincé, ça ne sort pas"}, "es": {"sigue atascado, no sale"}},
	hPaid:        {"en": {"paid", "ok I paid it"}, "fr": {"payé", "ok c'est payé"}, "es": {"pagado", "listo, ya pagué"}},
	hUpdatedCard: {"en": {"I updated my card in the app"}, "fr": {"j'ai mis ma carte à jour dans l'appli"}, "es": {"actualicé mi tarjeta en la app"}},
	hBackOnline:  {"en": {"the screen is back on, it says online", "it's back"}, "fr": {"l'écran est revenu, c'est en ligne", "c'est revenu"}, "es": {"la pantalla volvió, dice en línea", "ya volvió"}},
	hStillDark:   {"en": {"the screen is still dark"}, "fr": {"l'écran est encore noir"}, "es": {"la pantalla sigue apagada"}},
	hNotCharging: {"en": {"it's still not charging"}, "fr": {"ça ne charge toujours pas"}, "es": {"todavía no carga"}},
	hTooFar:      {"en": {"that's way too far for me"}, "fr": {"c'est beaucoup trop loin pour moi"}, "es": {"eso me queda demasiado lejos"}},
	hThatsAll:    {"en": {"no that's all, thanks"}, "fr": {"non c'est tout, merci"}, "es": {"no, es todo, gracias"}},
	hSwitchLang:  {"en": {"sorry, can we continue in English please?"}, "fr": {"désolé, on peut continuer en français?"}, "es": {"perdón, ¿podemos seguir en español?"}},
}

// cars are what drivers drive (all take CCS1, like the bench's chargers).
var cars = []string{"Chevy Bolt", "Hyundai Ioniq 5", "Ford Mustang Mach-E", "Kia EV6", "VW ID.4"}

// digitWords spell digits out, for voice.
var digitWords = map[string][]string{
	"en": {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"},
	"fr": {"zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"},
	"es": {"cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"},
}
