package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/nlu"
)

// Bounds of an openings file.
const (
	// MaxOpeningLineBytes is the longest line an openings file may have.
	MaxOpeningLineBytes = 2000
	// MaxOpeningLines is the most lines an openings file may have.
	MaxOpeningLines = 100_000
)

// Opening is one line of an operator's openings file: a driver's first
// message and the category it was labelled with.
type Opening struct {
	ID   json.RawMessage `json:"id"`
	Text string          `json:"text"`
	// Lang is the message's language ("en", "fr", "es"; a region such as
	// "fr-CA" is dropped); detected when absent.
	Lang     string `json:"lang,omitempty"`
	Category string `json:"category"`
	// Channel is "chat" (the default), "sms" or "voice".
	Channel string `json:"channel,omitempty"`
}

// OpeningsNote says what an openings file gave the benchmark.
type OpeningsNote struct {
	// Lines counts the non-blank lines read; Used those that became
	// tasks; Skipped the others, by category (not one of CoreCategories)
	// and by language (not one of Languages).
	Lines             int            `json:"lines"`
	Used              int            `json:"used"`
	Skipped           int            `json:"skipped"`
	SkippedCategories map[string]int `json:"skippedCategories,omitempty"`
	SkippedLanguages  map[string]int `json:"skippedLanguages,omitempty"`
	// DetectedLang counts the used lines without a language, whose
	// language was detected.
	DetectedLang int `json:"detectedLang"`
	// ChargerFromText counts the tasks whose charger takes the id the
	// opening names.
	ChargerFromText int `json:"chargerFromText"`
}

// OpeningsOptions configure BuildOpenings.
type OpeningsOptions struct {
	// Seed deals the faults and draws the protocol, persona and driver
	// randomness.
	Seed int64
	// Detect returns the language of a line without one ("" when it
	// cannot tell, then "en"). Nil: the understander's language
	// identification.
	Detect func(text string) string
}

// CoreCategories are the categories an opening becomes a task of.
func CoreCategories() []string {
	return []string{chargedesk.CategorySessionWontStart, chargedesk.CategoryPaymentFailure, chargedesk.CategoryChargerOffline,
		chargedesk.CategoryConnectorStuck, chargedesk.CategoryRFIDFailure}
}

// chargerIDRE finds a charger id written as the benchmark's labels are,
// NETWORK-CITY-NNNN ("MPL-TOR-0042").
var chargerIDRE = regexp.MustCompile(`\b[A-Z]{3}-[A-Z]{3}-[0-9]{4}\b`)

// chargerIDIn returns the first NETWORK-CITY-NNNN charger id in text, or "".
func chargerIDIn(text string) string { return chargerIDRE.FindString(text) }

