package nlu

import "strings"

// speller puts right the typing and transcription slips of a message
// ("fcturé", "chagrer", "marhce") before it is classified: a word the
// corpus never used that is one edit away — a letter dropped, added,
// changed, or two letters swapped — from words it did use becomes the most
// frequent of those, provided the first letter stays (or only swaps with
// the second). Short words, words with digits and known words are left
// alone.
type speller struct {
	freq map[string]int
}

// minSpellLen is the shortest word corrected: shorter ones are one edit
// from too many others.
const minSpellLen = 4

// newSpeller learns the vocabulary from folded texts and extra words.
func newSpeller(folded []string, extra []string) speller {
	sp := speller{freq: map[string]int{}}
	for _, t := range folded {
		for _, w := range strings.Fields(t) {
			if spellable(w) {
				sp.freq[w]++
			}
		}
	}
	for _, w := range extra {
		if spellable(w) && sp.freq[w] == 0 {
			sp.freq[w] = 1
		}
	}
	return sp
}

// spellable reports whether w is a word the speller knows or corrects:
// letters only, at least minSpellLen of them.
func spellable(w string) bool {
	if len(w) < minSpellLen {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isLetter(w[i]) {
			return false
		}
	}
	return true
}

// correct returns folded text with each unknown word replaced by its
// correction, if it has one.
func (sp speller) correct(folded string) string {
	if len(sp.freq) == 0 {
		return folded
	}
	words := strings.Fields(folded)
	changed := false
	for i, w := range words {
		if c := sp.word(w); c != w {
			words[i], changed = c, true
		}
	}
	if !changed {
		return folded
	}
	return strings.Join(words, " ")
}

// word returns the correction of one folded word, or the word itself.
// Ties go to the alphabetically first candidate, so the answer never
// depends on map order.
func (sp speller) word(w string) string {
	if !spellable(w) || sp.freq[w] > 0 {
		return w
	}
	best, bestN := w, 0
	try := func(c string) {
		if c == "" || c[0] != w[0] && !(len(c) > 1 && c[0] == w[1] && c[1] == w[0]) {
			return // slips rarely touch the first letter: "read" is not "dead"
		}
		n := sp.freq[c]
		if n > bestN || n > 0 && n == bestN && c < best {
			best, bestN = c, n
		}
	}
	b := []byte(w)
	buf := make([]byte, 0, len(b)+1)
	for i := range b {
		// deletion
		buf = append(append(buf[:0], b[:i]...), b[i+1:]...)
		try(string(buf))
		// transposition
		if i+1 < len(b) && b[i] != b[i+1] {
			buf = append(buf[:0], b...)
			buf[i], buf[i+1] = buf[i+1], buf[i]
			try(string(buf))
		}
	}
	for i := 0; i <= len(b); i++ {
		for c := byte('a'); c <= 'z'; c++ {
			// insertion
			buf = append(append(append(buf[:0], b[:i]...), c), b[i:]...)
			try(string(buf))
			// substitution
			if i < len(b) && b[i] != c {
				buf = append(buf[:0], b...)
				buf[i] = c
				try(string(buf))
			}
		}
	}
	return best
}
