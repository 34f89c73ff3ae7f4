package nlu

import "strings"

// Concepts are cross-language keyword classes: "stuck", "coincé", "atorado"
// all fire the same feature, so what the corpus teaches in one language
// carries to the others.
const (
	cLock = iota
	cPay
	cRFID
	cOffline
	cSlow
	cBill
	cDamage
	cStart
	cGreet
	cOverride
	cAuthority
	cThreat
	cAll
	cFree
	numConcepts
)

// conceptLexicon lists folded words per concept; a trailing "*" marks a
// prefix (at least four letters).
var conceptLexicon = [numConcepts]string{
	cLock:      `stuck stuk locked lock unlock* jam* latch* unlatch* releas* pogn* barr* debarr* coinc* verrouill* deverrouill* atora* atasca* trabad* traba pegad* desbloq* unplug* debranch* detach* decroch* suelt* suelta remove* sortir enlever sacar saca`,
	cPay:       `pay paying payment* pymnt paiement* pago pagar declin* refus* rechaz* visa mastercard amex credit* fund* fonds fondos insuffi* expired expir* vencid* authorization`,
	cRFID:      `rfid fob badge nfc reader lecteur lector tap tapped tapping tape beep* bip bipe bips biper pita pito pitid* membership membre miembro llavero puce tag key fleet flotte flota activ* registered`,
	cOffline:   `offline unavailable indisponible disponible available servic* dead morte mort muerto black noir noire negra down panne caido frozen gele congel* fault* defaut inoperat* averiad* unreachab* server serveur servidor eteint apagad* closed fermee ferme respond* repond* ligne linea prende enciende allume wake dark sombre network reseau`,
	cSlow:      `slow* lent lente lentement lento lenta kw kilowatt* trickle throttl* speed vitesse velocidad puissance potencia forever eternite eternidad rate barely apenas molasses percent pourcent ciento peine gouttes dropping baisse bajando`,
	cBill:      `charged billed bill billing refund* rembours* reembols* factur* invoice receipt recu recibo cobr* overcharg* overbill* surfactur* dollars dolares fee fees frais tarifa statement releve price prix precio twice dispute* contest* money argent dinero montant monto amount debite double doble doublee`,
	cDamage:    `broken broke cut cracked crack* smash* damag* vandal* burn* brul* quem* spark* etincel* chisp* melt* fondu derret* fray* expos* wire wires bent tordu* doblad* fire feu fuego rota roto brise* cass* endommag* danad* smell* huele water eau agua stole vole robo robado crush* ecras* frapp* choco defonc* fissur* quebrad* partid* torn danger* peligro* cortado coupe insulation hanging leaning penche inclinado noirci* destroz* hit`,
	cStart:     `start starting started starts begin* initiat* demarr* commenc* inicia* empiez* empez* arranc* authorizing autorisation autorizando prepar* handshake initializ* initialis* connecting nothing rien nada`,
	cGreet:     `hi hello hey allo bonjour hola bueno yo thanks thank merci gracias help aide ayuda`,
	cOverride:  `ignore ignora ignorer instruction* forget oublie olvida disregard prompt override contourn* bypass sautes saltate pretend semblant obey obeis* reveal revele* jailbreak unrestricted consignes reglas rules regles dan`,
	cAuthority: `admin administrator administrateur administrador staff technician tech technicien tecnico operator operateur operador supervisor superviseur developer developpeur desarrollador maintenance entretien mantenimiento employee employe empleado`,
	cThreat:    `sue poursuis poursuivre demando demandar lawyer avocat abogado else sinon`,
	cAll:       `all every everything everyone toutes tous tout todos todas todo`,
	cFree:      `free gratuit gratuite gratuitement gratis`,
}

