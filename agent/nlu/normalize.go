package nlu

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldRune lowercases r and strips the diacritics used in English, French
// and Spanish, so "Déverrouillé" and "deverrouille" compare equal.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	r = unicode.ToLower(r)
	switch r {
	case 'à', 'á', 'â', 'ä', 'ã', 'å':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ç':
		return 'c'
	case 'ñ':
		return 'n'
	case 'ÿ', 'ý':
		return 'y'
	case 'œ':
		return 'o'
	case '’', '‘', 'ʼ':
		return '\''
	case '–', '—', '‐', '‑':
		return '-'
	}
	return r
}

// featureText folds s into the ASCII text the classifier sees: lowercase, no
// diacritics, apostrophes dropped ("won't" → "wont", "j'ai" → "jai"), every
// other character that is not a letter, digit, '$' or '%' turned into one
// space, digits glued to letters split off ("150kw" → "150 kw").
func featureText(s string) string {
	b := make([]byte, 0, len(s)+8)
	space := true
	var prev byte
	for _, r := range s {
		r = foldWidth(r)
		if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
			// Combining marks ("u\u0301nlock") and invisible format
			// characters (zero-width spaces and joiners) would split or
			// hide words.
			continue
		}
		r = foldRune(r)
		switch {
		case r == '\'':
			continue
		case r < utf8.RuneSelf && (isLetter(byte(r)) || isDigit(byte(r)) || r == '$' || r == '%'):
			c := byte(r)
			if !space && (isLetter(c) && isDigit(prev) || isDigit(c) && isLetter(prev)) {
				b = append(b, ' ')
			}
			b = append(b, c)
			prev = c
			space = false
		default:
			if !space {
				b = append(b, ' ')
				space = true
				prev = ' '
			}
		}
	}
	return strings.TrimRight(string(b), " ")
}

// foldWidth maps full-width ASCII forms ("ｕｎｌｏｃｋ") and the
// ideographic space to their ASCII counterparts.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	return r
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// Token kinds of the slot tokenizer.
const (
	tkWord  = iota // letters
	tkNum          // digits (possibly converted from spoken words)
	tkDash         // "-"
	tkHash         // "#"
	tkMoney        // "$"
	tkPct          // "%"
	tkPunct        // sentence punctuation: . , ; : ! ? ( ) "
)

// token is one unit of the slot tokenizer: w is folded, o is the original
// text (for places and for the case of spoken ids), glued is true when no
// space separated it from the previous token ("TOR42", "f-150").
type token struct {
	w, o   string
	kind   int
	glued  bool
	spoken bool // a tkNum converted from words
	upper  bool // the original was all upper case (a typed id)
}

// tokenize splits s into slot tokens: runs of letters, runs of digits, and
// single punctuation marks; letters and digits of one word are split apart.
func tokenize(s string) []token {
	var toks []token
	var cur []byte
	start := -1
	curKind := -1
	glued := false
	flush := func(end int) {
		if curKind < 0 {
			return
		}
		o := s[start:end]
		toks = append(toks, token{w: string(cur), o: o, kind: curKind, glued: glued, upper: curKind == tkWord && strings.ToUpper(o) == o})
		cur = cur[:0]
		curKind = -1
		glued = true
	}
	glued = false
	for i, r := range s {
		f := foldRune(r)
		var k int
		switch {
		case f < utf8.RuneSelf && isLetter(byte(f)):
			k = tkWord
		case f < utf8.RuneSelf && isDigit(byte(f)):
			k = tkNum
		case unicode.IsLetter(f):
			k = tkWord
		case f == '\'':
			flush(i)
			glued = false
			continue
		default:
			flush(i)
			switch f {
			case '-':
				toks = append(toks, token{w: "-", o: s[i : i+utf8.RuneLen(r)], kind: tkDash, glued: glued})
				glued = true
			case '#':
				toks = append(toks, token{w: "#", o: "#", kind: tkHash, glued: glued})
				glued = true
			case '$':
				toks = append(toks, token{w: "$", o: "$", kind: tkMoney, glued: glued})
				glued = true
			case '%':
				toks = append(toks, token{w: "%", o: "%", kind: tkPct, glued: glued})
				glued = true
			case '.', ',', ';', ':', '!', '?', '(', ')', '"', '¿', '¡', '/':
				toks = append(toks, token{w: string(f), o: string(r), kind: tkPunct, glued: glued})
				glued = false
			default:
				glued = false
			}
			continue
		}
		if curKind >= 0 && k != curKind {
			flush(i)
		}
		if curKind < 0 {
			start = i
			curKind = k
		}
		cur = utf8.AppendRune(cur, f)
	}
	flush(len(s))
	return toks
}
