package nlu

import (
	"fmt"
	"strings"
)

// Slots are the facts a driver's message gives about the failed charge.
type Slots struct {
	// ChargerRefs are charger identifiers as normalized candidates, in the
	// order said: full ids "MPL-TOR-0042", network-less ones "TOR-0042",
	// numbers alone "0042". Digits are padded to four. Resolve them against
	// the known ids with MatchChargerIDs.
	ChargerRefs []string `json:"charger_refs,omitempty"`
	// Connector is the connector number the driver named (1..9), 0 if none
	// or ambiguous ("the left one").
	Connector int `json:"connector,omitempty"`
	// Vehicle is the canonical make and model, e.g. "Hyundai Ioniq 5".
	Vehicle string `json:"vehicle,omitempty"`
	// CardLast4 is the last four digits of a payment or RFID card.
	CardLast4 string `json:"card_last4,omitempty"`
	// Place is a site name, address, landmark or city phrase as said,
	// e.g. "Walmart in Fremont", "Main Street", "costco de laval".
	Place string `json:"place,omitempty"`
}

// spelledSeparators are the words for "-" when an id is read out.
var spelledSeparators = map[string]bool{"dash": true, "hyphen": true, "tiret": true, "trait": true, "guion": true, "guiones": true}

// letterNames maps the spoken names of letters (English, Spanish, French
// and the NATO alphabet) to the letter; they count only inside a run of
// at least three spelled letters.
var letterNames = map[string]byte{
	"em": 'm', "pee": 'p', "tee": 't', "bee": 'b', "dee": 'd', "vee": 'v', "gee": 'g', "jay": 'j', "kay": 'k',
	"cue": 'q', "ar": 'r', "ess": 's', "ex": 'x', "zee": 'z', "zed": 'z', "aitch": 'h', "eff": 'f', "oh": 'o', "ell": 'l', "el": 'l',
	"eme": 'm', "ene": 'n', "ele": 'l', "pe": 'p', "te": 't', "erre": 'r', "ese": 's', "efe": 'f', "be": 'b', "ve": 'v',
	"uve": 'v', "ge": 'g', "jota": 'j', "ka": 'k', "cu": 'q', "equis": 'x', "zeta": 'z', "hache": 'h', "de": 'd', "ce": 'c',
	"emme": 'm', "enne": 'n', "esse": 's', "effe": 'f', "ji": 'g',
	"alpha": 'a', "alfa": 'a', "bravo": 'b', "charlie": 'c', "delta": 'd', "echo": 'e', "foxtrot": 'f', "golf": 'g',
	"hotel": 'h', "india": 'i', "juliet": 'j', "juliett": 'j', "kilo": 'k', "lima": 'l', "mike": 'm', "november": 'n',
	"oscar": 'o', "papa": 'p', "quebec": 'q', "romeo": 'r', "sierra": 's', "tango": 't', "uniform": 'u', "victor": 'v',
	"whiskey": 'w', "xray": 'x', "yankee": 'y', "zulu": 'z',
}

// commonShort are three-letter words of the three languages that are never
// read as a network or city code.
var commonShort = wordSet(`the and for not was are but you all any can car one two six ten its has had our out now get got see did way why who how she him her let new old off try use may yet too own per via day min mph kwh ccs app fee gas bus lot hrs hour mins pay tap lol wtf omg plz pls tho bit big low top hey yes yea yep nah ago yet far few lit mad sad red set run ran put saw sat say met end add due own
les des une est pas pis mon ton son mes qui que sur par oui non ben bon ici ils ont ete fin mis dit vos nos eux moi toi lui ses ces aux peu age cle
los las una por con del sin hay muy mas tus sus fue era son dos tres mil hoy ayer era voy vez ese esa eso sur ley uso dia mes
kms cad usd amp eur vin suv ev hmm umm uhh`)

// chargerCues are words after which a number is a charger reference.
var chargerCues = wordSet(`charger chargers chargeur station stations borne bornes cargador cargadores estacion unit stall post pump terminal poste maquina id number numero num no`)

