package agent

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/chargedesk/chargedesk/agent/nlu"
)

// dialogue is the conversation as a conversation, apart from the problem
// it is about: the question the agent waits on, how often it asked it,
// whether the language is settled, and what the agent said last. It is
// stored with the rest of the conversation's data (its fields are
// promoted into convData's JSON).
//
// Its rules:
//   - every question sets what the agent expects (Ask); a short answer
//     ("1", "yes", "2794", "the first one") fills that first;
//   - the same question is never put the same way twice in a row: the
//     second time it comes in other words with why it is needed, and the
//     third time the agent takes another path (see session.ask);
//   - the conversation's language is kept unless the driver clearly
//     writes a sentence in another one; numbers, ids and "ok" never move
//     it (language).
type dialogue struct {
	// Ask is what the agent waits for from the driver.
	Ask string `json:"ask,omitempty"`
	// Asked counts how often Ask was asked in a row.
	Asked int `json:"asked,omitempty"`
	// LangSet is set once the driver wrote a sentence the language of
	// which was clear: from then on only another clear sentence moves it.
	LangSet bool `json:"langSet,omitempty"`
	// Said are the reply keys of the agent's last answer.
	Said []string `json:"said,omitempty"`
}

// expect records that the agent asks what, and returns how many times in a
// row it has now asked it.
func (d *dialogue) expect(what string) int {
	if d.Ask == what {
		d.Asked++
	} else {
		d.Ask, d.Asked = what, 1
	}
	return d.Asked
}

// settle forgets the question: it was answered or is moot.
func (d *dialogue) settle() { d.Ask, d.Asked = "", 0 }

// settleIf forgets the question when it is one of whats.
func (d *dialogue) settleIf(whats ...string) {
	for _, w := range whats {
		if d.Ask == w {
			d.settle()
			return
		}
	}
}

// saidLast reports whether the agent's last answer had the reply key.
func (d *dialogue) saidLast(key string) bool {
	for _, k := range d.Said {
		if k == key {
			return true
		}
	}
	return false
}

// Language thresholds: a settled language moves only for a message of
// at least switchWords words of letters whose language is clear
// (switchConfidence); before that, any message with a word of letters
// decides it.
const (
	switchWords      = 4
	switchConfidence = 0.9
	settleWords      = 3
)

// language returns the conversation's language after the driver's
// message: cur unless the message says clearly it is in another one.
func (d *dialogue) language(cur string, u nlu.Result, text string) string {
	if l := askedLanguage(text); l != "" {
		d.LangSet = true
		return l
	}
	if u.Lang == "" {
		return cur
	}
	n := letterWords(text)
	lang := normLang(u.Lang)
	switch {
	case n == 0:
		return cur
	case !d.LangSet:
		if n >= settleWords {
			d.LangSet = true
		}
		return lang
	case lang != cur && n >= switchWords && u.LangConfidence >= switchConfidence:
		return lang
	}
	return cur
}

// languageNames are the names of the three languages in each of them.
var languageNames = map[string]string{"english": "en", "anglais": "en", "ingles": "en", "french": "fr", "francais": "fr",
	"frances": "fr", "spanish": "es", "espagnol": "es", "espanol": "es", "castellano": "es"}

// askedLanguage returns the language the driver asks to go on in ("can we
// continue in English?", "en français svp", "¿habla español?", a bare
// "Español"), or "".
func askedLanguage(text string) string {
	ws := answerWords(text)
	if len(ws) > 14 {
		return ""
	}
	for i, w := range ws {
		l, ok := languageNames[w]
		if !ok {
			l = languageNameNear(w)
			ok = l != ""
		}
		if !ok {
			continue
		}
		if len(ws) == 1 || i > 0 && requestBefore[ws[i-1]] {
			return l
		}
	}
	return ""
}

// languageNameNear returns the language whose name w is one typo from
// ("Eglish", "fracais", as nearWord reads typos), or "".
func languageNameNear(w string) string {
	if len(w) < 5 {
		return ""
	}
	for name, l := range languageNames {
		if nearWord(w, name) {
			return l
		}
	}
	return ""
}

// requestBefore are the words before a language's name that make it a
// request for that language.
var requestBefore = map[string]bool{"in": true, "speak": true, "en": true, "parle": true, "parlez": true, "parler": true,
	"habla": true, "hablar": true, "hablas": true, "hablan": true, "speaks": true, "speaking": true}

// letterWords counts the words of text made of letters (two or more):
// numbers, charger ids and card digits do not say a language.
func letterWords(text string) int {
	n := 0
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '\'' }) {
		if strings.ContainsFunc(w, unicode.IsDigit) || len([]rune(w)) < 2 {
			continue
		}
		n++
	}
	return n
}

// Short answers. People answer a question with a word or two; these read
// them in English, Québec French and US Spanish, on folded text (lower
// case, no accents).

