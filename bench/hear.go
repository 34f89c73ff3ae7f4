package bench

import (
	"regexp"
	"strconv"
	"strings"
)

// What the honest driver hears in a reply: the questions it is asked, what
// it is asked to do, and what it is told. The patterns are the driver's
// own — keywords a person reacts to in each language — written apart from
// the agent's reply catalogue, so that a reworded reply is still
// understood and an unclear one is not.

// Questions the agent may ask.
const (
	qProblem   = "problem"
	qCharger   = "charger"
	qChoose    = "choose"
	qConnector = "connector"
	qPhone     = "phone"
	qLast4     = "last4"
	qStartTime = "start_time"
	qYesNo     = "yes_no"
	qAtCharger = "at_charger"
	qStartNow  = "start_now"
)

// Things the agent may ask the driver to do.
const (
	doPlugIn      = "plug_in"
	doReplug      = "replug"
	doTapCard     = "tap_card"
	doSchedule    = "schedule"
	doRemoveCable = "remove_cable"
	doUnlockCar   = "unlock_car"
	doPayLink     = "pay_link"
	doUpdateCard  = "update_card"
	doWaitOnline  = "wait_online"
)

// Things the agent may tell.
const (
	toldCharging      = "charging"
	toldTicket        = "ticket"
	toldNearest       = "nearest"
	toldNoAlternative = "no_alternative"
	toldOffline       = "offline"
	toldRefused       = "refused"
	toldAnythingElse  = "anything_else"
	toldNoMatch       = "no_match"
	toldNotFound      = "not_found"
	toldNotPaid       = "not_paid"
	toldCableOut      = "cable_out"
	toldAvailable     = "available_again"
)

// cue is one thing to recognise, by language.
type cue struct {
	name string
	// question: the cue counts only in a sentence that asks (ends with a
	// question mark or says "tell me", "reply"...).
	question bool
	pats     map[string]*regexp.Regexp
}

func pats(en, fr, es string) map[string]*regexp.Regexp {
	return map[string]*regexp.Regexp{"en": regexp.MustCompile(en), "fr": regexp.MustCompile(fr), "es": regexp.MustCompile(es)}
}

