package textcut

import (
	"testing"
	"unicode/utf8"
)

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // é is two bytes: not cut in two
		{"héllo", 3, "hé"},
		{"€uro", 2, ""},
		{"", 0, ""},
	} {
		got := Bytes(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) || len(got) > c.n && len(c.in) > c.n {
			t.Errorf("Bytes(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestMarked(t *testing.T) {
	if got := Marked("short", 10); got != "short" {
		t.Errorf("uncut text marked: %q", got)
	}
	if got := Marked("a longer text", 8); got != "a longer…" {
		t.Errorf("Marked = %q", got)
	}
	if got := Marked("ça déborde", 2); got != "ç…" {
		t.Errorf("Marked = %q", got)
	}
}
