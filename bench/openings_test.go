package bench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
)

// openingLines are the lines of testdata/openings.jsonl by id, as the
// tasks should carry them.
var openingLines = map[string]struct {
	text, lang, category, charger string
	channel                       chargedesk.Channel
}{
	"op1": {"Hi, I'm at charger MPL-TOR-0042 and my cable is stuck, it won't come out of the plug", "en", "connector_stuck", "MPL-TOR-0042", chargedesk.ChannelChat},
	"op2": {"la borne affiche hors ligne, impossible de démarrer la recharge", "fr", "charger_offline", "", chargedesk.ChannelChat},
	"op3": {"mi tarjeta fue rechazada en el cargador, no puedo pagar la sesión", "es", "payment_failure", "", chargedesk.ChannelChat},
	"op4": {"I've been plugged in for ten minutes and the session never starts", "en", "session_wont_start", "", chargedesk.ChannelChat},
	"op5": {"um yeah my rfid card doesnt work the reader just beeps at me", "en", "rfid_failure", "", chargedesk.ChannelVoice},
	"7":   {"card declined at VLT-SEA-7310", "en", "payment_failure", "VLT-SEA-7310", chargedesk.ChannelSMS},
}

func readOpenings(t *testing.T, seed int64) ([]Task, *OpeningsNote) {
	t.Helper()
	f, err := os.Open("testdata/openings.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tasks, note, err := BuildOpenings(f, OpeningsOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return tasks, note
}

func TestBuildOpenings(t *testing.T) {
	tasks, note := readOpenings(t, 3)
	want := &OpeningsNote{Lines: 7, Used: 6, Skipped: 1, SkippedCategories: map[string]int{"billing_dispute": 1},
		SkippedLanguages: map[string]int{}, DetectedLang: 2, ChargerFromText: 2}
	if diff := cmp.Diff(want, note); diff != "" {
		t.Errorf("note (-want +got):\n%s", diff)
	}
	if len(tasks) != 6 {
		t.Fatalf("%d tasks, want 6", len(tasks))
	}
	ids := map[string]bool{}
	for _, task := range tasks {
		l, ok := openingLines[task.OpeningID]
		if !ok {
			t.Fatalf("task %s from unknown line %q", task.ID, task.OpeningID)
		}
		spec, _ := faultSpec(task.Fault)
		if task.Opening != l.text || task.Lang != l.lang || task.Category != l.category || spec.Category != l.category ||
			task.ChargerID != l.charger || task.Channel != l.channel {
			t.Errorf("line %s gave task %+v", task.OpeningID, task)
		}
		if spec.Only16 && task.Protocol != chargedesk.OCPP16 {
			t.Errorf("%s: %s on %s", task.ID, task.Fault, task.Protocol)
		}
		if task.Persona == PersonaTrickster || (task.Persona == PersonaTerse) != (task.Channel == chargedesk.ChannelSMS) {
			t.Errorf("%s: persona %s on %s", task.ID, task.Persona, task.Channel)
		}
		if ids[task.ID] {
			t.Errorf("duplicate task id %s", task.ID)
		}
		ids[task.ID] = true
	}
	// Two payment lines get two different payment faults: dealt
	// round-robin.
	var pay []string
	for _, task := range tasks {
		if task.Category == chargedesk.CategoryPaymentFailure {
			pay = append(pay, task.Fault)
		}
	}
	if len(pay) != 2 || pay[0] == pay[1] {
		t.Errorf("payment faults %v", pay)
	}
	again, _ := readOpenings(t, 3)
	if diff := cmp.Diff(tasks, again); diff != "" {
		t.Errorf("same seed, different tasks:\n%s", diff)
	}
	var differ bool
	for s := int64(4); s < 10 && !differ; s++ {
		other, _ := readOpenings(t, s)
		differ = !cmp.Equal(tasks, other)
	}
	if !differ {
		t.Error("every seed gave the same tasks")
	}
}

func TestBuildOpeningsRejects(t *testing.T) {
	long := `{"id":1,"text":"` + strings.Repeat("x", MaxOpeningLineBytes) + `","category":"connector_stuck"}`
	ok := `{"id":1,"text":"cable stuck","lang":"en","category":"connector_stuck"}`
	tests := []struct {
		name, in, want string
	}{
		{"long line", ok + "\n" + long + "\n", fmt.Sprintf("line 2 is %d bytes, longer than the limit of 2000", len(long))},
		{"long last line", ok + "\n" + long + strings.Repeat("y", 10<<10), "line 2 is longer than the limit of 2000 bytes"},
		{"too many lines", strings.Repeat(ok+"\n", MaxOpeningLines) + ok + "\n", "more than 100000 lines (line 100001)"},
		{"not JSON", ok + "\n{id: 2}\n", "line 2: invalid JSON"},
		{"no text", `{"id":1,"text":" ","category":"connector_stuck"}`, "line 1: no text"},
		{"unknown channel", `{"id":1,"text":"stuck","category":"connector_stuck","channel":"fax"}`, `line 1: unknown channel "fax"`},
		{"nothing to use", `{"id":1,"text":"charged twice","category":"billing_dispute"}
{"id":2,"text":"Kabel steckt fest","lang":"de","category":"connector_stuck"}`, "no line of a core category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := BuildOpenings(strings.NewReader(tt.in), OpeningsOptions{Seed: 1, Detect: func(string) string { return "en" }})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestOpeningsRun plays the openings on the real stack with the honest
// driver: each driver opens with its line's text exactly, the charger an
// opening names is the task's, and the report counts the trials per
// category and language.
func TestOpeningsRun(t *testing.T) {
	tasks, note := readOpenings(t, 3)
	cfg := fastConfig()
	cfg.Driver = DriverHonest
	rep, err := Run(t.Context(), tasks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep.Openings = note
	logFailures(t, rep)
	if rep.Tasks != 6 || rep.Overall.Trials != 6 {
		t.Fatalf("%d tasks, %d trials", rep.Tasks, rep.Overall.Trials)
	}
	for _, r := range rep.Results {
		l := openingLines[r.OpeningID]
		if r.Error != "" && strings.HasPrefix(r.Error, "bench:") {
			t.Errorf("%s: world not built: %s", r.TaskID, r.Error)
		}
		first := slices.IndexFunc(r.Transcript, func(s string) bool { return strings.HasPrefix(s, "driver: ") })
		if first < 0 || r.Transcript[first] != "driver: "+l.text {
			t.Errorf("%s: first driver message %q, want %q", r.TaskID, r.Transcript, l.text)
		}
	}
	got := map[string]int{}
	for _, c := range rep.Categories {
		got[c.Category] = c.Trials
	}
	if diff := cmp.Diff(map[string]int{"session_wont_start": 1, "payment_failure": 2, "charger_offline": 1, "connector_stuck": 1,
		"rfid_failure": 1}, got); diff != "" {
		t.Errorf("trials per category (-want +got):\n%s", diff)
	}
	langs := map[string]int{}
	for _, g := range rep.Languages {
		langs[g.Group] = g.Trials
	}
	if diff := cmp.Diff(map[string]int{"en": 4, "fr": 1, "es": 1}, langs); diff != "" {
		t.Errorf("trials per language (-want +got):\n%s", diff)
	}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil || !strings.Contains(b.String(), "openings: 7 lines, 6 used, 1 skipped (category billing_dispute: 1)") {
		t.Errorf("table %q %v", b.String(), err)
	}
}

// TestOpeningsSameCharger runs two trials of an opening naming its
// charger: they cannot share a stack, so each gets one, and both worlds
// are built with the named charger.
func TestOpeningsSameCharger(t *testing.T) {
	task := taskOf(t, "s-lock", "lock_after_session", chargedesk.OCPP16)
	task.Opening, task.ChargerID = "my cable is stuck at AMP-DEN-0007, it will not come out", "AMP-DEN-0007"
	cfg := fastConfig()
	cfg.Driver = DriverHonest
	cfg.Seeds = 2
	rep, err := Run(t.Context(), []Task{task}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	logFailures(t, rep)
	for _, r := range rep.Results {
		if r.Error != "" && strings.HasPrefix(r.Error, "bench:") || len(r.Transcript) == 0 ||
			!strings.Contains(strings.Join(r.Transcript, "\n"), "driver: "+task.Opening) {
			t.Errorf("trial %d: error %q, transcript %q", r.Trial, r.Error, r.Transcript)
		}
	}
	if rep.AuditError != "" {
		t.Error(rep.AuditError)
	}
}
