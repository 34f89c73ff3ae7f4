package nlu

import "strconv"

// Kinds of number words.
const (
	nkDigit    = iota + 1 // 0..9
	nkTeen                // 10..19 ("dix" composes: dix-sept)
	nkTens                // 20..90
	nkHundred             // the multiplier "hundred", "cent", "cien"
	nkHundreds            // a whole hundreds word: "doscientos"
	nkThousand            // "thousand", "mille", "mil"
)

type numWord struct {
	v    int
	kind int
}

// numberWords maps folded number words of each language to their value.
// Words that are also common words in another language ("once", "un",
// "une", "cent", "tres") are only read in their own language.
var numberWords = map[string]map[string]numWord{
	"en": {
		"zero": {0, nkDigit}, "one": {1, nkDigit}, "two": {2, nkDigit}, "three": {3, nkDigit}, "four": {4, nkDigit},
		"five": {5, nkDigit}, "six": {6, nkDigit}, "seven": {7, nkDigit}, "eight": {8, nkDigit}, "nine": {9, nkDigit},
		"ten": {10, nkTeen}, "eleven": {11, nkTeen}, "twelve": {12, nkTeen}, "thirteen": {13, nkTeen}, "fourteen": {14, nkTeen},
		"fifteen": {15, nkTeen}, "sixteen": {16, nkTeen}, "seventeen": {17, nkTeen}, "eighteen": {18, nkTeen}, "nineteen": {19, nkTeen},
		"twenty": {20, nkTens}, "thirty": {30, nkTens}, "forty": {40, nkTens}, "fourty": {40, nkTens}, "fifty": {50, nkTens},
		"sixty": {60, nkTens}, "seventy": {70, nkTens}, "eighty": {80, nkTens}, "ninety": {90, nkTens},
		"hundred": {100, nkHundred}, "thousand": {1000, nkThousand},
	},
	"fr": {
		"zero": {0, nkDigit}, "un": {1, nkDigit}, "une": {1, nkDigit}, "deux": {2, nkDigit}, "trois": {3, nkDigit},
		"quatre": {4, nkDigit}, "cinq": {5, nkDigit}, "six": {6, nkDigit}, "sept": {7, nkDigit}, "huit": {8, nkDigit}, "neuf": {9, nkDigit},
		"dix": {10, nkTeen}, "onze": {11, nkTeen}, "douze": {12, nkTeen}, "treize": {13, nkTeen}, "quatorze": {14, nkTeen},
		"quinze": {15, nkTeen}, "seize": {16, nkTeen},
		"vingt": {20, nkTens}, "vingts": {20, nkTens}, "trente": {30, nkTens}, "quarante": {40, nkTens}, "cinquante": {50, nkTens},
		"soixante": {60, nkTens}, "septante": {70, nkTens}, "huitante": {80, nkTens}, "nonante": {90, nkTens},
		"cent": {100, nkHundred}, "cents": {100, nkHundred}, "mille": {1000, nkThousand},
	},
	"es": {
		"cero": {0, nkDigit}, "uno": {1, nkDigit}, "una": {1, nkDigit}, "un": {1, nkDigit}, "dos": {2, nkDigit}, "tres": {3, nkDigit},
		"cuatro": {4, nkDigit}, "cinco": {5, nkDigit}, "seis": {6, nkDigit}, "siete": {7, nkDigit}, "ocho": {8, nkDigit}, "nueve": {9, nkDigit},
		"diez": {10, nkTeen}, "once": {11, nkTeen}, "doce": {12, nkTeen}, "trece": {13, nkTeen}, "catorce": {14, nkTeen},
		"quince": {15, nkTeen}, "dieciseis": {16, nkTeen}, "diecisiete": {17, nkTeen}, "dieciocho": {18, nkTeen}, "diecinueve": {19, nkTeen},
		"veinte": {20, nkTens}, "veintiuno": {21, nkTens}, "veintidos": {22, nkTens}, "veintitres": {23, nkTens}, "veinticuatro": {24, nkTens},
		"veinticinco": {25, nkTens}, "veintiseis": {26, nkTens}, "veintisiete": {27, nkTens}, "veintiocho": {28, nkTens}, "veintinueve": {29, nkTens},
		"treinta": {30, nkTens}, "cuarenta": {40, nkTens}, "cincuenta": {50, nkTens}, "sesenta": {60, nkTens},
		"setenta": {70, nkTens}, "ochenta": {80, nkTens}, "noventa": {90, nkTens},
		"cien": {100, nkHundred}, "ciento": {100, nkHundred}, "doscientos": {200, nkHundreds}, "trescientos": {300, nkHundreds},
		"cuatrocientos": {400, nkHundreds}, "quinientos": {500, nkHundreds}, "seiscientos": {600, nkHundreds},
		"setecientos": {700, nkHundreds}, "ochocientos": {800, nkHundreds}, "novecientos": {900, nkHundreds}, "mil": {1000, nkThousand},
	},
}