// connectorCues are words after which a number is a connector.
var connectorCues = wordSet(`connector connectors connecter conector connecteur connecteurs plug port prise gun pistolet pistola manguera enchufe handle poignee outlet hose cable cord cordon fil`)

var ordinals = map[string]int{
	"first": 1, "premier": 1, "premiere": 1, "primer": 1, "primero": 1, "primera": 1,
	"second": 2, "deuxieme": 2, "seconde": 2, "segundo": 2, "segunda": 2,
	"third": 3, "troisieme": 3, "tercer": 3, "tercero": 3, "tercera": 3,
	"fourth": 4, "quatrieme": 4, "cuarto": 4, "cuarta": 4,
}

// unitWords after a number mean it is an amount, not an identifier.
var unitWords = wordSet(`kw kwh kilowatt kilowatts kilowatios kilovatios watts w % percent pourcent porciento por pour minutes minute min mins minutos hour hours hr hrs heures heure horas hora h miles mile km kms dollars dollar dolares bucks $ cents cad usd times fois veces am pm volts amps a seconds secondes segundos sec days jours dias ans years`)

// cardCues are words shortly before a card's last four digits.
var cardCues = wordSet(`ending ends end ending last finit finissant terminant termine termina terminada terminando terminacion ultimos derniers visa mastercard amex debit card carte tarjeta`)

