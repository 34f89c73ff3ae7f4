//go:build ignore

// gen_corpus turns the hand-written message lists in testdata/corpus/src
// into the JSON-lines corpus: a stratified 75/25 split by language and
// category (every fourth message of each language×category×injection group
// goes to test), written to testdata/corpus/{train,test}.jsonl and, for the
// embedded model, corpus/train.jsonl. Run it with "go run gen_corpus.go"
// from this directory after editing the sources, and commit the output.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
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
	Category  string   `json:"category"`
	Also      []string `json:"also,omitempty"`
	Injection bool     `json:"injection,omitempty"`
}

func main() {
	var train, test []example
	for _, lang := range []string{"en", "fr", "es"} {
		f, err := os.Open(filepath.Join("testdata", "corpus", "src", lang+".txt"))
		if err != nil {
			log.Fatal(err)
		}
		seen := map[string]int{}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			head, text, ok := strings.Cut(line, "|")
			if !ok || head == "" {
				log.Fatalf("%s: bad line %q", lang, line)
			}
			e := example{Text: strings.TrimSpace(text), Lang: lang}
			if strings.HasSuffix(head, "!") {
				e.Injection = true
				head = strings.TrimSuffix(head, "!")
			}
			for i, c := range strings.Split(head, "+") {
				name, ok := codes[c[0]]
				if len(c) != 1 || !ok {
					log.Fatalf("%s: bad code %q", lang, c)
				}
				if i == 0 {
					e.Category = name
				} else {
					e.Also = append(e.Also, name)
				}
			}
			n++
			e.ID = fmt.Sprintf("%s-%03d", lang, n)
			group := fmt.Sprintf("%s/%v/%v", e.Category, e.Injection, len(e.Also) > 0)
			if seen[group]%4 == 3 {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
			seen[group]++
		}
		f.Close()
	}
	write(filepath.Join("testdata", "corpus", "train.jsonl"), train)
	write(filepath.Join("corpus", "train.jsonl"), train)
	write(filepath.Join("testdata", "corpus", "test.jsonl"), test)
	fmt.Printf("train %d, test %d\n", len(train), len(test))
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
