package console

import "time"

// SetLiveTiming shortens a console's live streams for tests; call it
// before the console serves.
func SetLiveTiming(c *Console, heartbeat, maxAge time.Duration) {
	c.live = liveTiming{heartbeat: heartbeat, maxAge: maxAge}
}