// cardFillers may stand between a card cue and the digits ("my card ends
// in 4242", "los últimos cuatro son 4242").
var cardFillers = wordSet(`in with by is are was its it's the my its digits digit numbers number four 4 par en avec est sont les des de chiffres chiffre quatre numero numeros con es son los las de digitos cuatro mi su my ma mon`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// extractSlots reads the slots of one message in language lang.
func extractSlots(text, lang string) Slots {
	toks := tokenize(text)
	for i := range toks {
		if toks[i].kind == tkWord && spelledSeparators[toks[i].w] {
			toks[i].kind = tkDash
		}
	}
	toks = spokenNumbers(toks, lang)
	used := make([]bool, len(toks))
	var s Slots
	s.CardLast4 = findCard(toks, used)
	s.Connector = findConnector(toks, used)
	s.ChargerRefs = findChargerRefs(toks, used, false)
	s.Vehicle = findVehicle(toks)
	s.Place = findPlace(toks)
	return s
}

func findCard(toks []token, used []bool) string {
	for i, t := range toks {
		if t.kind != tkWord || !cardCues[t.w] {
			continue
		}
		for j := i + 1; j < len(toks) && j <= i+5; j++ {
			u := toks[j]
			if u.kind == tkNum {
				if len(u.w) == 4 {
					used[j] = true
					return u.w
				}
				break
			}
			if u.kind == tkWord && !cardCues[u.w] && !cardFillers[u.w] {
				// "card at charger ION-FRE-5124": the number is not the card's.
				break
			}
		}
	}
	return ""
}

func findConnector(toks []token, used []bool) int {
	for i, t := range toks {
		if t.kind != tkWord {
			continue
		}
		if connectorCues[t.w] || t.w == "borne" {
			j := i + 1
			for j < len(toks) && (toks[j].kind == tkHash || toks[j].kind == tkWord && (toks[j].w == "number" || toks[j].w == "numero" || toks[j].w == "no" || toks[j].w == "num" || toks[j].w == "nr")) {
				j++
			}
			if j < len(toks) && toks[j].kind == tkNum && !used[j] && len(toks[j].w) <= 2 && !followedByUnit(toks, j) {
				n := atoiSmall(toks[j].w)
				if n >= 1 && n <= 9 && (t.w != "borne" || len(toks[j].w) == 1) {
					used[j] = true
					return n
				}
			}
		}
		if n, ok := ordinals[t.w]; ok && i+1 < len(toks) && toks[i+1].kind == tkWord && connectorCues[toks[i+1].w] {
			return n
		}
		// "number two plug", "numero 2 connecteur"
		if (t.w == "number" || t.w == "numero") && i+2 < len(toks) && toks[i+1].kind == tkNum && toks[i+2].kind == tkWord && connectorCues[toks[i+2].w] {
			if n := atoiSmall(toks[i+1].w); n >= 1 && n <= 9 {
				used[i+1] = true
				return n
			}
		}
	}
	return 0
}

func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || n > 1e6 {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func followedByUnit(toks []token, j int) bool {
	if j > 0 && toks[j-1].kind == tkMoney {
		return true
	}
	if j+1 < len(toks) {
		n := toks[j+1]
		if n.kind == tkPct || n.kind == tkMoney {
			return true
		}
		if n.kind == tkWord && unitWords[n.w] {
			return true
		}
	}
	return false
}

// item is a unit of the charger-id grammar: a three-letter code, a number
// or a dash, with the token range it came from.
type item struct {
	kind   int // tkWord (code), tkNum, tkDash, or -1 for anything else
	val    string
	strong bool // typed in capitals, spelled out, or glued to the id
	from   int  // index of the first token
	to     int  // index after the last token
}

// idItems groups tokens into id items: runs of spelled letters become
// codes, three-letter words become (weak) codes.
func idItems(toks []token, permissive bool) []item {
	var items []item
	for i := 0; i < len(toks); {
		t := toks[i]
		switch t.kind {
		case tkNum:
			items = append(items, item{kind: tkNum, val: t.w, from: i, to: i + 1})
			i++
			continue
		case tkDash:
			items = append(items, item{kind: tkDash, from: i, to: i + 1})
			i++
			continue
		case tkWord:
			// a run of spelled letters
			var letters []byte
			j := i
			for j < len(toks) && toks[j].kind == tkWord {
				w := toks[j].w
				if len(w) == 1 {
					letters = append(letters, w[0])
				} else if c, ok := letterNames[w]; ok {
					letters = append(letters, c)
				} else {
					break
				}
				j++
			}
			if (len(letters) == 3 || len(letters) == 6) && j > i+1 {
				for k := 0; k < len(letters); k += 3 {
					items = append(items, item{kind: tkWord, val: strings.ToUpper(string(letters[k : k+3])), strong: true, from: i, to: j})
				}
				i = j
				continue
			}
			w := t.w
			glued := i+1 < len(toks) && toks[i+1].glued && (toks[i+1].kind == tkNum || toks[i+1].kind == tkDash)
			if len(w) == 3 && isASCIIWord(w) && (permissive || t.upper || glued || !commonShort[w]) {
				items = append(items, item{kind: tkWord, val: strings.ToUpper(w), strong: permissive || t.upper || glued, from: i, to: i + 1})
				i++
				continue
			}
			if len(w) == 6 && isASCIIWord(w) && (permissive || glued) {
				items = append(items, item{kind: tkWord, val: strings.ToUpper(w[:3]), strong: true, from: i, to: i + 1},
					item{kind: tkWord, val: strings.ToUpper(w[3:]), strong: true, from: i, to: i + 1})
				i++
				continue
			}
		}
		items = append(items, item{kind: -1, from: i, to: i + 1})
		i++
	}
	return items
}

func isASCIIWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isLetter(w[i]) {
			return false
		}
	}
	return true
}

