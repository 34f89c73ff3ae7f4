package natsbus

import (
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
)

const safeChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

func TestEscapeChargerID(t *testing.T) {
	tests := []struct {
		name, id, want string
	}{
		{"plain", "CP001", "CP001"},
		{"dash", "site-7-cp-2", "site-7-cp-2"},
		{"dot", "a.b", "a_2Eb"},
		{"underscore", "a_b", "a_5Fb"},
		{"mixed", "CP_01.a", "CP_5F01_2Ea"},
		{"only separators", "._-", "_2E_5F-"},
		{"dots", "..", "_2E_2E"},
		{"looks escaped", "a_2Eb", "a_5F2Eb"},
		{"escape text after dot", "x.5F", "x_2E5F"},
		{"longest", strings.Repeat("a.", 24), strings.Repeat("a_2E", 24)},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := chargedesk.ValidateChargerID(tt.id); err != nil {
				t.Fatalf("test id is not valid: %v", err)
			}
			got := EscapeChargerID(tt.id)
			if got != tt.want {
				t.Errorf("EscapeChargerID(%q) = %q, want %q", tt.id, got, tt.want)
			}
			if strings.Trim(got, safeChars) != "" {
				t.Errorf("EscapeChargerID(%q) = %q has characters outside letters, digits, '-' and '_'", tt.id, got)
			}
			back, err := UnescapeChargerID(got)
			if err != nil || back != tt.id {
				t.Errorf("UnescapeChargerID(%q) = %q, %v; want %q", got, back, err, tt.id)
			}
			if other, ok := seen[got]; ok && other != tt.id {
				t.Errorf("ids %q and %q escape to the same token %q", other, tt.id, got)
			}
			seen[got] = tt.id
		})
	}
}

func TestUnescapeChargerIDRejects(t *testing.T) {
	for _, tok := range []string{"", "a.b", "a_", "a_2", "a_2e", "a_41", "a*b", ">", "a b", "_5", strings.Repeat("a", 49)} {
		t.Run(tok, func(t *testing.T) {
			id, err := UnescapeChargerID(tok)
			if chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Errorf("UnescapeChargerID(%q) = %q, %v; want an EINVALID error", tok, id, err)
			}
		})
	}
}

func FuzzEscapeChargerID(f *testing.F) {
	for _, s := range []string{"CP001", "a.b", "a_b", "_2E", "..__--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if chargedesk.ValidateChargerID(id) != nil {
			return
		}
		tok := EscapeChargerID(id)
		if strings.Trim(tok, safeChars) != "" {
			t.Fatalf("EscapeChargerID(%q) = %q has characters outside letters, digits, '-' and '_'", id, tok)
		}
		back, err := UnescapeChargerID(tok)
		if err != nil || back != id {
			t.Fatalf("round trip of %q through %q gave %q, %v", id, tok, back, err)
		}
	})
}
