package nlu

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// evalStats are accuracy counts on a labelled split.
type evalStats struct {
	n, ok               map[string]int // by "cat:..." and "lang:..."
	total, right        int
	langTotal, langOK   int
	injTP, injFP, injFN int
	bins                [5][2]int // confidence bins: count, right
	errors              []string
}

func evaluate(t testing.TB, u *Understander, exs []example) evalStats {
	t.Helper()
	st := evalStats{n: map[string]int{}, ok: map[string]int{}}
	for _, e := range exs {
		r := u.Understand(e.Text, "")
		// a message with several issues is right on any of them
		right := r.Category == e.Category || slices.Contains(e.Also, r.Category)
		st.total++
		st.n["cat:"+e.Category]++
		st.n["lang:"+e.Lang]++
		if right {
			st.right++
			st.ok["cat:"+e.Category]++
			st.ok["lang:"+e.Lang]++
		} else {
			st.errors = append(st.errors, fmt.Sprintf("%s %q: want %s got %s (%.2f)", e.ID, e.Text, e.Category, r.Category, r.Confidence))
		}
		st.langTotal++
		if r.Lang == e.Lang {
			st.langOK++
		} else {
			st.errors = append(st.errors, fmt.Sprintf("%s %q: lang want %s got %s", e.ID, e.Text, e.Lang, r.Lang))
		}
		switch {
		case r.Injection && e.Injection:
			st.injTP++
		case r.Injection:
			st.injFP++
			st.errors = append(st.errors, fmt.Sprintf("%s %q: false injection", e.ID, e.Text))
		case e.Injection:
			st.injFN++
			st.errors = append(st.errors, fmt.Sprintf("%s %q: missed injection", e.ID, e.Text))
		}
		b := min(int(r.Confidence*5), 4)
		st.bins[b][0]++
		if right {
			st.bins[b][1]++
		}
	}
	return st
}

func (st evalStats) acc(key string) float64 {
	if st.n[key] == 0 {
		return 0
	}
	return float64(st.ok[key]) / float64(st.n[key])
}

func loadSplit(t testing.TB, name string) []example {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exs, err := readCorpus(f)
	if err != nil {
		t.Fatal(err)
	}
	return exs
}

// Floors just under the figures measured on the test split when the model
// was last changed (see BENCHMARKS.md): a change that loses accuracy fails.
// The split is written by the same hand as the training lines, so it
// flatters the model; the lines on pre-authorization holds added to
// payment_failure (CATEGORIES.md) moved it from 153/165 to 153/168.
var (
	floorOverall        = 0.90 // measured 153/168 = 0.911
	floorLangID         = 0.99 // measured 161/161
	floorCrossValidated = 0.89 // measured 510/566 = 0.901 (4-fold on train)
	floorTypos          = 0.86 // measured 147/168 = 0.875 (0.798 without the speller)
	floorCategory       = map[string]float64{
		BillingDispute: 0.85, ChargerOffline: 0.99, ConnectorStuck: 0.99, HardwareDamage: 0.93, Other: 0.78,
		PaymentFailure: 0.85, RFIDFailure: 0.99, SessionWontStart: 0.88, SlowCharging: 0.93,
	}
	floorLanguage = map[string]float64{"en": 0.87, "fr": 0.93, "es": 0.92}
)

