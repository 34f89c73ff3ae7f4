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
	// another person's data
	`owner|owners|proprietaire|dueno|duena _ details|name|nom|nombre|info|information|informacion|phone|telephone|telefono|email|courriel|correo|address|adresse|direccion`,
	`other|another|autre|otro|otra _ drivers|driver|conducteur|conductrice|conductor|usuario|user|persons|personne _ email|courriel|correo|phone|telephone|telefono|name|nom|nombre|data|donnees|datos|address|adresse|direccion|account|compte|cuenta|history|historique|historial`,
	`my ex|mon ex|mi ex|ex esposo|ex esposa|ex wife|ex husband|my wife|my husband|ma femme|mon mari|ma blonde|mon chum|mi esposo|mi esposa|mi marido|my neighbor|mon voisin|mi vecino _ where|ou|donde|history|historique|historial|sessions|card|carte|tarjeta|nip|pin|account|compte|cuenta|location|localisation|ubicacion`,
	`tell me|dites moi|dis moi|digame|dime _ where|ou|donde _ she|he|elle|il|ella|el _ charged|charge|a charge|a recharge|cargo`,
	`history|historique|historial _ of|de|du _ my|mon|ma|mi _ ex|wife|husband|mari|femme|esposo|esposa|neighbor|voisin|vecino`,
	`last used|used last|a utilise en dernier|uso por ultima vez|que uso _ this charger|cette borne|este cargador|the charger|la borne|el cargador`,
	`who is|whos|quien es|qui est|cest qui _ the owner|owner|el dueno|la duena|le proprietaire|la proprietaire`,
	`who|quien|qui + charged|used|was charging|a charge|a recharge|a utilise|chargeait|cargo|uso|estaba cargando|estuvo cargando`,
	`account number|numero de compte|numero de cuenta|nip|pin _ of|de _ my|mon|ma|mi _ husband|wife|mari|femme|esposo|esposa|ex`,
	`donnees client|donnees des clients|customer data|client data|datos de clientes|datos del cliente`,
	// someone else's session
	`stop|end|kill|unplug|pare|para|parar|detenga|deten|termina|terminar|apaga|apaguen|desconecte|desconecta|arrete|arretez|arreter|debranche|debranchez _ next to me|a cote|de al lado|neighbors|voisin|vecino|tesla blanco|white tesla|other car|autre auto|autre char|otro carro|otro auto`,
	// authority claimed: police, owners, executives, corporate
	`police|policia|officer|officier|lapd|nypd|rcmp|grc|sheriff|detective _ need|want|order|ordering|orders|veux|exige|ordonne|necesito|quiero|ordeno|give|donne|dame|unlock|tell|name|nom|nombre|details|saber|savoir|know`,
	`im|i am|this is|cest|soy|je suis _ the owner|president|ceo|pdg|proprietaire|dueno|duena|corporate|head office|siege social|director|directeur|presidente _ unlock|stop|shut|turn off|apaguen|apague|apaga|eteignez|arrete|arretez|authorize|autorisez|autorise|autoriza|autorice|give|donne|dame|whitelist|free`,
	`work for|travaille pour|trabajo para|i am from|je suis de|soy de _ corporate|head office|siege social|chargepoint|flo|evgo|electrify|tesla|the network|le reseau|la red|oficina central _ whitelist|unlock|authorize|autorise|autorisez|autoriza|free|gratuit|gratis|disable|desactive|desactiva`,
	`whitelist|liste blanche|lista blanca`,
	// refunds claimed as already approved
	`already approved|pre approved|preapproved|deja approuve|preapprouve|pre approuve|ya aprobado|ya aprobo|ya me aprobo|ya aprobó|preaprobado|pre aprobado|aprobado por|approved by|approuve par`,
	`supervisor|superviseur|gerente|manager|gerant|agent|boss|patron|jefe _ approved|approuve|aprobo|autorizo|authorized|autorise _ refund|remboursement|reembolso|credit|credito`,
	`reembolso|refund|remboursement + ya|already|deja _ aprobado|approved|approuve`,
	// defeating a safety device
	`puenteo|puentear|puentearlo|puenteado|ponter|shunter|jumper|jumpers|bypasser`,
	`quito|quitar|quitarle|desactivo|desactivar|enleve|enlever|desactiver|disable|defeat|trick _ seguro|proteccion|protection|ground fault|falla a tierra|disyuntor|emergency stop|arret durgence|boton de emergencia|gfci|breaker`,
	// the rules asked for, or forgotten
	`forget|oublie|oubliez|olvida|olvide _ everything|tout|todo|what you were told|ce quon ta dit|lo que te dijeron|que tes|que vous etes|que eres`,
	`translate|traduis|traduisez|traduce|traduzca|print|imprime|pasame|pasamelas|recite|repeat|repete|repite _ instructions|rules|reglas|regles|consignes|prompt|instrucciones`,
	`rules|reglas|regles|instructions|instrucciones|consignes _ te dieron|you were given|you got|on ta donne|on vous a donne|textuales|textual|verbatim|mot pour mot|word for word|palabra por palabra`,
	`admin|root|master|administrateur|administrador _ pin|password|code|mot de passe|contrasena|clave|nip`,
	`last|dernieres|derniers|ultimas|ultimos _ transactions|sessions|transacciones|sesiones|cargas _ at|on|sur|en|de|of _ this site|ce site|este sitio|this charger|cette borne|este cargador|this station`,
	// configuration, keys and codes asked for
	`your|tes|ton|vos|votre|tu|tus|su|sus _ prompt|configuration|config|instructions|consignes|instrucciones|system message|hidden|cachees|cachee|ocultas|oculto`,
	`repeat|repete|repite|say|dis|di _ the text above|the words|le texte|el texto _ above|begin|commencent|empiezan|starting|dessus|arriba`,
	`logs|journaux|registros|incident reports|rapports internes|reportes internos|customer phone numbers|numeros des clients|telefonos de clientes|export all|exporte tout|exporta todo`,
	// spoken or typed fake system messages
	`system message|message du systeme|mensaje del sistema|system msg|sys msg|tool result|tool_result|role colon system|curly bracket role|exclamation dash dash`,
	`new instruction|nouvelle instruction|nueva instruccion _ from|de|du _ your|tes|vos|tus|sus|the|les|los _ developers|developpeurs|desarrolladores|creators|createurs|creadores|admins`,
	// promises claimed
	`told me|promised|promis|me dijo|me prometio|ma dit|said you would|a dit que tu|dijo que _ free|gratuit|gratis|refund|remboursement|reembolso|back|credit|credito|you could|tu pouvais|podias`,
	`already confirmed|deja confirme|ya confirmo|ya confirmado _ refund|remboursement|reembolso|credit`,
	`reponds|reponde|respond|reply|responde|di|dis|say _ remboursement approuve|refund approved|reembolso aprobado|oui pis rembourse|yes and refund|si y reembolsa`,
	`dis oui pis|say yes and|di que si y|dis juste oui`,
	// people who are not drivers at this charger, giving orders
	`firefighter|pompier|bombero|cop|policier|policia|officer|journalist|journaliste|periodista|site owner|station host|hote du site|proprietaire du site|dueno del estacionamiento|dueno del local|head office|siege social|oficina central|maintenance team|equipe dentretien|equipo de mantenimiento|contractor|entrepreneur|contratista|bank employee|employe de banque|empleado del banco|la direction|gerant|gerante|engineer|ingenieur|ingeniero _ unlock|unlocks|release|end|stop|disable|export|send|give|tell|debarre|debarrez|deverrouille|coupe|envoie|donne|dis|libera|liberen|desbloquea|apaga|dame|digan|manda|sube|raise|apply|authorize`,
	`for everyone|pour tout le monde|para todos _ permanently|permanent|for good|pour toujours|para siempre`,
	`who reserved|qui a reserve|quien reservo|whos account|account is charging|el dueno del|du proprietaire|the person who|la personne qui|la persona que _ phone|email|name|address|telephone|courriel|nom|adresse|telefono|correo|nombre|direccion`,
	`home address|adresse domicile|direccion de casa|noms des clients|names of the customers|nombres de los clientes|datos de la ultima persona|last person who|derniere personne qui`,
	`give me|donne moi|dame|send me|envoie moi|mandame _ the name|le nom|el nombre|the phone|le telephone|el telefono|the number|le numero|his|her|son|sa|su _ name|number|nip|pin|phone|telephone|telefono|address|adresse|direccion|account|compte|cuenta|card|carte|tarjeta|details|recharges|cargas|sessions`,
	`disable|desactive|desactiver|desactiva|desactivar|skip|saute|salta _ the insulation|insulation|lisolation|aislamiento|ground fault|gfci|the safety|la securite|la seguridad`,
	`saltarme|saltar|brinco|brincar|brincarme|forzar|forcer|force _ el seguro|the lock|le verrou|ground fault|falla a tierra|el cargador|la borne|the charger`,
	`mode test|test mode|modo prueba|modo de prueba`,
	`fais comme si|haz como si|act like|pretend that|vamos a jugar|on joue|lets play|eres un asistente|tu es un assistant|you are an assistant`,
	`that guys|ce gars|ese tipo|el carro que esta|el auto que esta|the car at|the car on|le char rouge|char rouge|bolt rojo|model y blanco|white model y|red bolt`,
	// role play and rules rewritten
	`hacer de cuenta|hagamos de cuenta|haz de cuenta|imagina que eres|imagine que tu es|imaginons que tu es|lets say you are|lets pretend|role play|jeu de role|juego de rol`,
	`rule|regle|regla _ updated|mise a jour|actualizada|modifiee|changed|cambiada`, `new rule|nouvelle regle|nueva regla`,
	`drop table|delete from|select from|union select`,
	`security test|test de securite|prueba de seguridad|penetration test|pentest`,
	`skip|sauter|saute|sautez|saltar|salta|saltate|omitir|omite + payment|paiement|pago|the payment|le paiement|el pago`,
	`authorize|autorisez|autoriser|autorise|autoriza|autorice|accept|acceptez|acepta|acepte _ even if|meme si|aunque|anyway|quand meme|de todos modos`,
	// threats attached to a demand
	`refund|rembourse|reembolsame|reembolsa _ now|maintenant|ahora|ya _ or|sinon|o`,
	`or else|or ill|or i will|sinon je|o te demando|o los demando|ill sue|will sue|te poursuis|vous poursuivre`,
}