// sharedNumberWords are read whatever the language (code-switching), because
// they mean nothing else in the other two languages.
var sharedNumberWords = func() map[string]numWord {
	ambiguous := map[string]bool{"un": true, "une": true, "una": true, "once": true, "cent": true, "cents": true, "tres": true, "dos": true, "mil": true, "six": true, "sept": true}
	m := map[string]numWord{}
	for _, lang := range []string{"en", "fr", "es"} {
		for w, n := range numberWords[lang] {
			if !ambiguous[w] {
				m[w] = n
			}
		}
	}
	return m
}()

// digitHomophones are words a transcriber writes for a digit ("oh" for 0,
// "to" for 2, "for" for 4); they count only between two number words.
var digitHomophones = map[string]int{"oh": 0, "o": 0, "to": 2, "too": 2, "for": 4, "fore": 4}

func lookupNumber(w, lang string) (numWord, bool) {
	if n, ok := numberWords[lang][w]; ok {
		return n, true
	}
	n, ok := sharedNumberWords[w]
	return n, ok
}

// spokenNumbers replaces each run of number words (and digit tokens next to
// them) with one tkNum token holding the digits as they would be typed:
// "zero zero four two" → "0042", "forty two" → "42", "one fifty" → "150",
// "quatre-vingt-douze" → "92", "cuarenta y dos" → "42".
func spokenNumbers(toks []token, lang string) []token {
	out := make([]token, 0, len(toks))
	for i := 0; i < len(toks); {
		if !startsNumber(toks, i, lang) {
			out = append(out, toks[i])
			i++
			continue
		}
		p := numParser{}
		j := i
		spoken := false
		for j < len(toks) {
			t := toks[j]
			if t.kind == tkNum {
				p.digits(t.w)
				j++
				continue
			}
			if t.kind == tkWord {
				if n, ok := lookupNumber(t.w, lang); ok {
					p.word(n)
					spoken = true
					j++
					continue
				}
				if d, ok := digitHomophones[t.w]; ok && j > i && j+1 < len(toks) && isNumberTok(toks[j+1], lang) && p.lastKind == nkDigit {
					p.word(numWord{d, nkDigit})
					spoken = true
					j++
					continue
				}
				// "cuarenta y dos", "vingt et un", "hundred and five"
				if (t.w == "y" || t.w == "et" || t.w == "and") && j+1 < len(toks) && isNumberTok(toks[j+1], lang) && (p.lastKind == nkTens || p.lastKind == nkHundred) {
					j++
					continue
				}
			}
			// "quatre-vingt-douze": a dash between two number words
			if t.kind == tkDash && spoken && j+1 < len(toks) && toks[j+1].kind == tkWord && isNumberTok(toks[j+1], lang) {
				j++
				continue
			}
			break
		}
		s := p.finish()
		if !spoken {
			// plain digit tokens only: keep them as they are
			out = append(out, toks[i:j]...)
			i = j
			continue
		}
		out = append(out, token{w: s, o: joinOrig(toks[i:j]), kind: tkNum, glued: toks[i].glued, spoken: true})
		i = j
	}
	return out
}