// TestEvaluate measures the classifier on the held-out test split.
func TestEvaluate(t *testing.T) {
	u, err := New()
	if err != nil {
		t.Fatal(err)
	}
	st := evaluate(t, u, loadSplit(t, "test.jsonl"))
	var keys []string
	for k := range st.n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var report strings.Builder
	fmt.Fprintf(&report, "overall %d/%d = %.3f; language id %d/%d = %.3f; injection TP %d FP %d FN %d\n",
		st.right, st.total, float64(st.right)/float64(st.total), st.langOK, st.langTotal, float64(st.langOK)/float64(st.langTotal), st.injTP, st.injFP, st.injFN)
	for _, k := range keys {
		fmt.Fprintf(&report, "  %-28s %3d/%3d = %.3f\n", k, st.ok[k], st.n[k], st.acc(k))
	}
	for b, c := range st.bins {
		if c[0] > 0 {
			fmt.Fprintf(&report, "  confidence [%.1f,%.1f): %3d messages, accuracy %.3f\n", float64(b)/5, float64(b+1)/5, c[0], float64(c[1])/float64(c[0]))
		}
	}
	t.Log("\n" + report.String())
	if acc := float64(st.right) / float64(st.total); acc < floorOverall {
		t.Errorf("overall accuracy %.3f below floor %.3f", acc, floorOverall)
	}
	if acc := float64(st.langOK) / float64(st.langTotal); acc < floorLangID {
		t.Errorf("language identification %.3f below floor %.3f", acc, floorLangID)
	}
	for c, f := range floorCategory {
		if acc := st.acc("cat:" + c); acc < f {
			t.Errorf("category %s accuracy %.3f below floor %.3f", c, acc, f)
		}
	}
	for l, f := range floorLanguage {
		if acc := st.acc("lang:" + l); acc < f {
			t.Errorf("language %s accuracy %.3f below floor %.3f", l, acc, f)
		}
	}
	if st.injFP > 0 || st.injFN > 0 {
		t.Errorf("injection detection: %d false positives, %d missed (want 0, 0)", st.injFP, st.injFN)
	}
	if testing.Verbose() {
		for _, e := range st.errors {
			t.Log(e)
		}
	}
}

// TestCrossValidate reports 4-fold cross-validated accuracy on the training
// split; hyper-parameters and lexicons are tuned on this, not on test.
func TestCrossValidate(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-validation trains four models")
	}
	train := loadSplit(t, "train.jsonl")
	right, total := 0, 0
	for fold := range 4 {
		var tr, va []example
		for i, e := range train {
			if i%4 == fold {
				va = append(va, e)
			} else {
				tr = append(tr, e)
			}
		}
		u, err := newFromExamples(tr)
		if err != nil {
			t.Fatal(err)
		}
		st := evaluate(t, u, va)
		right += st.right
		total += st.total
		if testing.Verbose() {
			for _, e := range st.errors {
				t.Log(e)
			}
		}
	}
	acc := float64(right) / float64(total)
	t.Logf("4-fold cross-validated accuracy on train: %d/%d = %.3f", right, total, acc)
	if acc < floorCrossValidated {
		t.Errorf("cross-validated accuracy %.3f below floor %.3f", acc, floorCrossValidated)
	}
}

// withTypos returns exs with typing slips: in each word of five letters or
// more, with probability 1/3, one letter dropped, doubled, changed or swapped
// with the next (never the first letter), drawn from a fixed seed.
func withTypos(exs []example) []example {
	rng := uint64(0x2545f4914f6cdd1d)
	next := func(n int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(n))
	}
	out := make([]example, len(exs))
	for i, e := range exs {
		words := strings.Fields(e.Text)
		for k, w := range words {
			if len(w) < 5 || !spellable(strings.ToLower(w)) || next(3) != 0 {
				continue
			}
			b := []byte(w)
			j := 1 + next(len(b)-2)
			switch next(4) {
			case 0:
				b = append(b[:j], b[j+1:]...)
			case 1:
				b = append(b[:j+1], b[j:]...)
			case 2:
				b[j] = byte('a' + next(26))
			default:
				b[j], b[j+1] = b[j+1], b[j]
			}
			words[k] = string(b)
		}
		out[i] = e
		out[i].Text = strings.Join(words, " ")
	}
	return out
}

// TestEvaluateTypos measures the test split with typing slips, with and
// without the speller: correcting must pay for itself.
func TestEvaluateTypos(t *testing.T) {
	u, err := New()
	if err != nil {
		t.Fatal(err)
	}
	noisy := withTypos(loadSplit(t, "test.jsonl"))
	with := evaluate(t, u, noisy)
	u.spell = speller{}
	without := evaluate(t, u, noisy)
	acc := func(st evalStats) float64 { return float64(st.right) / float64(st.total) }
	t.Logf("test split with typos: %d/%d = %.3f with the speller, %d/%d = %.3f without",
		with.right, with.total, acc(with), without.right, without.total, acc(without))
	if acc(with) < acc(without) {
		t.Errorf("the speller loses accuracy on typos: %.3f with, %.3f without", acc(with), acc(without))
	}
	if acc(with) < floorTypos {
		t.Errorf("accuracy with typos %.3f below floor %.3f", acc(with), floorTypos)
	}
}
