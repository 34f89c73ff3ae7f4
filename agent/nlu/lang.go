package nlu

import (
	"math"
	"strings"
)

// Languages the understander tells apart, in index order.
var langNames = [3]string{"en", "fr", "es"}

func langIndex(l string) int {
	switch strings.ToLower(l) {
	case "en", "en-us", "en-ca", "english":
		return 0
	case "fr", "fr-ca", "fr-fr", "french", "francais":
		return 1
	case "es", "es-us", "es-mx", "spanish", "espanol":
		return 2
	}
	return -1
}

// stopwords are frequent words that belong to one language only (folded).
var stopwords = [3]string{
	`the is it my and i to of not but at on was for with this that it's its im i'm dont doesnt wont cant can't won't doesn't don't please help stuck charger card says just what why how when where have has been got get you your there they there's what's no yes`,
	`le la les est pas pis je j ma mon des une un et ca c'est cest borne carte sur dans pour veut marche fait rien j'ai jai l'app lapp quand mais avec mon ton ai suis chu ben tout toujours encore aussi bonjour allo merci oui svp s'il plait y a-tu peux vous nous elle il qui que`,
	`el la los las es mi y que de en por una un esta está cargador tarjeta carro pero si sí hola me no nada funciona ayuda gracias con para ya porque como cuando dice puedo tengo sigue aqui aquí muy también ahora`,
}

// langModel is a multinomial naive Bayes over character 1–3-grams of the
// lowercased text (accents kept: "é", "ñ", "ç" are strong cues), plus
// stopword votes.
type langModel struct {
	logp   map[uint64][3]float32
	unseen [3]float32
	stop   map[string]int
}

func langGrams(text string, f func(h uint64)) {
	s := " " + strings.ToLower(text) + " "
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(s); i++ {
			g := s[i : i+n]
			if strings.TrimSpace(g) == "" {
				continue
			}
			f(hashBytes(byte(n), g))
		}
	}
}

func trainLang(exs []example) langModel {
	counts := map[uint64]*[3]float64{}
	var total [3]float64
	for _, e := range exs {
		li := langIndex(e.Lang)
		if li < 0 {
			continue
		}
		langGrams(e.Text, func(h uint64) {
			c := counts[h]
			if c == nil {
				c = new([3]float64)
				counts[h] = c
			}
			c[li]++
			total[li]++
		})
	}
	const alpha = 0.5
	v := float64(len(counts))
	m := langModel{logp: make(map[uint64][3]float32, len(counts)), stop: map[string]int{}}
	for h, c := range counts {
		var lp [3]float32
		for l := range 3 {
			lp[l] = float32(math.Log((c[l] + alpha) / (total[l] + alpha*v)))
		}
		m.logp[h] = lp
	}
	for l := range 3 {
		m.unseen[l] = float32(math.Log(alpha / (total[l] + alpha*v)))
	}
	// a word listed by two languages ("la", "no", "un") votes for neither
	seen := map[string]int{}
	for l, ws := range stopwords {
		for _, w := range strings.Fields(ws) {
			w = foldWord(w)
			if prev, ok := seen[w]; ok && prev != l {
				seen[w] = -1
				continue
			}
			seen[w] = l
		}
	}
	for w, l := range seen {
		if l >= 0 {
			m.stop[w] = l
		}
	}
	return m
}

func foldWord(w string) string {
	var b strings.Builder
	for _, r := range w {
		r = foldRune(r)
		if r != '\'' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// detect returns the language of text and a 0..1 margin of certainty. With
// little evidence the hint (the channel's or conversation's language) wins.
func (m langModel) detect(text, folded, hint string) (string, float64) {
	var score [3]float64
	words := 0
	var stop [3]float64
	for rest := folded; rest != ""; {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		if w == "" {
			continue
		}
		words++
		if l, ok := m.stop[w]; ok {
			stop[l] += 0.6
		}
	}
	n := 0
	langGrams(text, func(h uint64) {
		lp, ok := m.logp[h]
		if !ok {
			lp = m.unseen
		}
		for l := range 3 {
			score[l] += float64(lp[l])
		}
		n++
	})
	// per-gram average log-likelihood, weighted by how much text there is
	// (a one-word message is weak evidence)
	weight := 2 * float64(min(words, 4))
	for l := range 3 {
		if n > 0 {
			score[l] = score[l] / float64(n) * weight
		}
		if words == 1 {
			stop[l] *= 10 // a greeting like "hola" says the language alone
		}
		score[l] += stop[l]
	}
	hi := langIndex(hint)
	if hi >= 0 {
		score[hi] += 0.4
		if words <= 1 {
			score[hi] += 5
		}
	} else if words <= 4 {
		// With no hint, a few words lean to English, the language most
		// drivers in the US and Canada write in ("Unavailable").
		score[langIndex("en")] += 0.5
	}
	best, second := 0, 1
	if score[1] > score[0] {
		best, second = 1, 0
	}
	if score[2] > score[best] {
		best, second = 2, best
	} else if score[2] > score[second] {
		second = 2
	}
	margin := 1 - math.Exp(-(score[best] - score[second]))
	if words == 0 && hi < 0 {
		return "en", 0
	}
	return langNames[best], margin
}