// conceptPhrases are folded word sequences that fire a concept their words
// alone do not: a network's "charging card" is a credential for the
// reader, not a bank card.
var conceptPhrases = map[string]int{
	"charging card": cRFID, "charge card": cRFID, "carte de recharge": cRFID, "carte de charge": cRFID,
	"tarjeta de carga": cRFID, "tarjeta de recarga": cRFID,
}

type lexicon struct {
	exact  map[string]uint8
	prefix map[string]uint8
}

func newLexicon() lexicon {
	lx := lexicon{exact: map[string]uint8{}, prefix: map[string]uint8{}}
	for c, words := range conceptLexicon {
		for _, w := range strings.Fields(words) {
			if p, ok := strings.CutSuffix(w, "*"); ok {
				lx.prefix[p] = uint8(c)
			} else {
				lx.exact[w] = uint8(c)
			}
		}
	}
	return lx
}

// words returns the lexicon's whole words (not its prefixes).
func (lx lexicon) words() []string {
	out := make([]string, 0, len(lx.exact))
	for w := range lx.exact {
		out = append(out, w)
	}
	return out
}

// concept returns the concept of a folded word, or -1.
func (lx lexicon) concept(w string) int {
	if c, ok := lx.exact[w]; ok {
		return int(c)
	}
	for k := 4; k <= len(w) && k <= 11; k++ {
		if c, ok := lx.prefix[w[:k]]; ok {
			return int(c)
		}
	}
	return -1
}

// Feature kinds, mixed into the hash so a word and a char n-gram with the
// same bytes are different features.
const (
	fChar byte = iota + 1
	fWord
	fBigram
	fConcept
	fBias
)

// feature is one hashed feature with its value.
type feature struct {
	h uint64
	v float32
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(kind byte, s string) uint64 {
	h := uint64(fnvOffset)
	h ^= uint64(kind)
	h *= fnvPrime
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashPair(a, b string) uint64 {
	h := hashBytes(fBigram, a)
	h ^= ' '
	h *= fnvPrime
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= fnvPrime
	}
	return h
}

// Feature weights: words and concepts count more than single char n-grams.
const (
	wChar    = 0.5
	wWord    = 1.0
	wBigram  = 1.0
	wConcept = 1.5
)

// extractFeatures appends the classifier features of folded text t (from
// featureText) to dst: char 2..4-grams of " t ", word unigrams and bigrams,
// concepts, and a bias. Values are L2-normalized (bias aside) so long and
// short messages weigh alike.
func (lx lexicon) extractFeatures(dst []feature, t string) []feature {
	dst = dst[:0]
	padded := " " + t + " "
	for n := 2; n <= 4; n++ {
		for i := 0; i+n <= len(padded); i++ {
			g := padded[i : i+n]
			if g[0] == ' ' && g[n-1] == ' ' && n < 3 {
				continue
			}
			dst = append(dst, feature{hashBytes(fChar, g), wChar})
		}
	}
	prev, prev2 := "", ""
	seen := [numConcepts]bool{}
	fire := func(c int) {
		if c >= 0 && !seen[c] {
			seen[c] = true
			dst = append(dst, feature{hashBytes(fConcept, string(rune('a'+c))), wConcept})
		}
	}
	for rest := t; rest != ""; {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		if w == "" {
			continue
		}
		dst = append(dst, feature{hashBytes(fWord, w), wWord})
		if prev != "" {
			dst = append(dst, feature{hashPair(prev, w), wBigram})
			if c, ok := conceptPhrases[prev+" "+w]; ok {
				fire(c)
			}
			if c, ok := conceptPhrases[prev2+" "+prev+" "+w]; ok && prev2 != "" {
				fire(c)
			}
		}
		prev2, prev = prev, w
		fire(lx.concept(w))
	}
	var sum float32
	for _, f := range dst {
		sum += f.v * f.v
	}
	if sum > 0 {
		inv := 1 / sqrt32(sum)
		for i := range dst {
			dst[i].v *= inv
		}
	}
	return append(dst, feature{hashBytes(fBias, ""), 1})
}
