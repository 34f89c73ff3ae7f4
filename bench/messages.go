package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/chargedesk/chargedesk/agent"
)

// maxMessageLine bounds one line of a messages file.
const maxMessageLine = 64 << 10

// Message is one line of an operator's messages file.
type Message struct {
	ID   json.RawMessage `json:"id"`
	Text string          `json:"text"`
	// Lang is a language hint; Category the expected intent (optional).
	Lang     string `json:"lang,omitempty"`
	Category string `json:"category,omitempty"`
}

// Prediction is the understanding of one message.
type Prediction struct {
	ID         json.RawMessage `json:"id"`
	Category   string          `json:"category"`
	Confidence float64         `json:"confidence"`
	Lang       string          `json:"lang"`
	Injection  bool            `json:"injection,omitempty"`
	// Expected is the message's label, if it had one.
	Expected string `json:"expected,omitempty"`
}

// MessagesReport is the accuracy of understanding over a messages file.
type MessagesReport struct {
	Messages int `json:"messages"`
	Labelled int `json:"labelled"`
	Correct  int `json:"correct"`
	// Accuracy is Correct/Labelled (0 without labels).
	Accuracy float64 `json:"accuracy"`
	// Confusion counts expected → predicted category.
	Confusion map[string]map[string]int `json:"confusion,omitempty"`
	// Errors lists the lines that could not be read.
	Errors      []string     `json:"errors,omitempty"`
	Predictions []Prediction `json:"predictions"`
}

// EvalMessages runs understanding over JSON lines {"id","text","lang"?,
// "category"?} and reports accuracy and a confusion table where labels are
// given. Unreadable lines are listed in Errors and skipped; only a read
// error of r is returned.
func EvalMessages(r io.Reader, u agent.Understander) (*MessagesReport, error) {
	rep := &MessagesReport{Confusion: map[string]map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxMessageLine)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: invalid JSON: %v", line, err))
			continue
		}
		if strings.TrimSpace(m.Text) == "" {
			rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: no text", line))
			continue
		}
		if len(m.ID) == 0 {
			m.ID = json.RawMessage(fmt.Sprintf(`"line %d"`, line))
		}
		res := u.Understand(m.Text, m.Lang)
		rep.Messages++
		rep.Predictions = append(rep.Predictions, Prediction{ID: m.ID, Category: res.Category, Confidence: res.Confidence,
			Lang: res.Lang, Injection: res.Injection, Expected: m.Category})
		if m.Category == "" {
			continue
		}
		rep.Labelled++
		if res.Category == m.Category {
			rep.Correct++
		}
		if rep.Confusion[m.Category] == nil {
			rep.Confusion[m.Category] = map[string]int{}
		}
		rep.Confusion[m.Category][res.Category]++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bench: read messages: %w", err)
	}
	if rep.Labelled > 0 {
		rep.Accuracy = round3(float64(rep.Correct) / float64(rep.Labelled))
	}
	return rep, nil
}

// WriteTable writes the accuracy and the confusion table (rows expected,
// columns predicted).
func (r *MessagesReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "messages: %d, labelled: %d, correct: %d, accuracy: %.1f%%\n", r.Messages, r.Labelled, r.Correct, 100*r.Accuracy)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "skipped %s\n", e)
	}
	if r.Labelled == 0 {
		return nil
	}
	var cats []string
	seen := map[string]bool{}
	for exp, row := range r.Confusion {
		for _, c := range append([]string{exp}, keys(row)...) {
			if !seen[c] {
				seen[c] = true
				cats = append(cats, c)
			}
		}
	}
	slices.Sort(cats)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "expected \\ predicted\t")
	for _, c := range cats {
		fmt.Fprintf(tw, "%s\t", abbrev(c))
	}
	fmt.Fprint(tw, "\n")
	for _, exp := range cats {
		row := r.Confusion[exp]
		if row == nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t", exp)
		for _, c := range cats {
			fmt.Fprintf(tw, "%d\t", row[c])
		}
		fmt.Fprint(tw, "\n")
	}
	return tw.Flush()
}

// abbrev shortens a category for a column header.
func abbrev(c string) string {
	parts := strings.Split(c, "_")
	if len(parts) == 1 {
		return c
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p[:min(4, len(p))])
		b.WriteByte('_')
	}
	return strings.TrimSuffix(b.String(), "_")
}
