package ocpp

import "testing"

func TestDropNulls(t *testing.T) {
	tests := []struct {
		name, in, want string
		dropped        bool
	}{
		{"no null", `{"status":"Accepted"}`, `{"status":"Accepted"}`, false},
		{"null in a string is kept", `{"info":"null"}`, `{"info":"null"}`, false},
		{"top-level null dropped", `{"status":"Accepted","statusInfo":null}`, `{"status":"Accepted"}`, true},
		{"spaced null dropped", `{"statusInfo" : null , "status":"Accepted"}`, `{"status":"Accepted"}`, true},
		{"nested null kept", `{"a":{"b":null}}`, `{"a":{"b":null}}`, false},
		{"not an object", `[null]`, `[null]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped := DropNulls([]byte(tt.in))
			if string(got) != tt.want || dropped != tt.dropped {
				t.Fatalf("DropNulls(%s) = %s, %v; want %s, %v", tt.in, got, dropped, tt.want, tt.dropped)
			}
		})
	}
}