// answerWords splits folded text into its words, keeping digits and
// apostrophes inside words.
func answerWords(text string) []string {
	return strings.FieldsFunc(fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
}

var (
	yesWords = map[string]bool{"yes": true, "yeah": true, "yep": true, "yup": true, "ya": true, "sure": true, "correct": true,
		"right": true, "affirmative": true, "done": true, "plugged": true, "oui": true, "ouais": true, "ouaip": true, "exact": true,
		"exactement": true, "certain": true, "fait": true, "branche": true, "si": true, "claro": true, "correcto": true, "listo": true,
		"exacto": true, "conectado": true, "enchufado": true, "absolutely": true, "definitely": true, "dale": true,
		"ok": true, "okay": true, "please": true, "send": true, "vale": true, "bueno": true, "d'accord": true, "daccord": true}
	noWords = map[string]bool{"no": true, "nope": true, "nah": true, "non": true, "not": true, "pas": true, "never": true,
		"jamais": true, "nunca": true, "todavia": true, "don't": true, "dont": true}
	thanksWords = map[string]bool{"thanks": true, "thank": true, "thx": true, "ty": true, "merci": true, "gracias": true,
		"bye": true, "goodbye": true, "cheers": true, "adios": true, "ciao": true, "bonne": true, "appreciate": true, "great": true,
		"perfect": true, "parfait": true, "genial": true, "perfecto": true, "excelente": true, "super": true, "awesome": true}
	whyWords = [][]string{{"why"}, {"what", "for"}, {"pourquoi"}, {"por", "que"}, {"para", "que"}, {"how", "come"}}
	// whatNowWords ask what to do or where to charge meanwhile.
	whatNowWords = [][]string{{"what", "now"}, {"what", "do", "i", "do"}, {"what", "should", "i", "do"}, {"what", "can", "i", "do"},
		{"where", "can", "i", "charge"}, {"where", "do", "i", "charge"}, {"where", "should", "i", "go"}, {"where", "can", "i", "go"},
		{"je", "fais", "quoi"}, {"que", "faire"}, {"qu", "est", "ce", "que", "je", "fais"}, {"que", "dois", "je", "faire"}, {"ou", "recharger"},
		{"ou", "est", "ce", "que", "je", "peux"}, {"ou", "puis", "je"}, {"ahora", "que"}, {"que", "hago"}, {"que", "puedo", "hacer"},
		{"donde", "cargo"}, {"donde", "puedo", "cargar"}, {"a", "donde", "voy"}}
)

// asksWhatNow reports whether the driver asks what to do now or where to
// charge meanwhile.
func asksWhatNow(text string) bool { return matchPhrases(text, whatNowWords) }

// yesNo reads an answer to a yes/no question: +1 yes, -1 no, 0 neither.
// Only short messages count (ten words at most): a longer one says
// something else.
func yesNo(text string) int {
	ws := answerWords(text)
	if len(ws) == 0 || len(ws) > 10 {
		return 0
	}
	for i, w := range ws {
		// "pas encore", "not yet", "todavia no" are no; "no" inside "no
		// problem" is not.
		if noWords[w] && !(w == "no" && i+1 < len(ws) && (ws[i+1] == "problem" || ws[i+1] == "worries" || ws[i+1] == "hay")) {
			return -1
		}
	}
	for _, w := range ws {
		if yesWords[w] {
			return 1
		}
	}
	if len(ws) >= 2 && (ws[0] == "i" && (ws[1] == "did" || ws[1] == "am" || ws[1] == "have") ||
		ws[0] == "c'est" && ws[1] == "fait" || ws[0] == "ya" && len(ws) == 2) {
		return 1
	}
	return 0
}

// thanksOnly reports whether the message thanks or says goodbye and asks
// nothing more (short, with a thank-you word, no question mark, no
// problem word).
func thanksOnly(text string) bool {
	ws := answerWords(text)
	if len(ws) == 0 || len(ws) > 8 || strings.Contains(text, "?") || stillBroken(text) {
		return false
	}
	for _, w := range ws {
		if thanksWords[w] {
			return true
		}
	}
	return false
}

// asksWhy reports whether the driver asks why something is needed.
func asksWhy(text string) bool {
	return matchPhrases(text, whyWords)
}

// numberWords are the numbers drivers say instead of digits, and the
// ordinals of a choice.
// ordinalWords are the ordinals of numberWords.
var ordinalWords = map[string]bool{"first": true, "second": true, "third": true, "fourth": true, "premier": true, "premiere": true,
	"deuxieme": true, "seconde": true, "troisieme": true, "quatrieme": true, "primero": true, "primera": true, "primer": true,
	"segundo": true, "segunda": true, "tercero": true, "tercera": true, "cuarto": true, "cuarta": true}

var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
	"uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
	"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
	"premier": 1, "premiere": 1, "deuxieme": 2, "seconde": 2, "troisieme": 3, "quatrieme": 4,
	"primero": 1, "primera": 1, "primer": 1, "segundo": 2, "segunda": 2, "tercero": 3, "tercera": 3, "cuarto": 4, "cuarta": 4,
}

// smallNumber reads a short answer that is one small number: "1", "#2",
// "connector 2", "the second one", "le deux", "el primero". It reports
// false when the message has no number or more than one, or is long.
func smallNumber(text string) (int, bool) {
	ws := answerWords(text)
	if len(ws) == 0 || len(ws) > 6 {
		return 0, false
	}
	found, n := 0, 0
	for i, w := range ws {
		if (w == "one" || w == "une" || w == "uno" || w == "una") && i > 0 && ordinalWords[ws[i-1]] {
			continue // "the second one"
		}
		v, ok := numberWords[w]
		if !ok {
			if d, err := strconv.Atoi(w); err == nil && len(w) <= 2 {
				v, ok = d, true
			}
		}
		if ok && v != n {
			found++
			n = v
		}
	}
	if found != 1 || n < 1 {
		return 0, false
	}
	return n, true
}