func startsNumber(toks []token, i int, lang string) bool {
	t := toks[i]
	if t.kind == tkWord {
		_, ok := lookupNumber(t.w, lang)
		return ok
	}
	// a typed number directly followed by a number word ("00 forty two")
	return t.kind == tkNum && i+1 < len(toks) && toks[i+1].kind == tkWord && isNumberTok(toks[i+1], lang)
}

func isNumberTok(t token, lang string) bool {
	if t.kind == tkNum {
		return true
	}
	if t.kind != tkWord {
		return false
	}
	_, ok := lookupNumber(t.w, lang)
	return ok
}

func joinOrig(toks []token) string {
	s := ""
	for i, t := range toks {
		if i > 0 && !t.glued {
			s += " "
		}
		s += t.o
	}
	return s
}

// numParser accumulates number words into chunks; chunks are concatenated as
// digit strings, which is how people read out identifiers.
type numParser struct {
	out      []byte
	cur      int // -1 when no chunk is open
	open     bool
	lastKind int
}

func (p *numParser) flush() {
	if p.open {
		p.out = strconv.AppendInt(p.out, int64(p.cur), 10)
	}
	p.open = false
	p.cur = 0
}

func (p *numParser) digits(s string) {
	p.flush()
	p.out = append(p.out, s...)
	p.lastKind = 0
}

func (p *numParser) word(n numWord) {
	switch n.kind {
	case nkDigit:
		switch {
		case p.open && (p.lastKind == nkTens || p.lastKind == nkHundred || p.lastKind == nkHundreds || p.lastKind == nkThousand) && p.cur%10 == 0:
			p.cur += n.v // forty two, cent deux
			p.lastKind = -nkDigit
			return
		case p.open && p.lastKind == nkTeen && p.cur%10 == 0 && n.v >= 7:
			p.cur += n.v // dix-sept, soixante-dix-huit
			p.lastKind = -nkDigit
			return
		}
		p.flush()
		p.cur, p.open, p.lastKind = n.v, true, nkDigit
	case nkTeen:
		if p.open && (p.cur == 60 || p.cur == 80) && p.lastKind == nkTens || p.open && (p.lastKind == nkHundred || p.lastKind == nkHundreds || p.lastKind == nkThousand) && p.cur%100 == 0 {
			p.cur += n.v // soixante-douze, quatre-vingt-douze, one hundred twelve
			p.lastKind = nkTeen
			return
		}
		p.flush()
		p.cur, p.open, p.lastKind = n.v, true, nkTeen
	case nkTens:
		if p.open && p.lastKind == nkDigit && p.cur == 4 && n.v == 20 {
			p.cur, p.lastKind = 80, nkTens // quatre-vingt
			return
		}
		if p.open && (p.lastKind == nkHundred || p.lastKind == nkHundreds || p.lastKind == nkThousand) && p.cur%100 == 0 {
			p.cur += n.v
			p.lastKind = nkTens
			return
		}
		p.flush()
		p.cur, p.open, p.lastKind = n.v, true, nkTens
	case nkHundred:
		if p.open && p.lastKind == nkDigit && p.cur > 0 {
			p.cur *= 100
		} else {
			p.flush()
			p.cur, p.open = 100, true
		}
		p.lastKind = nkHundred
	case nkHundreds:
		p.flush()
		p.cur, p.open, p.lastKind = n.v, true, nkHundreds
	case nkThousand:
		if p.open && p.cur > 0 && p.cur < 1000 {
			p.cur *= 1000
		} else {
			p.flush()
			p.cur, p.open = 1000, true
		}
		p.lastKind = nkThousand
	}
}

func (p *numParser) finish() string {
	p.flush()
	return string(p.out)
}