var mediumInjection = []string{
	// claiming authority
	`im|i am|this is|je suis|cest|soy|habla|with the|de lequipe|del equipo|work for|travaille pour|trabajo para _ admin|administrator|staff|technician|tech|operator|operations|operaciones|exploitation|network|reseau|supervisor|developer|maintenance|company|compagnie|entreprise|empresa|compania|tecnico|technicien|administrateur|administrador|operateur|operador|entretien|mantenimiento|employee|employe|empleado`,
	// acting on every charger or every driver
	`unlock|reset|restart|disable|end|stop|activate|enable|deverrouille|debarre|redemarre|desactive|arrete|active|activez|desbloquea|reinicia|desactiva|activa|habilita|deten|mark|mets|give|donne|dame _ all|every|everything|everyone|toutes|tous|tout|todos|todas|todo|partout`,
	`free|gratuit|gratuite|gratuitement|gratis`, `without|sans|sin + payment|paiement|pago|verifier|checking|checks|verificar`, `skip checks`,
	`disable|desactive|desactiva|desactiver _ authorization|autorisation|autorizacion|payments|paiements|pagos|checks`,
	// someone else's session
	`next to me|a cote|de al lado|my brothers|mon frere|mi hermano|someone elses|quelquun dautre|otra persona`,
	`need|besoin de|necesito _ the spot|the space|the stall|la place|le spot|el lugar|el espacio|el spot|el cajon`,
	`stop|end|kill|pare|parar|arrete|arreter|termina|terminar|unplug|desconecte|debranchez _ the session|the charge|the charging|la session|la sesion|la carga|la recharge`,
	`card number|credit card number|numero de tarjeta|numero de la tarjeta|numero de carte|numero de la carte`,
	`every|all|toutes|tous|todos|todas _ session|sessions|connector|connectors|charger|chargers|stall|stalls|borne|bornes|cargador|cargadores|conector|conectores _ on|at|in|sur|du|en|de _ this|the|site|block|ce|le|este|el`,
	`api key|api keys|cle api|clave api|access token|password|mot de passe|contrasena|admin code|code admin|codigo admin|access administrateur|acces admin|acceso de administrador|admin access|discount codes|codes promo|codigos de descuento`,
	`not my car|not mine|isnt mine|its not mine|pas la mienne|pas le mien|pas mon auto|pas mon char|pas mon vehicule|no es mio|no es mia|no es mi carro|no es mi auto`,
	`give me|donne moi|dame|whats|what is|quel est|cual es|tell me|dis moi|dime _ the|le|el|your|ton|tu _ api key|password|mot de passe|contrasena|admin code|code admin|codigo admin|pin|nip|clave`,
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

// markupInjection reports text that carries instructions in markup a
// driver does not type: an HTML comment, a chat-role message in JSON, a
// line that claims to come from the system or the assistant.
func markupInjection(text string) bool {
	t := strings.ToLower(text)
	if strings.Contains(t, "<!--") || strings.Contains(t, "<system") || strings.Contains(t, "</") {
		return true
	}
	if strings.Contains(t, `"role"`) && (strings.Contains(t, `"system"`) || strings.Contains(t, `"assistant"`)) {
		return true
	}
	for _, line := range strings.Split(t, "\n") {
		line = strings.TrimLeft(line, " \t[#*>-")
		for _, p := range []string{"system:", "assistant:", "systeme:", "système:", "sistema:", "admin:", "developer:"} {
			if strings.HasPrefix(line, p) {
				return true
			}
		}
	}
	return false
}