// idDigits pads a number to the four digits of an id, or returns "" when
// it cannot be one.
func idDigits(s string) string {
	for len(s) > 4 && s[0] == '0' {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 4 {
		return ""
	}
	return strings.Repeat("0", 4-len(s)) + s
}

// findChargerRefs finds charger ids in toks, marking the tokens it uses.
func findChargerRefs(toks []token, used []bool, permissive bool) []string {
	items := idItems(toks, permissive)
	var refs []string
	add := func(r string) {
		for _, x := range refs {
			if x == r {
				return
			}
		}
		refs = append(refs, r)
	}
	next := func(k int) int { // skip one optional dash
		if k < len(items) && items[k].kind == tkDash {
			return k + 1
		}
		return k
	}
	isNum := func(k int) bool {
		return k < len(items) && items[k].kind == tkNum && !used[items[k].from] && !followedByUnit(toks, items[k].from)
	}
	for k := 0; k < len(items); k++ {
		it := items[k]
		if it.kind != tkWord {
			continue
		}
		// NET-CITY-NNNN
		k2 := next(k + 1)
		if k2 < len(items) && items[k2].kind == tkWord {
			k3 := next(k2 + 1)
			if isNum(k3) && (it.strong || items[k2].strong || k2 > k+1 || len(items[k3].val) >= 2) {
				if d := idDigits(items[k3].val); d != "" {
					add(it.val + "-" + items[k2].val + "-" + d)
					used[items[k3].from] = true
					k = k3
					continue
				}
			}
		}
		// CITY-NNNN
		if isNum(k2) {
			num := items[k2].val
			if it.strong || k2 > k+1 || len(num) >= 2 {
				if d := idDigits(num); d != "" {
					add(it.val + "-" + d)
					used[items[k2].from] = true
					k = k2
				}
			}
		}
	}
	// a number after a cue: "charger 42", "station number forty two", "#12"
	for i, t := range toks {
		if !(t.kind == tkWord && chargerCues[t.w] || t.kind == tkHash) {
			continue
		}
		j := i + 1
		for j < len(toks) && (toks[j].kind == tkHash || toks[j].kind == tkWord && (chargerCues[toks[j].w] || toks[j].w == "is" || toks[j].w == "es")) {
			j++
		}
		if j < len(toks) && toks[j].kind == tkNum && !used[j] && !followedByUnit(toks, j) {
			if t.w == "borne" && len(toks[j].w) == 1 {
				continue // "borne 2" is a connector
			}
			if d := idDigits(toks[j].w); d != "" {
				add(d)
				used[j] = true
			}
		}
	}
	// a bare four-digit number that is nothing else
	for j, t := range toks {
		if t.kind != tkNum || used[j] || len(t.w) != 4 || followedByUnit(toks, j) {
			continue
		}
		if j > 0 && (toks[j-1].kind == tkPunct && toks[j-1].w == "." || toks[j-1].kind == tkDash) {
			continue
		}
		if !t.spoken && t.w[0] != '0' && (t.w[:2] == "19" || t.w[:2] == "20") {
			continue // most likely a year
		}
		add(t.w)
		used[j] = true
	}
	return refs
}

// vehicles maps folded word sequences (numbers as digits, dashes dropped)
// to a canonical make and model; longer patterns win.
var vehicles = [][2]string{
	{"tesla model 3", "Tesla Model 3"}, {"model 3", "Tesla Model 3"}, {"tesla model y", "Tesla Model Y"}, {"model y", "Tesla Model Y"},
	{"tesla model s", "Tesla Model S"}, {"model s", "Tesla Model S"}, {"tesla model x", "Tesla Model X"}, {"model x", "Tesla Model X"},
	{"cybertruck", "Tesla Cybertruck"}, {"tesla", "Tesla"}, {"telsa", "Tesla"},
	{"chevy bolt euv", "Chevrolet Bolt EUV"}, {"bolt euv", "Chevrolet Bolt EUV"}, {"chevy bolt", "Chevrolet Bolt"}, {"chevrolet bolt", "Chevrolet Bolt"},
	{"bolt", "Chevrolet Bolt"}, {"equinox ev", "Chevrolet Equinox EV"}, {"blazer ev", "Chevrolet Blazer EV"}, {"silverado ev", "Chevrolet Silverado EV"},
	{"ioniq 5", "Hyundai Ioniq 5"}, {"ionic 5", "Hyundai Ioniq 5"}, {"ioniq 6", "Hyundai Ioniq 6"}, {"ionic 6", "Hyundai Ioniq 6"},
	{"ioniq", "Hyundai Ioniq"}, {"ionic", "Hyundai Ioniq"}, {"kona", "Hyundai Kona Electric"},
	{"ev 6", "Kia EV6"}, {"ev 9", "Kia EV9"}, {"niro", "Kia Niro EV"},
	{"f 150 lightning", "Ford F-150 Lightning"}, {"f 150", "Ford F-150 Lightning"}, {"lightning", "Ford F-150 Lightning"},
	{"mustang mach e", "Ford Mustang Mach-E"}, {"mach e", "Ford Mustang Mach-E"}, {"mache", "Ford Mustang Mach-E"},
	{"nissan leaf", "Nissan Leaf"}, {"leaf", "Nissan Leaf"}, {"ariya", "Nissan Ariya"},
	{"vw id 4", "Volkswagen ID.4"}, {"id 4", "Volkswagen ID.4"}, {"r 1 t", "Rivian R1T"}, {"r 1 s", "Rivian R1S"}, {"rivian", "Rivian"},
	{"polestar 2", "Polestar 2"}, {"polestar", "Polestar"}, {"bmw i 4", "BMW i4"}, {"i 4", "BMW i4"}, {"bmw ix", "BMW iX"},
	{"e tron", "Audi e-tron"}, {"etron", "Audi e-tron"}, {"taycan", "Porsche Taycan"}, {"lyriq", "Cadillac Lyriq"},
	{"hummer ev", "GMC Hummer EV"}, {"lucid air", "Lucid Air"}, {"bz 4 x", "Toyota bZ4X"}, {"solterra", "Subaru Solterra"},
	{"xc 40", "Volvo XC40 Recharge"}, {"ex 30", "Volvo EX30"}, {"prologue", "Honda Prologue"}, {"i pace", "Jaguar I-Pace"},
	{"ipace", "Jaguar I-Pace"}, {"eqs", "Mercedes EQS"}, {"eqb", "Mercedes EQB"}, {"eqe", "Mercedes EQE"},
	{"mini cooper se", "Mini Cooper SE"}, {"kia", "Kia"}, {"hyundai", "Hyundai"}, {"nissan", "Nissan"}, {"chevy", "Chevrolet"},
	{"volkswagen", "Volkswagen"}, {"vw", "Volkswagen"}, {"bmw", "BMW"}, {"audi", "Audi"}, {"porsche", "Porsche"}, {"volvo", "Volvo"},
	{"mercedes", "Mercedes"}, {"ford", "Ford"},
}

var vehiclePatterns = func() [][]string {
	ps := make([][]string, len(vehicles))
	for i, v := range vehicles {
		ps[i] = strings.Fields(v[0])
	}
	return ps
}()

func findVehicle(toks []token) string {
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.kind == tkWord || t.kind == tkNum {
			words = append(words, t.w)
		}
	}
	best, bestLen := "", 0
	for i := range words {
		for p, pat := range vehiclePatterns {
			if len(pat) <= bestLen || i+len(pat) > len(words) {
				continue
			}
			ok := true
			for k, w := range pat {
				if words[i+k] != w {
					ok = false
					break
				}
			}
			if ok {
				best, bestLen = vehicles[p][1], len(pat)
			}
		}
		if best != "" && bestLen >= 2 {
			break
		}
	}
	return best
}

