package diagnose

import (
	"fmt"
	"time"
)

// clock formats t as a wall-clock time in the location of now.
func clock(t, now time.Time) string {
	t = t.In(now.Location())
	if now.Sub(t) >= 24*time.Hour || t.YearDay() != now.In(now.Location()).YearDay() {
		return t.Format("Jan 2 15:04")
	}
	return t.Format("15:04")
}

// dur formats a duration the way a person says it: "40 s", "12 min",
// "3 h 5 min", "2 days".
func dur(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// ago formats how long before now t was: "3 min ago".
func ago(t, now time.Time) string { return dur(now.Sub(t)) + " ago" }

// at formats an instant with its age: "14:02 (12 min ago)".
func at(t, now time.Time) string { return clock(t, now) + " (" + ago(t, now) + ")" }

// money formats cents as dollars.
func money(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
