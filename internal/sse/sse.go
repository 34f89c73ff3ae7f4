// Package sse writes Server-Sent Events within bounds: each write must
// reach the client within a deadline (a slow client is dropped), a
// heartbeat comment keeps proxies from closing an idle stream, and a
// stream ends after a maximum age (the browser's EventSource reconnects,
// with Last-Event-ID). The console's live views and the web chat's
// receive path use it.
package sse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Limits.
const (
	DefaultHeartbeat    = 15 * time.Second
	DefaultMaxAge       = 30 * time.Minute
	DefaultWriteTimeout = 10 * time.Second
	DefaultRetry        = 3 * time.Second
)

// Limits bound one stream.
type Limits struct {
	// Heartbeat is how often a comment is written when nothing else is
	// (DefaultHeartbeat).
	Heartbeat time.Duration
	// MaxAge ends the stream (DefaultMaxAge).
	MaxAge time.Duration
	// WriteTimeout bounds each write and flush (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Retry is the reconnection delay the client is told (DefaultRetry).
	Retry time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Heartbeat <= 0 {
		l.Heartbeat = DefaultHeartbeat
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultMaxAge
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.Retry <= 0 {
		l.Retry = DefaultRetry
	}
	return l
}

// Stream is one client's event stream.
type Stream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	lim Limits
}

// Start answers with an event stream: its headers, the retry hint,
// flushed. An error means the connection cannot stream (no flusher).
func Start(w http.ResponseWriter, lim Limits) (*Stream, error) {
	s := &Stream{w: w, rc: http.NewResponseController(w), lim: lim.withDefaults()}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The server's read deadline has no business on a stream that only
	// writes; each write sets its own deadline.
	_ = s.rc.SetReadDeadline(time.Time{})
	if err := s.write("retry: " + strconv.FormatInt(s.lim.Retry.Milliseconds(), 10) + "\n\n"); err != nil {
		return nil, err
	}
	return s, nil
}

// Event writes one event named name with id (none when "") and data, a
// single line (JSON).
func (s *Stream) Event(name, id string, data []byte) error {
	if strings.ContainsAny(name, "\r\n") || strings.ContainsAny(id, "\r\n\x00") || strings.ContainsAny(string(data), "\r\n") {
		return errors.New("sse: event fields must be single lines")
	}
	var b strings.Builder
	if name != "" {
		b.WriteString("event: " + name + "\n")
	}
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	return s.write(b.String())
}

// Comment writes a comment line, which clients ignore.
func (s *Stream) Comment(text string) error {
	return s.write(": " + strings.NewReplacer("\r", " ", "\n", " ").Replace(text) + "\n\n")
}

func (s *Stream) write(text string) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.lim.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write([]byte(text)); err != nil {
		return err
	}
	if err := s.rc.Flush(); err != nil {
		return fmt.Errorf("sse: flush: %w", err)
	}
	return nil
}

// ErrMaxAge ends a stream that lived its Limits.MaxAge.
var ErrMaxAge = errors.New("sse: the stream reached its maximum age")

// Run calls send at once, then each time wake fires, and writes a
// heartbeat comment after each Heartbeat of quiet, until ctx ends (nil),
// the stream reaches its maximum age (ErrMaxAge), or send or a write
// fails (that error: the client is gone or too slow).
func (s *Stream) Run(ctx context.Context, wake <-chan struct{}, send func() error) error {
	if err := send(); err != nil {
		return err
	}
	age := time.NewTimer(s.lim.MaxAge)
	defer age.Stop()
	beat := time.NewTicker(s.lim.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-age.C:
			_ = s.Comment("bye")
			return ErrMaxAge
		case <-beat.C:
			if err := s.Comment("ping"); err != nil {
				return err
			}
		case <-wake:
			if err := send(); err != nil {
				return err
			}
			beat.Reset(s.lim.Heartbeat)
		}
	}
}

// Wake is a signal that never blocks its sender: several notifications
// before the receiver wakes are one.
type Wake chan struct{}

// NewWake returns a Wake.
func NewWake() Wake { return make(Wake, 1) }

// Notify wakes the receiver.
func (w Wake) Notify() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// Every notifies w every d until ctx ends: a stream's reading of the
// store again, without a feed or as a safety net beside one. It blocks;
// run it in its own goroutine.
func (w Wake) Every(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Notify()
		}
	}
}

// LastEventID returns the id the client last received (the Last-Event-ID
// header a reconnecting EventSource sends, else the query parameter
// after) as a non-negative integer; 0 when there is none. An id that is
// not one is an error.
func LastEventID(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || len(v) > 18 {
		return 0, errors.New("sse: the last event id is not a sequence number")
	}
	return n, nil
}

// Limiter bounds the streams open at once: in all, and per key (a
// client's address, a conversation).
type Limiter struct {
	mu       sync.Mutex
	maxTotal int
	maxPer   int
	total    int
	per      map[string]int
}

// NewLimiter returns a limiter of maxTotal streams, maxPer per key.
func NewLimiter(maxTotal, maxPer int) *Limiter {
	return &Limiter{maxTotal: maxTotal, maxPer: maxPer, per: map[string]int{}}
}

// Acquire takes a place for a stream counted under each of keys, and
// returns its release; ok is false (nothing taken) when a bound is
// reached.
func (l *Limiter) Acquire(keys ...string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.maxTotal {
		return nil, false
	}
	for _, k := range keys {
		if l.per[k] >= l.maxPer {
			return nil, false
		}
	}
	l.total++
	for _, k := range keys {
		l.per[k]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			for _, k := range keys {
				if l.per[k]--; l.per[k] <= 0 {
					delete(l.per, k)
				}
			}
		})
	}, true
}
