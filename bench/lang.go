package bench

import (
	"strings"
	"unicode"
)

// The benchmark's own language detector, used to grade the language of
// the agent's replies. It counts function words that belong to one of
// English, French and Spanish only; words the languages share ("de",
// "la", "que", "en", "no", "a") count for none.
var stopWords = map[string][]string{
	"en": {"the", "you", "your", "you're", "is", "are", "and", "to", "of", "it", "it's", "i", "i've", "i'll", "can", "what", "which",
		"please", "this", "that", "with", "for", "at", "now", "don't", "can't", "isn't", "couldn't", "won't", "will", "my", "me",
		"there", "here", "have", "has", "been", "from", "charger", "connector", "thanks", "thank", "again", "then", "when", "if",
		"away", "nearest", "available", "we", "they", "be", "or", "an", "by", "so", "any", "anything", "else", "help"},
	"fr": {"le", "les", "des", "du", "vous", "votre", "vos", "est", "et", "pour", "une", "je", "j'ai", "pas", "sur", "borne",
		"avec", "dans", "ou", "ce", "cette", "qui", "puis", "merci", "ne", "il", "elle", "au", "aux", "nous", "mon", "ma", "mes",
		"ai", "été", "être", "suis", "connecteur", "recharge", "billet", "plus", "proche", "quel", "quelle", "c'est", "ça",
		"encore", "déjà", "aussi", "avez", "êtes", "toujours", "moi", "sans", "mais", "à"},
	"es": {"el", "los", "las", "su", "sus", "usted", "es", "y", "para", "una", "un", "cargador", "con", "por", "pero", "está",
		"del", "al", "lo", "le", "mi", "se", "ya", "cuál", "qué", "ahora", "gracias", "conector", "sesión", "está", "este",
		"esta", "ese", "esa", "puede", "tiene", "hay", "muy", "también", "otro", "otra", "más", "cerca", "cercano", "sí",
		"estoy", "fue", "sin", "dígame", "avíseme", "respóndame"},
}

// stopIndex maps a word to the languages it belongs to alone.
var stopIndex = func() map[string]string {
	seen := map[string]map[string]bool{}
	for lang, ws := range stopWords {
		for _, w := range ws {
			if seen[w] == nil {
				seen[w] = map[string]bool{}
			}
			seen[w][lang] = true
		}
	}
	out := map[string]string{}
	for w, langs := range seen {
		if len(langs) == 1 {
			for l := range langs {
				out[w] = l
			}
		}
	}
	return out
}()

// words splits text into lower-case words, apostrophes kept inside them;
// ids and numbers ("T-7b2f99", "CDA-FRE-1234") are not words.
func words(text string) []string {
	text = strings.ToLower(text)
	text = strings.ReplaceAll(text, "’", "'")
	var out []string
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	}) {
		if strings.ContainsFunc(tok, unicode.IsDigit) {
			continue
		}
		out = append(out, strings.FieldsFunc(tok, func(r rune) bool { return r == '-' })...)
	}
	return out
}

// langScores counts each language's function words in text.
func langScores(text string) map[string]int {
	sc := map[string]int{}
	for _, w := range words(text) {
		if l, ok := stopIndex[w]; ok {
			sc[l]++
		}
	}
	return sc
}

// detectLang returns the language text is clearly written in, or "" when
// it is too short or too mixed to tell: the winner needs at least two
// function words and twice as many as any other language.
func detectLang(text string) string {
	sc := langScores(text)
	best, bestN, second := "", 0, 0
	for _, l := range Languages() {
		switch n := sc[l]; {
		case n > bestN:
			second = bestN
			best, bestN = l, n
		case n > second:
			second = n
		}
	}
	if bestN < 2 || bestN < 2*second {
		return ""
	}
	return best
}

// sentences splits a reply into its sentences.
func sentences(text string) []string {
	var out []string
	start := 0
	rs := []rune(text)
	for i, r := range rs {
		end := r == '?' || r == '!' || (r == '.' || r == ':' || r == ';') && (i+1 == len(rs) || rs[i+1] == ' ')
		if end {
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

// foreignSentence returns the first sentence of text clearly written in
// another language than lang (with at least four words), or "".
func foreignSentence(text, lang string) (sentence, in string) {
	for _, s := range sentences(text) {
		if len(words(s)) < 4 {
			continue
		}
		if l := detectLang(s); l != "" && l != lang {
			return s, l
		}
	}
	if l := detectLang(text); l != "" && l != lang {
		return text, l
	}
	return "", ""
}
