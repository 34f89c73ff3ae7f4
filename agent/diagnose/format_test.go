package diagnose

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0 s"}, {40 * time.Second, "40 s"}, {12 * time.Minute, "12 min"}, {2 * time.Hour, "2 h"},
		{185 * time.Minute, "3 h 5 min"}, {72 * time.Hour, "3 days"},
	} {
		if got := dur(tc.d); got != tc.want {
			t.Errorf("dur(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := clock(now.Add(-26*time.Hour), now); got != "Mar 9 12:30" {
		t.Errorf("clock a day ago = %q", got)
	}
	if got := at(now.Add(-3*time.Minute), now); got != "14:27 (3 min ago)" {
		t.Errorf("at = %q", got)
	}
	if got := money(15005); got != "$150.05" {
		t.Errorf("money = %q", got)
	}
}
