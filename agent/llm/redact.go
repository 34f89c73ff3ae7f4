package llm

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// What redact puts in place of what it removes.
const (
	cardMark  = "[card]"
	phoneMark = "[phone]"
	emailMark = "[email]"
)

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// A card number: 13 to 19 digits, in groups or not.
	panRe = regexp.MustCompile(`\b\d(?:[ \-]?\d){12,18}\b`)
	// A North American number with or without +1 and separators, or an
	// international one written with +.
	phoneRe = regexp.MustCompile(`(?:\+?1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\b\d{3}[ .\-]?)\d{3}[ .\-]?\d{4}\b|\+\d[\d .\-]{7,16}\d\b`)
	// digitsRe finds the runs that may be a card's last digits.
	digitsRe = regexp.MustCompile(`\d{4,}`)
	// cardCueRe matches text that ends with a card word and at most a few
	// filler words, so that digits right after it are a card's: "card
	// ending in 4242", "ma carte finit par 4242", "tarjeta terminada en
	// 4242", "last 4 digits are 4242".
	cardCueRe = regexp.MustCompile(`(?i)\b(?:` + cardCues + `)\b(?:[\s:#,.'()-]+(?:` + cardCues + `|` + cardFillers + `)\b)*[\s:#,.'()-]*$`)
)

const (
	cardCues    = `card|carte|tarjeta|visa|master ?card|amex|debit|débit|credit|crédit|ending|ends|last (?:4|four)|derniers|finit|finissant|termin\w*|últimos|ultimos`
	cardFillers = `in|with|by|is|are|was|the|my|its|it's|digits?|numbers?|no|four|4|par|en|avec|est|sont|les|des|de|ma|mon|chiffres?|numéros?|quatre|con|es|son|los|las|mi|su|dígitos|digitos|cuatro|se`
)

// spelledDigits are digit words of the three languages, as speech-to-text
// writes them.
var spelledDigits = map[string]bool{
	"zero": true, "oh": true, "one": true, "two": true, "three": true, "four": true, "five": true, "six": true, "seven": true, "eight": true, "nine": true,
	"zéro": true, "un": true, "deux": true, "trois": true, "quatre": true, "cinq": true, "sept": true, "huit": true, "neuf": true,
	"cero": true, "uno": true, "dos": true, "tres": true, "cuatro": true, "cinco": true, "seis": true, "siete": true, "ocho": true, "nueve": true,
}

// redact removes what identifies a person or pays for something before a
// message leaves for the language model: e-mail addresses, card numbers
// and a card's last digits, phone numbers, and the same said as words in a
// voice transcript. Charger ids ("MPL-TOR-0042") and other numbers are
// kept.
func redact(s string) string {
	s = emailRe.ReplaceAllString(s, emailMark)
	s = panRe.ReplaceAllString(s, cardMark)
	s = phoneRe.ReplaceAllString(s, phoneMark)
	s = redactLast4(s)
	return redactSpelled(s)
}

// redactLast4 replaces a run of four or more digits that follows a card
// word, unless it ends a charger id or another code ("MPL-TOR-0042").
func redactLast4(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range digitsRe.FindAllStringIndex(s, -1) {
		if m[0] > 0 && isIDChar(s[m[0]-1]) || m[1] < len(s) && isIDChar(s[m[1]]) {
			continue
		}
		if !cardCueRe.MatchString(tail(s[:m[0]], 48)) {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(cardMark)
		last = m[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isIDChar(c byte) bool {
	return c == '-' || c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// redactSpelled replaces digits said as words: seven or more in a row are
// a phone or card number, four or more after a card word a card's last
// digits.
func redactSpelled(s string) string {
	words := strings.Fields(s)
	out := make([]string, 0, len(words))
	changed := false
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && spelledDigits[strings.ToLower(strings.Trim(words[j], ".,;:!?"))] {
			j++
		}
		n := j - i
		switch {
		case n >= 7:
			out = append(out, phoneMark)
		case n >= 4 && cardCueRe.MatchString(tail(strings.Join(out, " ")+" ", 48)):
			out = append(out, cardMark)
		default:
			if n == 0 {
				j = i + 1
			}
			out = append(out, words[i:j]...)
			i = j
			continue
		}
		changed = true
		i = j
	}
	if !changed {
		return s
	}
	return strings.Join(out, " ")
}

// tail returns the last n bytes of s or fewer, cut at a character.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}