// landmarks are shops and places drivers name a site by (folded, one or
// two words).
var landmarks = wordSet(`costco walmart target walgreens kroger safeway ikea cvs heb meijer publix wegmans starbucks mcdonalds tim hortons canadian tire iga provigo maxi couche tard petro canada esso shell chevron circle k mall centre d achat centre commercial centro comercial airport aeroport aeropuerto hospital hopital university universite universidad library bibliotheque biblioteca hotel depanneur supermarket supermarche supermercado whole foods home depot best buy trader joes metro plaza casino stadium`)

var landmarkPairs = wordSet(`tim_hortons canadian_tire couche_tard petro_canada circle_k whole_foods home_depot best_buy trader_joes centre_commercial centro_comercial`)

var streetSuffixes = wordSet(`street st avenue ave road rd boulevard blvd drive dr lane ln highway hwy parkway pkwy`)
var streetPrefixes = wordSet(`rue boulevard boul blvd avenue av chemin route rang autoroute calle avenida carretera camino bulevar`)
var knownCities = wordSet(`toronto montreal laval quebec sherbrooke gatineau ottawa levis longueuil brossard terrebonne trois rivieres vancouver calgary edmonton winnipeg halifax austin fremont houston dallas phoenix denver seattle portland miami chicago boston atlanta oakland sacramento fresno tucson orlando tampa brooklyn queens newark`)
var knownCityPairs = wordSet(`san_antonio san_jose san_diego los_angeles new_york el_paso las_vegas san_francisco trois_rivieres santa_ana`)

