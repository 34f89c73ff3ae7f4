//go:build ignore

// gen_corpus turns the hand-written message lists into JSON lines:
//
//   - testdata/corpus/src/<lang>*.txt, the corpus: a stratified 75/25 split
//     by language, category, injection and secondary issue (every fourth
//     message of each group goes to test), written to
//     testdata/corpus/{train,test}.jsonl and, for the embedded model,
//     corpus/train.jsonl;
//   - testdata/eval/openers.txt, the evaluation set written apart from the
//     corpus (other writers, other sources, before any tuning) and never
//     trained on, written to testdata/eval/openers.jsonl.
//
// Lines are "CODES|text": a primary category letter, "+" secondary
// letters, and "!" anywhere in CODES for a manipulation attempt. Comment
// lines "# lang: xx" and "# channel: chat|sms|voice" set the language
// (else the file name's prefix) and channel of the lines after them. Run it
// with "go run gen_corpus.go" from this directory after editing the
// sources, and commit the output.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

var codes = map[byte]string{
	'S': "session_wont_start", 'P': "payment_failure", 'O': "charger_offline",
	'C': "connector_stuck", 'R': "rfid_failure", 'L': "slow_charging",
	'B': "billing_dispute", 'H': "hardware_damage", 'X': "other",
}

type example struct {
	ID        string   `json:"id"`
	Text      string   `json:"text"`
	Lang      string   `json:"lang"`
	Channel   string   `json:"channel,omitempty"`
	Category  string   `json:"category"`
	Also      []string `json:"also,omitempty"`
	Injection bool     `json:"injection,omitempty"`
}

func main() {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "src", "*.txt"))
	if err != nil {
		log.Fatal(err)
	}
	sort.Strings(files)
	eval := read(filepath.Join("testdata", "eval", "openers.txt"), "")
	// A corpus line that says nearly what an evaluation line says ("hi",
	// "card declined") is left out, so that the evaluation set stays
	// unseen; so is one that says nearly what an earlier corpus line said,
	// so that the test split does not repeat the training one.
	var near nearIndex
	for _, e := range eval {
		near.add(e.Text)
	}
	var train, test []example
	seen := map[string]int{}
	n := map[string]int{}
	dropped := 0
	for _, f := range files {
		lang := strings.SplitN(strings.TrimSuffix(filepath.Base(f), ".txt"), "-", 2)[0]
		for _, e := range read(f, lang) {
			if near.has(e.Text) {
				dropped++
				continue
			}
			near.add(e.Text)
			n[e.Lang]++
			e.ID = fmt.Sprintf("%s-%04d", e.Lang, n[e.Lang])
			group := fmt.Sprintf("%s/%s/%v/%v", e.Lang, e.Category, e.Injection, len(e.Also) > 0)
			if seen[group]%4 == 3 {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
			seen[group]++
		}
	}
	write(filepath.Join("testdata", "corpus", "train.jsonl"), train)
	write(filepath.Join("corpus", "train.jsonl"), train)
	write(filepath.Join("testdata", "corpus", "test.jsonl"), test)
	for i := range eval {
		eval[i].ID = fmt.Sprintf("eval-%04d", i+1)
	}
	write(filepath.Join("testdata", "eval", "openers.jsonl"), eval)
	fmt.Printf("train %d, test %d, eval %d (%d corpus lines left out as near-repeats)\n", len(train), len(test), len(eval), dropped)
}

// nearIndex finds texts that say nearly what an earlier one said: a
// Jaccard similarity of 0.8 or more over the character trigrams of their
// lower-cased letters and digits.
type nearIndex struct {
	grams    []map[string]bool
	postings map[string][]int
}

func trigrams(text string) map[string]bool {
	s := " " + strings.Join(strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ") + " "
	rs := []rune(s)
	m := map[string]bool{}
	for i := 0; i+3 <= len(rs); i++ {
		m[string(rs[i:i+3])] = true
	}
	return m
}

func (x *nearIndex) add(text string) {
	if x.postings == nil {
		x.postings = map[string][]int{}
	}
	g := trigrams(text)
	for k := range g {
		x.postings[k] = append(x.postings[k], len(x.grams))
	}
	x.grams = append(x.grams, g)
}

func (x *nearIndex) has(text string) bool {
	g := trigrams(text)
	shared := map[int]int{}
	for k := range g {
		for _, i := range x.postings[k] {
			shared[i]++
		}
	}
	for i, n := range shared {
		if float64(n)/float64(len(g)+len(x.grams[i])-n) >= 0.8 {
			return true
		}
	}
	return false
}

// read parses one source file; lang is the language of lines before any
// "# lang:" comment.
func read(path, lang string) []example {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []example
	texts := map[string]bool{}
	channel := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if c, ok := strings.CutPrefix(line, "#"); ok {
			k, v, _ := strings.Cut(c, ":")
			switch strings.TrimSpace(k) {
			case "lang":
				lang = strings.TrimSpace(v)
			case "channel":
				channel = strings.TrimSpace(v)
			}
			continue
		}
		if line == "" {
			continue
		}
		head, text, ok := strings.Cut(line, "|")
		text = strings.TrimSpace(text)
		if !ok || head == "" || text == "" {
			log.Fatalf("%s: bad line %q", path, line)
		}
		if texts[strings.ToLower(text)] {
			log.Fatalf("%s: duplicate %q", path, text)
		}
		texts[strings.ToLower(text)] = true
		e := example{Text: text, Lang: lang, Channel: channel}
		if strings.Contains(head, "!") {
			e.Injection = true
			head = strings.ReplaceAll(head, "!", "")
		}
		for i, c := range strings.Split(head, "+") {
			name, ok := codes[c[0]]
			if len(c) != 1 || !ok {
				log.Fatalf("%s: bad code %q", path, c)
			}
			if i == 0 {
				e.Category = name
			} else {
				e.Also = append(e.Also, name)
			}
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	return out
}

func write(path string, xs []example) {
	var b strings.Builder
	for _, x := range xs {
		j, err := json.Marshal(x)
		if err != nil {
			log.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}
