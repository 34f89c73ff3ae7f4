package twilio

import (
	"regexp"
	"strings"
)

// Spoken turns the agent's written reply into words for a phone call in
// lang (en, fr or es): no links (the sentence holding one becomes "I've
// texted you the link" when linkTexted, else it is left out), no markdown
// or lists, charger ids read out character by character ("M P L, T O R,
// zero zero four two"), long references cut to their last characters,
// units and numbers in words. It is a pure function.
func Spoken(text, lang string, linkTexted bool) string {
	lang = spokenLang(lang)
	w := words[lang]
	var sentences []string
	for _, line := range strings.Split(text, "\n") {
		line = listMark.ReplaceAllString(strings.TrimSpace(line), "")
		line = strings.TrimLeft(line, "# ")
		for _, m := range []string{"**", "__", "`"} {
			line = strings.ReplaceAll(line, m, "")
		}
		if line == "" {
			continue
		}
		if !strings.ContainsAny(line[len(line)-1:], ".?!:") {
			line += "."
		}
		sentences = append(sentences, splitSentences(line)...)
	}
	var out []string
	texted := false
	for _, s := range sentences {
		if urlRe.MatchString(s) {
			if linkTexted && !texted {
				out = append(out, w.texted)
				texted = true
			}
			continue
		}
		out = append(out, speakSentence(s, lang))
	}
	return strings.Join(out, " ")
}