// placeStop are words that end a place phrase.
var placeStop = wordSet(`the a an on at by near in of to from and or but is it its my i la le les de des du un une el los las en y o a au aux et pis ou mais est sur pres cerca por para con que qui charger station borne cargador one sont toutes tous esta estan are was no not pas`)

func findPlace(toks []token) string {
	// words only, with their token index
	type w struct {
		s, o string
		i    int
	}
	var ws []w
	for i, t := range toks {
		if t.kind == tkWord || t.kind == tkNum {
			ws = append(ws, w{t.w, t.o, i})
		}
	}
	phrase := func(a, b int) string { // words a..b-1 with original text
		return joinOrig(toks[ws[a].i : ws[b-1].i+1])
	}
	city := func(k int) int { // length of a city at ws[k], 0 if none
		if k >= len(ws) {
			return 0
		}
		if k+1 < len(ws) && knownCityPairs[ws[k].s+"_"+ws[k+1].s] {
			return 2
		}
		if knownCities[ws[k].s] {
			return 1
		}
		if o := ws[k].o; o != "" && o[0] >= 'A' && o[0] <= 'Z' && !placeStop[ws[k].s] && len(o) > 2 {
			return 1
		}
		return 0
	}
	// streets
	street := func() (int, int) {
		for k := range ws {
			s := ws[k].s
			if streetSuffixes[s] && k > 0 && !placeStop[ws[k-1].s] {
				a := k
				for a > 0 && k-a < 3 && !placeStop[ws[a-1].s] && !chargerCues[ws[a-1].s] && !landmarks[ws[a-1].s] {
					a--
				}
				if a < k {
					return a, k + 1
				}
			}
			if streetPrefixes[s] && k+1 < len(ws) && !placeStop[ws[k+1].s] {
				b := k + 1
				for b < len(ws) && b-k <= 2 && !placeStop[ws[b].s] && !streetPrefixes[ws[b].s] {
					b++
				}
				return k, b
			}
		}
		return -1, -1
	}
	sa, sb := street()
	for k := range ws {
		n := 0
		if k+1 < len(ws) && landmarkPairs[ws[k].s+"_"+ws[k+1].s] {
			n = 2
		} else if landmarks[ws[k].s] {
			n = 1
		}
		if n == 0 {
			continue
		}
		end := k + n
		// "Walmart in Fremont", "costco de laval", "walmart en la calle main"
		if end < len(ws) {
			switch ws[end].s {
			case "in", "de", "a", "en", "at", "on", "sur", "du", "off":
				if c := city(end + 1); c > 0 {
					end += 1 + c
				}
			}
		}
		if sa >= 0 && sa >= end && sa-end <= 3 {
			end = sb
		}
		return phrase(k, end)
	}
	if sa >= 0 {
		return phrase(sa, sb)
	}
	for k := range ws {
		switch ws[k].s {
		case "in", "a", "en", "near", "pres", "cerca":
			if c := city(k + 1); c > 0 && (knownCities[ws[k+1].s] || c == 2 && knownCityPairs[ws[k+1].s+"_"+ws[k+2].s]) {
				return phrase(k+1, k+1+c)
			}
		}
	}
	return ""
}

// String renders slots for debugging.
func (s Slots) String() string {
	return fmt.Sprintf("refs=%v conn=%d veh=%q card=%q place=%q", s.ChargerRefs, s.Connector, s.Vehicle, s.CardLast4, s.Place)
}
