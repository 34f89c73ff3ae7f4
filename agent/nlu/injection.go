package nlu

import "strings"

// Injection patterns over folded words (see featureText). A pattern is a
// list of parts: " + " joins parts that follow each other directly, " _ "
// allows up to four words in between; within a part, "|" separates
// alternatives, and an alternative may be several words.
var strongInjection = []string{
	// overriding the rules or instructions
	`ignore|ignora|ignorer|ignorez|ignoring|forget|oublie|oubliez|olvida|olvide|disregard _ instructions|instruction|rules|regles|reglas|consignes|instrucciones|policy|politique|politica|previous|precedentes|anteriores|prompt|programming`,
	`system|systeme|sistema + prompt`, `prompt + system|systeme|sistema`, `instrucciones del sistema|consignes du systeme|system instructions`,
	`you are now|tu es maintenant|ahora eres`, `maintenance|developer|debug|admin|god + mode`, `mode + maintenance|developpeur|admin|debug`, `modo + mantenimiento|desarrollador|admin`,
	`pretend|semblant|finge|jailbreak|unrestricted|roleplay`, `act as|actua como|agis comme _ assistant|admin|operator|operateur|operador`,
	`reveal|print|show|affiche|revele|muestrame|muestra|dime _ instructions|prompt|consignes|instrucciones`,
	`override|bypass|contourne|contourner|contournez|saltate|saltar`,
	`new|nouvelles|nuevas + instructions|instrucciones|consignes`, `must obey|obey me|obeis moi|obedeceme`,
	// switching the rules off
	`disable|disabling|turn off|switch off|deactivate|suspend|lift|remove|desactive|desactivez|desactiver|suspends|suspendez|enleve|leve|desactiva|desactive|desactivar|apaga|apague|quita|suspende _ policy|policies|politique|politiques|politica|politicas|safety|securite|seguridad|rules|regles|reglas|restrictions|restricciones|guardrails|limits|limites|filters|filtres|filtros|verification|verifications|verificacion|verificaciones`,
	`ignore|ignorer|ignorez|ignora|ignore|skip|saute|salta|omite _ safety|securite|seguridad|verification|verificacion`,
	// claiming authority to get an action done
	`im|i am|this is|its|here is|je suis|cest|ici|soy|habla|aqui _ admin|administrator|technician|tech|operator|supervisor|engineer|chargedesk|administrateur|technicien|operateur|ingenieur|administrador|tecnico|operador|ingeniero _ unlock|reset|restart|reboot|stop|start|free|release|override|disable|deverrouille|deverrouillez|debloque|debloquez|redemarre|arrete|libere|desactive|desbloquea|desbloquee|reinicia|reinicie|deten|detenga|libera|desactiva`,
	`as|en tant que|como _ admin|administrator|technician|operator|supervisor|administrateur|technicien|operateur|administrador|tecnico|operador _ unlock|reset|restart|stop|disable|override|deverrouille|redemarre|arrete|desactive|desbloquea|reinicia|deten|desactiva|i authorize|i order|jautorise|jordonne|autorizo|ordeno`,
	// threats attached to a demand
	`refund|rembourse|reembolsame|reembolsa _ now|maintenant|ahora|ya _ or|sinon|o`,
	`or else|or ill|or i will|sinon je|o te demando|o los demando|ill sue|will sue|te poursuis|vous poursuivre`,
}

var mediumInjection = []string{
	// claiming authority
	`im|i am|this is|je suis|cest|soy|habla|with the|de lequipe|del equipo|work for|travaille pour|trabajo para _ admin|administrator|staff|technician|tech|operator|supervisor|developer|maintenance|company|compagnie|entreprise|empresa|compania|tecnico|technicien|administrateur|administrador|operateur|operador|entretien|mantenimiento|employee|employe|empleado`,
	// acting on every charger or every driver
	`unlock|reset|restart|disable|end|stop|deverrouille|debarre|redemarre|desactive|arrete|desbloquea|reinicia|desactiva|deten|mark|mets|give|donne|dame _ all|every|everything|everyone|toutes|tous|tout|todos|todas|todo|partout`,
	`free|gratuit|gratuite|gratuitement|gratis`, `without|sans|sin + payment|paiement|pago|verifier|checking|checks|verificar`, `skip checks`,
	`disable|desactive|desactiva|desactiver _ authorization|autorisation|autorizacion|payments|paiements|pagos|checks`,
	// someone else's session
	`next to me|a cote|de al lado|my brothers|mon frere|mi hermano|someone elses|quelquun dautre|otra persona`,
	`just do it|do it now|fais le|hazlo`, `remote access|acces a distance|acceso remoto`,
	`refund me|rembourse moi|reembolsame|full refund|remboursement complet|reembolso completo`,
}

type injPart struct {
	alts [][]string // each alternative as words
	gap  int        // words that may come before this part
}

type injPattern []injPart

func compileInjection(ps []string) []injPattern {
	out := make([]injPattern, 0, len(ps))
	for _, p := range ps {
		var pat injPattern
		gap := 0
		for _, f := range strings.Split(strings.NewReplacer(" + ", "\x00+\x00", " _ ", "\x00_\x00").Replace(p), "\x00") {
			switch f {
			case "+":
				gap = 0
				continue
			case "_":
				gap = 4
				continue
			}
			var part injPart
			for _, a := range strings.Split(f, "|") {
				part.alts = append(part.alts, strings.Fields(a))
			}
			part.gap = gap
			pat = append(pat, part)
			gap = 0
		}
		out = append(out, pat)
	}
	return out
}

// at returns the number of words alternative-matched at words[j:], or 0.
func (pt injPart) at(words []string, j int) int {
	for _, alt := range pt.alts {
		if j+len(alt) > len(words) {
			continue
		}
		ok := true
		for k, w := range alt {
			if words[j+k] != w {
				ok = false
				break
			}
		}
		if ok {
			return len(alt)
		}
	}
	return 0
}

func (p injPattern) matchFrom(words []string, i, k int) bool {
	if k == len(p) {
		return true
	}
	for g := 0; g <= p[k].gap && i+g < len(words); g++ {
		if n := p[k].at(words, i+g); n > 0 && p.matchFrom(words, i+g+n, k+1) {
			return true
		}
	}
	return false
}

func (p injPattern) match(words []string) bool {
	for i := range words {
		if n := p[0].at(words, i); n > 0 && p.matchFrom(words, i+n, 1) {
			return true
		}
	}
	return false
}

// injectionCues counts the strong and medium injection cues in words.
func injectionCues(strong, medium []injPattern, words []string) (s, m int) {
	for _, p := range strong {
		if p.match(words) {
			s++
		}
	}
	for _, p := range medium {
		if p.match(words) {
			m++
		}
	}
	return s, m
}
