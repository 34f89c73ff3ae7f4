package agent

import "testing"

func TestHazardAndPowerPhrases(t *testing.T) {
	tests := []struct {
		name  string
		match func(string) bool
		text  string
		want  bool
	}{
		{"en wires seen", visibleWires, "The charger's cable is damaged, you can see the wires", true},
		{"en wires typo", visibleWires, "The charger's cable is damaged, you can see the wres I'm at ION-AUS-1252!", true},
		{"es cables seen", visibleWires, "el cable del cargador está dañado se ven los cables", true},
		{"fr fils seen", visibleWires, "le câble de la borne est abîmé, on voit les fils", true},
		{"tires are not wires", visibleWires, "I can see the tires from here", false},
		{"damage alone", visibleWires, "the screen is cracked", false},
		{"fr cut cable", clearHazard, "le câble est coupé et les fils sont à nu, c'est dangereux", true},
		{"es cut cable", clearHazard, "el cable está cortado", true},
		{"danger alone is no hazard", clearHazard, "it's dangerous to wait here at night, the charger won't start", false},
		{"power dead screen", powerOut, "it's offline, the screen is dead", true},
		{"power fr", powerOut, "la borne est hors ligne, l'écran est noir", true},
		{"power es", powerOut, "el cargador está desconectado y nada funciona", true},
		{"no connection is no power cut", powerOut, "it's offline, the screen says no connection", false},
		{"lost connection fr", powerOut, "la borne dit qu'elle a perdu la connexion", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.match(tt.text); got != tt.want {
				t.Errorf("match(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}
