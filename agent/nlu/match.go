package nlu

import (
	"cmp"
	"slices"
	"strings"
)

// Match is one known charger id with how well a spoken or partial
// reference matches it (0..1, 1 is exact).
type Match struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// minMatchScore is the lowest score MatchChargerIDs returns.
const minMatchScore = 0.5

// MatchChargerIDs matches a reference as a driver said or typed it (a full
// id, "TOR 42", "0042", "em pee el dash tee oh ar dash zero zero four two",
// a misheard "NPL-TOR-0042") against the known charger ids, best first,
// ties by id. Letters that sound alike on a phone line (B/D/P/T/V/…, M/N,
// S/F/X, …) cost little; numbers compare by value, so "42" matches "0042".
// Ids without the NET-CITY-NNNN shape are compared as whole strings.
func MatchChargerIDs(ref string, known []string) []Match {
	r := parseRef(ref)
	if r.digits == "" && r.net == "" && r.city == "" && r.raw == "" {
		return nil
	}
	var out []Match
	for _, id := range known {
		s := matchScore(r, id)
		if s >= minMatchScore {
			out = append(out, Match{ID: id, Score: round3(s)})
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

type parsedRef struct {
	net, city, digits string
	raw               string // upper-case letters and digits, for odd ids
}

func parseRef(ref string) parsedRef {
	var raw strings.Builder
	for _, r := range ref {
		r = foldRune(r)
		if r < 128 && (isLetter(byte(r)) || isDigit(byte(r))) {
			raw.WriteByte(byte(strings.ToUpper(string(r))[0]))
		}
	}
	p := parsedRef{raw: raw.String()}
	toks := tokenize(ref)
	for i := range toks {
		if toks[i].kind == tkWord && spelledSeparators[toks[i].w] {
			toks[i].kind = tkDash
		}
	}
	toks = spokenNumbers(toks, "en")
	refs := findChargerRefs(toks, make([]bool, len(toks)), true)
	if len(refs) == 0 {
		return p
	}
	parts := strings.Split(refs[0], "-")
	switch len(parts) {
	case 3:
		p.net, p.city, p.digits = parts[0], parts[1], parts[2]
	case 2:
		p.city, p.digits = parts[0], parts[1]
	case 1:
		p.digits = parts[0]
	}
	return p
}

func matchScore(r parsedRef, id string) float64 {
	parts := strings.Split(strings.ToUpper(id), "-")
	if len(parts) != 3 || len(parts[0]) != 3 || len(parts[1]) != 3 || r.digits == "" {
		// not an id of the usual shape: whole-string similarity
		a := strings.ToUpper(strings.ReplaceAll(id, "-", ""))
		if r.raw == "" || a == "" {
			return 0
		}
		return 1 - editCost(r.raw, a)/float64(max(len(r.raw), len(a)))
	}
	d := digitScore(r.digits, parts[2])
	switch {
	case r.net != "":
		return 0.2*letterScore(r.net, parts[0]) + 0.3*letterScore(r.city, parts[1]) + 0.5*d
	case r.city != "":
		return 0.35*letterScore(r.city, parts[1]) + 0.65*d
	default:
		return 0.9 * d
	}
}

func letterScore(a, b string) float64 {
	return max(0, 1-editCost(a, b)/float64(max(len(a), len(b))))
}

func digitScore(a, b string) float64 {
	na, nb := atoiSmall(a), atoiSmall(b)
	if na >= 0 && na == nb {
		return 1
	}
	// "fifteen" heard for "fifty" and the like
	if na >= 0 && nb >= 0 && (teenTy(na, nb) || teenTy(nb, na)) {
		return 0.75
	}
	a, b = idDigits(a), idDigits(b)
	if a == "" || b == "" {
		return 0
	}
	// a wrong digit is worse than a wrong letter: ids differ by digits
	return max(0, 1-1.6*editCost(a, b)/4)
}

// teenTy reports whether a (13..19) and b (30..90) differ only by the
// teen/ty confusion, anywhere in the last two digits.
func teenTy(a, b int) bool {
	ta, tb := a%100, b%100
	return a/100 == b/100 && ta >= 13 && ta <= 19 && tb == (ta-10)*10
}

// soundAlike groups letters that are easily confused when spelled aloud
// on a phone line; substituting within a group costs 0.25.
var soundAlike = [...]string{"BCDEGPTVZ", "MN", "SFX", "AJK", "IY", "QU", "O0"}

func subCost(a, b byte) float64 {
	if a == b {
		return 0
	}
	for _, g := range soundAlike {
		if strings.IndexByte(g, a) >= 0 && strings.IndexByte(g, b) >= 0 {
			return 0.25
		}
	}
	return 1
}

// editCost is a Levenshtein distance with cheap sound-alike substitutions.
func editCost(a, b string) float64 {
	prev := make([]float64, len(b)+1)
	cur := make([]float64, len(b)+1)
	for j := range prev {
		prev[j] = float64(j)
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = float64(i)
		for j := 1; j <= len(b); j++ {
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+subCost(a[i-1], b[j-1]))
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
