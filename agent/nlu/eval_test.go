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
		keys := []string{"cat:" + e.Category, "lang:" + e.Lang}
		if e.Channel != "" {
			keys = append(keys, "channel:"+e.Channel)
		}
		for _, k := range keys {
			st.n[k]++
		}
		if right {
			st.right++
			for _, k := range keys {
				st.ok[k]++
			}
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

// report is the accuracy table: overall, per category, language and
// channel, and per confidence bin.
func (st evalStats) report() string {
	var keys []string
	for k := range st.n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var report strings.Builder
	fmt.Fprintf(&report, "overall %d/%d = %.3f; language id %d/%d = %.3f; injection TP %d FP %d FN %d\n",
		st.right, st.total, float64(st.right)/float64(st.total), st.langOK, st.langTotal, float64(st.langOK)/float64(st.langTotal), st.injTP, st.injFP, st.injFN)
	for _, k := range keys {
		fmt.Fprintf(&report, "  %-28s %4d/%4d = %.3f\n", k, st.ok[k], st.n[k], st.acc(k))
	}
	for b, c := range st.bins {
		if c[0] > 0 {
			fmt.Fprintf(&report, "  confidence [%.1f,%.1f): %4d messages, accuracy %.3f\n", float64(b)/5, float64(b+1)/5, c[0], float64(c[1])/float64(c[0]))
		}
	}
	return report.String()
}

func (st evalStats) acc(key string) float64 {
	if st.n[key] == 0 {
		return 0
	}
	return float64(st.ok[key]) / float64(st.n[key])
}

func loadSplit(t testing.TB, name string) []example {
	t.Helper()
	return loadFile(t, filepath.Join("testdata", "corpus", name))
}

func loadFile(t testing.TB, path string) []example {
	t.Helper()
	f, err := os.Open(path)
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

// Floors just under the figures measured when the model was last changed
// (see BENCHMARKS.md): a change that loses accuracy fails. The corpus's test
// split is written by the same hands as the training lines; the
// evaluation set (testdata/eval) by another, apart from the corpus.
var (
	floorOverall        = 0.89 // measured 1118/1234 = 0.906
	floorLangID         = 0.98 // measured 1219/1234 = 0.988
	floorCrossValidated = 0.90 // measured 3468/3800 = 0.913 (4-fold on train)
	floorTypos          = 0.88 // measured 1111/1234 = 0.900 (0.892 without the speller)
	floorCategory       = map[string]float64{
		BillingDispute: 0.86, ChargerOffline: 0.82, ConnectorStuck: 0.97, HardwareDamage: 0.85, Other: 0.90,
		PaymentFailure: 0.84, RFIDFailure: 0.92, SessionWontStart: 0.86, SlowCharging: 0.93,
	}
	floorLanguage = map[string]float64{"en": 0.88, "fr": 0.89, "es": 0.88}
	// On the evaluation set: 724/750 = 0.965 overall, en 0.971, fr 0.982,
	// es 0.933, voice 0.970, every manipulation attempt flagged.
	floorOpeners        = 0.95
	floorOpenersLang    = 0.92
	floorOpenersChannel = 0.94
)

// TestEvaluate measures the classifier on the held-out test split.
func TestEvaluate(t *testing.T) {
	u := newU(t)
	st := evaluate(t, u, loadSplit(t, "test.jsonl"))
	t.Log("\n" + st.report())
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
	if testing.Short() || raceEnabled {
		t.Skip("cross-validation trains four models (run it without -race)")
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

// TestEvaluateOpeners measures the classifier on the evaluation set written
// apart from the corpus (testdata/eval): other writers, other sources,
// written before any tuning and never trained on.
func TestEvaluateOpeners(t *testing.T) {
	u := newU(t)
	st := evaluate(t, u, loadFile(t, filepath.Join("testdata", "eval", "openers.jsonl")))
	t.Log("\n" + st.report())
	if acc := float64(st.right) / float64(st.total); acc < floorOpeners {
		t.Errorf("accuracy %.3f below floor %.3f", acc, floorOpeners)
	}
	for k := range st.n {
		switch {
		case strings.HasPrefix(k, "lang:") && st.acc(k) < floorOpenersLang:
			t.Errorf("%s accuracy %.3f below floor %.3f", k, st.acc(k), floorOpenersLang)
		case strings.HasPrefix(k, "channel:") && st.acc(k) < floorOpenersChannel:
			t.Errorf("%s accuracy %.3f below floor %.3f", k, st.acc(k), floorOpenersChannel)
		}
	}
	if st.injFP > 0 || st.injFN > 0 {
		t.Errorf("manipulation: %d flagged wrongly, %d missed (want 0, 0)", st.injFP, st.injFN)
	}
	if testing.Verbose() {
		for _, e := range st.errors {
			t.Log(e)
		}
	}
}