// Sentences splits spoken text into its sentences, each with its end mark.
func Sentences(text string) []string {
	var out []string
	for _, s := range splitSentences(strings.TrimSpace(text)) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var (
	urlRe    = regexp.MustCompile(`(?i)\bhttps?://\S+|\bwww\.\S+`)
	listMark = regexp.MustCompile(`^(?:[-*•]\s+|\d{1,2}[.)]\s+)`)
	// chargerID is a label id: letters, then one to three groups of
	// letters or digits, joined by hyphens, holding at least one digit.
	chargerID = regexp.MustCompile(`\b[A-Z]{1,5}(?:-[A-Z0-9]{1,6}){1,3}\b`)
	// reference is a long generated id (a ticket): a prefix and 12 or
	// more letters and digits.
	reference = regexp.MustCompile(`\b[A-Za-z]{1,5}-[0-9a-fA-F]{12,}\b`)
	number    = regexp.MustCompile(`\b\d+(?:[.,]\d+)?\b`)
	spaces    = regexp.MustCompile(`\s+`)
	// sentenceEnd is where a sentence ends: its mark, then a space.
	sentenceEnd = regexp.MustCompile(`[.?!]["»”]?\s+`)
)

func splitSentences(s string) []string {
	var out []string
	for {
		loc := sentenceEnd.FindStringIndex(s)
		if loc == nil {
			break
		}
		// A decimal point or an abbreviation with no space after is never
		// matched (the pattern needs a space).
		out = append(out, strings.TrimSpace(s[:loc[1]]))
		s = s[loc[1]:]
	}
	if s = strings.TrimSpace(s); s != "" {
		out = append(out, s)
	}
	return out
}

// speakSentence renders one sentence without links.
func speakSentence(s, lang string) string {
	w := words[lang]
	s = strings.ReplaceAll(s, "*", "")
	s = strings.NewReplacer("«\u00a0", "", "\u00a0»", "", "«", "", "»", "", "“", "", "”", "", "\"", "",
		" — ", ", ", "—", ", ", " – ", ", ", ";", ",", "(", ", ", ")", ",", "\u00a0", " ").Replace(s)
	s = reference.ReplaceAllStringFunc(s, func(id string) string {
		return w.ending + " " + spell(id[len(id)-4:], lang)
	})
	s = chargerID.ReplaceAllStringFunc(s, func(id string) string {
		if !strings.ContainsAny(id, "0123456789") {
			return id
		}
		parts := strings.Split(id, "-")
		for i, p := range parts {
			parts[i] = spellGroup(p, lang)
		}
		return strings.Join(parts, ", ")
	})
	s = timeRe.ReplaceAllString(s, "$1 $2")
	for _, re := range []*regexp.Regexp{unitRe, percentRe} {
		s = re.ReplaceAllStringFunc(s, func(u string) string {
			m := re.FindStringSubmatch(u)
			return m[1] + " " + w.units[m[2]]
		})
	}
	s = number.ReplaceAllStringFunc(s, func(n string) string { return sayNumber(n, lang) })
	// Tidy what the replacements leave: doubled commas, a comma before an
	// end mark or at the start, doubled spaces.
	s = spaces.ReplaceAllString(s, " ")
	s = strings.NewReplacer(" ,", ",", ",,", ",", ", .", ".", ",.", ".", ", ?", "?", ",?", "?", ", !", "!", ",!", "!", ", :", ":", ",:", ":").Replace(s)
	s = strings.TrimSpace(strings.TrimLeft(s, ", "))
	s = strings.TrimSuffix(s, ",")
	if strings.HasSuffix(s, ":") {
		s = strings.TrimSuffix(s, ":") + "."
	}
	return s
}

var (
	unitRe    = regexp.MustCompile(`\b(\d+(?:[.,]\d+)?)\s?(kWh|kW|km|mi|min|h)\b`)
	percentRe = regexp.MustCompile(`\b(\d+(?:[.,]\d+)?)\s?(%)`)
	// timeRe is a clock time: its colon is not read out.
	timeRe = regexp.MustCompile(`\b(\d{1,2}):(\d{2})\b`)
)

// spellGroup reads one group of a charger id: letters one by one, digits
// one by one when the group starts with 0 or is long, else as a number.
func spellGroup(g, lang string) string {
	allDigits := strings.Trim(g, "0123456789") == ""
	if allDigits && g[0] != '0' && len(g) <= 2 {
		return sayInt(atoi(g), lang)
	}
	return spell(g, lang)
}

// spell reads letters and digits one by one.
func spell(s, lang string) string {
	var out []string
	for _, r := range strings.ToUpper(s) {
		if r >= '0' && r <= '9' {
			out = append(out, words[lang].ones[r-'0'])
		} else {
			out = append(out, string(r))
		}
	}
	return strings.Join(out, " ")
}

// sayNumber reads a number: up to three digits as a number, a decimal
// with its point, and longer runs (a phone number, card digits) digit by
// digit.
func sayNumber(n, lang string) string {
	w := words[lang]
	if i := strings.IndexAny(n, ".,"); i >= 0 {
		return sayNumber(n[:i], lang) + " " + w.point + " " + spell(n[i+1:], lang)
	}
	if len(n) > 3 || (len(n) > 1 && n[0] == '0') {
		return spell(n, lang)
	}
	return sayInt(atoi(n), lang)
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// sayInt reads 0 to 999 in words.
func sayInt(n int, lang string) string {
	w := words[lang]
	switch lang {
	case "fr":
		return frInt(n)
	case "es":
		return esInt(n)
	}
	switch {
	case n < 20:
		return w.ones[n]
	case n < 100:
		t := enTens[n/10]
		if n%10 != 0 {
			t += "-" + w.ones[n%10]
		}
		return t
	default:
		t := w.ones[n/100] + " hundred"
		if n%100 != 0 {
			t += " " + sayInt(n%100, lang)
		}
		return t
	}
}

var enTens = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

func frInt(n int) string {
	ones := words["fr"].ones
	tens := []string{"", "dix", "vingt", "trente", "quarante", "cinquante", "soixante"}
	switch {
	case n < 17:
		return ones[n]
	case n < 20:
		return "dix-" + ones[n-10]
	case n < 70:
		t := tens[n/10]
		switch n % 10 {
		case 0:
			return t
		case 1:
			return t + "-et-un"
		}
		return t + "-" + ones[n%10]
	case n < 80:
		if n == 71 {
			return "soixante-et-onze"
		}
		return "soixante-" + frInt(n-60)
	case n < 100:
		if n == 80 {
			return "quatre-vingts"
		}
		return "quatre-vingt-" + frInt(n-80)
	default:
		h := "cent"
		if n/100 > 1 {
			h = ones[n/100] + " cent"
			if n%100 == 0 {
				h += "s"
			}
		}
		if n%100 != 0 {
			h += " " + frInt(n%100)
		}
		return h
	}
}

func esInt(n int) string {
	ones := words["es"].ones
	small := []string{"diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve",
		"veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"}
	tens := []string{"", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"}
	hundreds := []string{"", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos"}
	switch {
	case n < 10:
		return ones[n]
	case n < 30:
		return small[n-10]
	case n < 100:
		if n%10 == 0 {
			return tens[n/10]
		}
		return tens[n/10] + " y " + ones[n%10]
	case n == 100:
		return "cien"
	default:
		h := hundreds[n/100]
		if n%100 != 0 {
			h += " " + esInt(n%100)
		}
		return h
	}
}

// spokenWords are the words Spoken adds, by language.
type spokenWords struct {
	ones   []string
	point  string
	ending string // "ending in", before the last characters of a reference
	texted string
	units  map[string]string
}

var words = map[string]spokenWords{
	"en": {
		ones:   []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"},
		point:  "point",
		ending: "ending in",
		texted: "I've texted you the link.",
		units:  map[string]string{"kWh": "kilowatt hours", "kW": "kilowatts", "km": "kilometres", "mi": "miles", "min": "minutes", "h": "hours", "%": "percent"},
	},
	"fr": {
		ones:   []string{"zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze", "treize", "quatorze", "quinze", "seize"},
		point:  "virgule",
		ending: "qui se termine par",
		texted: "Je vous ai envoyé le lien par texto.",
		units:  map[string]string{"kWh": "kilowattheures", "kW": "kilowatts", "km": "kilomètres", "mi": "milles", "min": "minutes", "h": "heures", "%": "pour cent"},
	},
	"es": {
		ones:   []string{"cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"},
		point:  "punto",
		ending: "que termina en",
		texted: "Le envié el enlace por mensaje de texto.",
		units:  map[string]string{"kWh": "kilovatios hora", "kW": "kilovatios", "km": "kilómetros", "mi": "millas", "min": "minutos", "h": "horas", "%": "por ciento"},
	},
}

// spokenLang is lang if it is one of the call's languages, else English.
func spokenLang(lang string) string {
	lang = strings.ToLower(lang)
	if len(lang) > 2 {
		lang = lang[:2]
	}
	if _, ok := words[lang]; ok {
		return lang
	}
	return "en"
}