// cues are matched on folded text: lower case, no accents, apostrophes
// straightened.
var cues = []cue{
	{qProblem, true, pats(`what'?s (going on|happening|wrong)|tell me (in a few words )?what|what (is|seems to be) the (problem|issue)|what happened|\bis it (that )?.+,? or (that )?`,
		`qu'?est-ce qui se passe|que se passe-t-il|dites-moi (en quelques mots )?ce qui|quel est le probleme|ce qui ne va pas|est-ce (que|qu'|l'|la |le ).+,? ou (que|qu'|l'|la |le )?`,
		`que pasa|que (le )?sucede|cual es el problema|digame (en pocas palabras )?que|que ocurre|\bes (que )?.+,? o (que )?`)},
	{qCharger, true, pats(`which (charger|station)|what charger|charger (id|number)|id on (its|the) label|label id|read me the id|the id is on`,
		`quelle borne|numero sur (l'|son )?etiquette|identifiant de la borne|lire le numero`,
		`(en )?(que|cual) cargador|id de (la|su) etiqueta|id esta en la etiqueta|leer el id`)},
	{qConnector, true, pats(`which (connector|plug|cable)|connector number|what connector`,
		`quel (numero de )?connecteur|numero de connecteur|quel cable|quelle prise`,
		`(que|cual) (numero de )?conector|numero de conector|que cable`)},
	{qPhone, true, pats(`phone( number)?|telephone|mobile number|cell number`,
		`telephone|cellulaire|numero de cell`,
		`telefono|celular`)},
	{qLast4, true, pats(`last (4|four)( digits)?|final (4|four) digits`,
		`(4|quatre) derniers chiffres`,
		`ultimos (4|cuatro) (digitos|numeros)`)},
	{qStartTime, true, pats(`what time|when did you (start|plug)|how long ago`,
		`quelle heure|quand avez-vous (commence|branche)|depuis combien`,
		`(a )?que hora|cuando (empezo|comenzo|se conecto)|hace cuanto`)},
	{qAtCharger, true, pats(`are you (standing )?(at|by|next to|in front of) (the )?(charger|station|it|[a-z]{3}-[a-z]{3}-\d+)|are you there`,
		`etes-vous (a|pres de|devant|sur place)|vous etes a la borne`,
		`esta (usted )?(en|junto|frente|al lado)( a| de)?( el|l)? cargador|esta (usted )?ahi`)},
	{qStartNow, true, pats(`want me to start|should i start|shall i start`,
		`voulez-vous que je (lance|demarre)|dois-je (lancer|demarrer)`,
		`quiere que (inicie|empiece|arranque)|inicio la carga`)},
	{qYesNo, true, pats(`yes or no|(send|text) you a .*link|want a .*link`,
		`oui ou non|vous (envoyer|texter) un lien`,
		`si o no|(enviar|mandar) .*enlace`)},

	{doReplug, false, pats(`unplug .*plug it back|plug it back|re-?seat|re-?plug`,
		`debranchez .*rebranchez|rebranchez`,
		`desconecte .*(vuelva a conectar|reconecte)|vuelva a conectar`)},
	{doPlugIn, false, pats(`plug (the cable )?in(to)?\b|plug in\b|connect (the|your) cable`,
		`branchez|brancher le cable`,
		`conecte el cable|conectese|enchufe`)},
	{doTapCard, false, pats(`tap (your|the) card|tap again`, `passez (votre|la) carte`, `pase su tarjeta|pase la tarjeta`)},
	{doSchedule, false, pats(`charging schedule|the schedule|charge now|departure time`, `recharge programmee|programmation|recharger maintenant`,
		`horario de carga|el horario|cargar ahora`)},
	{doUnlockCar, false, pats(`unlock (the|your) car|charge-?port release|car is holding|holding the plug`,
		`deverrouillez (le|votre) vehicule|retient la fiche|deverrouillage du port`,
		`desbloquee (el|su) auto|retiene el conector|liberacion del puerto`)},
	{doRemoveCable, false, pats(`(is|has been|it'?s) (now )?unlocked|(remove|pull|take out|unplug) (the|your) cable|cable (is )?(released|free)`,
		`est (maintenant )?deverrouille|retirer (le|votre) cable|cable est libere`,
		`esta desbloqueado|sacar el cable|cable (esta )?liberado`)},
	{doUpdateCard, false, pats(`(add|update) (a|your|the) card|card in the app`,
		`mettre (votre carte )?a jour|ajouter .*carte|carte .*(dans )?l'appli`,
		`(actualizar|actualice|agregar|agregue) .*tarjeta|tarjeta en la app`)},
	{doWaitOnline, false, pats(`reconnecting|isn'?t online yet|not online yet|(screen|it) (shows it'?s|is) back`,
		`se reconnecte|pas encore en ligne|l'ecran indique qu'elle est revenue`,
		`reconectando|aun no esta en linea|pantalla muestre que volvio`)},

	{toldCharging, false, pats(`you'?re charging|session has started|power is flowing|is charging now`,
		`recharge (a commence|est en cours)|l'energie circule`,
		`(ya )?esta cargando|sesion empezo|pasando energia`)},
	{toldTicket, false, pats(`\bticket\b|support agent|field team|repair request|our team`,
		`\bbillet\b|equipe terrain|un agent|notre equipe`,
		`\bticket\b|equipo tecnico|un agente|nuestro equipo`)},
	{toldNearest, false, pats(`nearest|closest|another (available )?charger`, `plus proche|autre borne`, `mas cercano|otro cargador`)},
	{toldNoAlternative, false, pats(`don'?t see another|no other (available )?charger|nothing (available )?nearby`,
		`pas d'autre borne|aucune autre borne`, `no veo otro|ningun otro cargador`)},
	{toldOffline, false, pats(`offline|lost (its )?connection`, `hors ligne|perdu sa connexion`, `sin conexion|fuera de linea|perdio la conexion`)},
	{toldRefused, false, pats(`i can'?t do that|can only help`, `ne peux pas faire (ca|cela)|peux seulement`, `no puedo hacer eso|solo puedo`)},
	{toldAnythingElse, false, pats(`anything else`, `autre chose`, `algo mas`)},
	{toldNoMatch, false, pats(`(don'?t|do not|doesn'?t) match`, `ne correspond`, `no coincide`)},
	{toldNotFound, false, pats(`(couldn'?t|could not|can'?t) find`, `ne trouve pas`, `no (encontre|encuentro)`)},
	{toldNotPaid, false, pats(`don'?t see the payment|not (been )?paid yet`, `pas encore (vu )?le paiement|vois pas encore le paiement`, `no veo el pago`)},
	{toldCableOut, false, pats(`cable is out|all set`, `cable est retire|tout est regle`, `cable ya salio|ya salio el cable`)},
	{toldAvailable, false, pats(`available again|is available now`, `de nouveau disponible|disponible a nouveau`, `disponible otra vez|disponible de nuevo`)},
}

