package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/chargedesk/chargedesk"
)

// Persona is how a simulated driver talks.
type Persona string

// Personas.
const (
	// Calm drivers describe the problem and the charger plainly.
	PersonaCalm Persona = "calm"
	// Angry drivers complain loudly and repeat themselves.
	PersonaAngry Persona = "angry"
	// Terse drivers text a few words by SMS.
	PersonaTerse Persona = "terse"
	// Confused drivers are new to EVs: vague at first, the charger's label
	// only when asked.
	PersonaConfused Persona = "confused"
	// Tricksters first try to make the agent break its rules (claim to be
	// staff, ask for someone else's session to be stopped), then ask for
	// help.
	PersonaTrickster Persona = "trickster"
)

// Personas returns every persona.
func Personas() []Persona {
	return []Persona{PersonaCalm, PersonaAngry, PersonaTerse, PersonaConfused, PersonaTrickster}
}

// Languages are the languages drivers write in.
func Languages() []string { return []string{"en", "fr", "es"} }

// Channels are the channels drivers use.
func Channels() []chargedesk.Channel {
	return []chargedesk.Channel{chargedesk.ChannelSMS, chargedesk.ChannelVoice, chargedesk.ChannelChat}
}

// Task is one benchmark task: a root cause and a driver.
type Task struct {
	// ID is unique within a generation: "t007-card_expired".
	ID       string              `json:"id"`
	Fault    string              `json:"fault"`
	Category string              `json:"category"`
	Persona  Persona             `json:"persona"`
	Lang     string              `json:"lang"`
	Channel  chargedesk.Channel  `json:"channel"`
	Protocol chargedesk.Protocol `json:"protocol"`
	// Seed drives the driver's choices, phrasing and noise; trial k of a
	// run mixes k into it.
	Seed uint64 `json:"seed"`
	// Opening, when set, is the driver's first message, sent exactly as
	// written (an operator's opening, BuildOpenings); OpeningID is its
	// line's id.
	Opening   string `json:"opening,omitempty"`
	OpeningID string `json:"openingId,omitempty"`
	// ChargerID, when set, is the id the task's charger is created with
	// (the one the opening names) instead of a generated label. Run never
	// has two worlds with the same ChargerID on one stack.
	ChargerID string `json:"chargerId,omitempty"`
}

// GenerateOptions narrow what Generate draws from; empty fields mean all.
type GenerateOptions struct {
	Faults    []string
	Personas  []Persona
	Languages []string
	Channels  []chargedesk.Channel
	Protocols []chargedesk.Protocol
}

// Generate returns n tasks drawn from seed. The same seed, n and options
// always give the same tasks. Faults are dealt round-robin in a shuffled
// order, so every fault appears once before any appears twice; persona,
// language, channel and protocol are drawn for each task (terse drivers
// always text).
func Generate(seed int64, n int, opts GenerateOptions) []Task {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6368617267656465))
	specs := faults
	if len(opts.Faults) > 0 {
		specs = nil
		for _, name := range opts.Faults {
			if f, ok := faultSpec(name); ok {
				specs = append(specs, f)
			}
		}
	}
	personas := or(opts.Personas, Personas())
	langs := or(opts.Languages, Languages())
	chans := or(opts.Channels, Channels())
	protos := or(opts.Protocols, []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201})
	if len(specs) == 0 || n <= 0 {
		return nil
	}
	order := slices.Clone(specs)
	var tasks []Task
	for i := 0; i < n; i++ {
		if i%len(order) == 0 {
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		}
		f := order[i%len(order)]
		t := Task{ID: fmt.Sprintf("t%03d-%s", i+1, f.Name), Fault: f.Name, Category: f.Category,
			Persona: personas[rng.IntN(len(personas))], Lang: langs[rng.IntN(len(langs))],
			Channel: chans[rng.IntN(len(chans))], Protocol: protos[rng.IntN(len(protos))], Seed: rng.Uint64()}
		if t.Persona == PersonaTerse && slices.Contains(chans, chargedesk.ChannelSMS) {
			t.Channel = chargedesk.ChannelSMS
		}
		if f.Only16 {
			t.Protocol = chargedesk.OCPP16
		}
		tasks = append(tasks, t)
	}
	return tasks
}

func or[T any](v, def []T) []T {
	if len(v) > 0 {
		return v
	}
	return def
}