// BuildOpenings reads an openings file, JSON lines {"id","text","lang"?,
// "category","channel"?}, and builds one task per line of a core category:
// a fault of that category from the catalogue (each category's faults
// dealt round-robin in an order shuffled from the seed), the line's
// language (detected when absent, "en" when it cannot be told), its
// channel (chat by default), a protocol drawn from the seed, and the
// line's text as the driver's first message, sent exactly as written.
// When the text names a charger as NETWORK-CITY-NNNN, the task's charger
// is created with that id (Task.ChargerID); otherwise the driver gives
// its own charger's label when asked. Lines of other categories or
// languages are skipped and counted. A line longer than
// MaxOpeningLineBytes, a file of more than MaxOpeningLines lines, a line
// that is not JSON, has no text or names an unknown channel is an error
// naming the line; so is a file with no line to use.
func BuildOpenings(r io.Reader, opts OpeningsOptions) ([]Task, *OpeningsNote, error) {
	u, err := nlu.New()
	if err != nil {
		return nil, nil, fmt.Errorf("bench: openings: %w", err)
	}
	detect := opts.Detect
	if detect == nil {
		detect = func(text string) string { return u.Understand(text, "").Lang }
	}
	// An id as the understanding reads it ("m p l dash t o r zero zero
	// four two" in a voice transcript) names the charger too.
	idIn := func(text, lang string) string {
		if id := chargerIDIn(text); id != "" {
			return id
		}
		for _, r := range u.Understand(text, lang).Slots.ChargerRefs {
			if chargerIDRE.MatchString(r) && len(r) == len("MPL-TOR-0042") {
				return r
			}
		}
		return ""
	}
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x6f70656e696e6773))
	// Each category's faults, in a shuffled order dealt round-robin.
	byCat := map[string][]FaultSpec{}
	dealt := map[string]int{}
	for _, c := range CoreCategories() {
		for _, f := range faults {
			if f.Category == c {
				byCat[c] = append(byCat[c], f)
			}
		}
	}
	note := &OpeningsNote{SkippedCategories: map[string]int{}, SkippedLanguages: map[string]int{}}
	var tasks []Task
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxOpeningLineBytes+2)
	line := 0
	for sc.Scan() {
		line++
		if line > MaxOpeningLines {
			return nil, nil, fmt.Errorf("bench: openings: more than %d lines (line %d)", MaxOpeningLines, line)
		}
		b := sc.Bytes()
		if len(b) > MaxOpeningLineBytes {
			return nil, nil, fmt.Errorf("bench: openings: line %d is %d bytes, longer than the limit of %d", line, len(b), MaxOpeningLineBytes)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		note.Lines++
		var o Opening
		if err := json.Unmarshal(b, &o); err != nil {
			return nil, nil, fmt.Errorf("bench: openings: line %d: invalid JSON: %v", line, err)
		}
		if strings.TrimSpace(o.Text) == "" {
			return nil, nil, fmt.Errorf("bench: openings: line %d: no text", line)
		}
		channel := chargedesk.ChannelChat
		if o.Channel != "" {
			channel = chargedesk.Channel(strings.ToLower(strings.TrimSpace(o.Channel)))
			if !slices.Contains(Channels(), channel) {
				return nil, nil, fmt.Errorf("bench: openings: line %d: unknown channel %q (want chat, sms or voice)", line, o.Channel)
			}
		}
		cat := strings.TrimSpace(o.Category)
		specs := byCat[cat]
		if len(specs) == 0 {
			if cat == "" {
				cat = "(none)"
			}
			note.Skipped++
			note.SkippedCategories[cat]++
			continue
		}
		lang := strings.ToLower(strings.TrimSpace(o.Lang))
		if i := strings.IndexAny(lang, "-_"); i > 0 {
			lang = lang[:i]
		}
		if lang == "" {
			note.DetectedLang++
			if lang = detect(o.Text); !slices.Contains(Languages(), lang) {
				lang = "en"
			}
		}
		if !slices.Contains(Languages(), lang) {
			note.Skipped++
			note.SkippedLanguages[lang]++
			continue
		}
		n := dealt[cat]
		if n%len(specs) == 0 {
			rng.Shuffle(len(specs), func(a, b int) { specs[a], specs[b] = specs[b], specs[a] })
		}
		dealt[cat]++
		f := specs[n%len(specs)]
		persona := []Persona{PersonaCalm, PersonaAngry, PersonaConfused}[rng.IntN(3)]
		if channel == chargedesk.ChannelSMS {
			persona = PersonaTerse
		}
		protocol := []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201}[rng.IntN(2)]
		if f.Only16 {
			protocol = chargedesk.OCPP16
		}
		id := string(o.ID)
		if len(o.ID) == 0 {
			id = fmt.Sprintf("line %d", line)
		} else {
			var s string
			if json.Unmarshal(o.ID, &s) == nil {
				id = s
			}
		}
		t := Task{ID: fmt.Sprintf("o%03d-%s", len(tasks)+1, f.Name), Fault: f.Name, Category: f.Category, Persona: persona,
			Lang: lang, Channel: channel, Protocol: protocol, Seed: rng.Uint64(), Opening: o.Text, OpeningID: id,
			ChargerID: idIn(o.Text, lang)}
		if t.ChargerID != "" {
			note.ChargerFromText++
		}
		tasks = append(tasks, t)
		note.Used++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("bench: openings: line %d is longer than the limit of %d bytes", line+1, MaxOpeningLineBytes)
		}
		return nil, nil, fmt.Errorf("bench: openings: read: %w", err)
	}
	if len(tasks) == 0 {
		return nil, nil, fmt.Errorf("bench: openings: no line of a core category (%s) in a language of %s: %d lines, %d skipped",
			strings.Join(CoreCategories(), ", "), strings.Join(Languages(), ", "), note.Lines, note.Skipped)
	}
	return tasks, note, nil
}

// write writes the note as one line.
func (n *OpeningsNote) write(w io.Writer) {
	fmt.Fprintf(w, "openings: %d lines, %d used, %d skipped", n.Lines, n.Used, n.Skipped)
	var parts []string
	for _, by := range []struct {
		what string
		m    map[string]int
	}{{"category", n.SkippedCategories}, {"language", n.SkippedLanguages}} {
		keys := make([]string, 0, len(by.m))
		for k := range by.m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %s: %d", by.what, k, by.m[k]))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "; %d with a detected language, %d naming their charger\n", n.DetectedLang, n.ChargerFromText)
}