// asking marks a sentence that asks something of the driver without a
// question mark.
var asking = pats(`tell me|reply|read me|let me know|please (give|send)`, `dites|repondez|indiquez|ecrivez`, `digame|responda|indique|avise|escriba`)

var (
	labelRe    = regexp.MustCompile(`\b[A-Z]{3}-[A-Z]{3}-\d{4,5}\b`)
	urlRe      = regexp.MustCompile(`https?://[^\s)]+`)
	optionRe   = regexp.MustCompile(`(\d+)\)\s*([^;]+)`)
	connCountR = regexp.MustCompile(`(\d+) (connectors?|connecteurs?|conectores?)\b`)
	distanceRe = regexp.MustCompile(`(\d+(?:[.,]\d+)?)\s?(mi|km)\b`)
)

// heard is what the driver understood of one reply.
type heard struct {
	// cues recognised, by name.
	cues map[string]bool
	// connectors is the connector count the reply states, or -1.
	connectors int
	// options are the numbered choices offered, by number.
	options map[int]string
	// link is a payment link in the reply.
	link string
	// labels are the charger labels the reply names.
	labels []string
	// distanceKM is the distance the reply states (the first), or -1.
	distanceKM float64
}

// has reports whether any of names was recognised.
func (h heard) has(names ...string) bool {
	for _, n := range names {
		if h.cues[n] {
			return true
		}
	}
	return false
}

// asked returns the questions recognised, in the order of the cues.
func (h heard) asked() []string {
	var out []string
	for _, c := range cues {
		if c.question && h.cues[c.name] {
			out = append(out, c.name)
		}
	}
	if len(h.options) > 1 {
		out = append([]string{qChoose}, out...)
	}
	return out
}

// understood reports whether anything was recognised.
func (h heard) understood() bool {
	return len(h.cues) > 0 || len(h.options) > 1 || h.link != ""
}

// fold lower-cases text, removes accents and straightens apostrophes.
func fold(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch r {
		case 'à', 'â', 'ä', 'á':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'î', 'ï', 'í':
			r = 'i'
		case 'ô', 'ö', 'ó':
			r = 'o'
		case 'ù', 'û', 'ü', 'ú':
			r = 'u'
		case 'ç':
			r = 'c'
		case 'ñ':
			r = 'n'
		case '’', '‘':
			r = '\''
		case '¿', '¡':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hear recognises what a reply asks and tells, with the patterns of lang
// first; when they recognise nothing the other languages' are tried (the
// driver half understands a reply in a language they read less well).
func hear(text, lang string) heard {
	h := hearIn(text, []string{lang})
	if !h.understood() {
		var others []string
		for _, l := range Languages() {
			if l != lang {
				others = append(others, l)
			}
		}
		h = hearIn(text, others)
	}
	return h
}

func hearIn(text string, langs []string) heard {
	h := heard{cues: map[string]bool{}, connectors: -1, distanceKM: -1}
	prev := ""
	for _, s := range sentences(text) {
		f := fold(s)
		isQuestion := strings.HasSuffix(strings.TrimSpace(s), "?")
		for _, l := range langs {
			if asking[l].MatchString(f) {
				isQuestion = true
			}
		}
		asked := false
		for _, c := range cues {
			if c.question && !isQuestion {
				continue
			}
			for _, l := range langs {
				if c.pats[l].MatchString(f) {
					h.cues[c.name] = true
					asked = asked || c.question
				}
			}
		}
		if isQuestion && !asked && prev != "" {
			// "…by its phone number. What is that number?": a question
			// that names nothing is about the sentence before.
			for _, c := range cues {
				for _, l := range langs {
					if c.question && c.pats[l].MatchString(prev) {
						h.cues[c.name] = true
					}
				}
			}
		}
		prev = f
	}
	if h.cues[doReplug] {
		delete(h.cues, doPlugIn)
	}
	if h.cues[doUnlockCar] {
		delete(h.cues, doRemoveCable)
	}
	if m := connCountR.FindStringSubmatch(fold(text)); m != nil {
		h.connectors, _ = strconv.Atoi(m[1])
	}
	for _, m := range optionRe.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		if h.options == nil {
			h.options = map[int]string{}
		}
		h.options[n] = m[2]
	}
	h.link = urlRe.FindString(text)
	if h.link != "" {
		delete(h.cues, qYesNo)
	}
	h.labels = labelRe.FindAllString(text, -1)
	if m := distanceRe.FindStringSubmatch(text); m != nil {
		v, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", "."), 64)
		if err == nil {
			if m[2] == "mi" {
				v *= 1.609344
			}
			h.distanceKM = v
		}
	}
	return h
}
