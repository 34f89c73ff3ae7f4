// Package ssetest is a Server-Sent Events client for tests: it opens a
// stream over real HTTP and hands its events one by one.
package ssetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Event is one event received.
type Event struct {
	Name, ID, Data string
}

// Stream is an open event stream.
type Stream struct {
	Status int
	Header http.Header
	events chan Event
	done   chan error
	cancel context.CancelFunc
}

// Open GETs url with header (cookies come from client's jar) and, when the
// answer is 200, reads its events in the background. The stream is closed
// by Close.
func Open(client *http.Client, url string, header http.Header) (*Stream, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "text/event-stream")
	// The client's own timeout would cut the stream: the context bounds it.
	c := *client
	c.Timeout = 0
	res, err := c.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &Stream{Status: res.StatusCode, Header: res.Header, events: make(chan Event, 256), done: make(chan error, 1), cancel: cancel}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		cancel()
		close(s.events)
		s.done <- fmt.Errorf("status %d", res.StatusCode)
		return s, nil
	}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev Event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Data != "" || ev.Name != "" {
					select {
					case s.events <- ev:
					case <-ctx.Done():
						s.done <- ctx.Err()
						return
					}
				}
				ev = Event{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				if ev.Data != "" {
					ev.Data += "\n"
				}
				ev.Data += strings.TrimPrefix(line, "data: ")
			}
		}
		s.done <- sc.Err()
	}()
	return s, nil
}

// ErrClosed is Next's error once the stream ended.
var ErrClosed = errors.New("ssetest: the stream ended")

// Next returns the next event, or an error when none comes within
// timeout or the stream ended.
func (s *Stream) Next(timeout time.Duration) (Event, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			return Event{}, ErrClosed
		}
		return ev, nil
	case <-time.After(timeout):
		return Event{}, fmt.Errorf("ssetest: no event within %v", timeout)
	}
}

// Until returns the events up to and including the first one for which
// match reports true, or an error when none comes within timeout.
func (s *Stream) Until(timeout time.Duration, match func(Event) bool) ([]Event, error) {
	end := time.Now().Add(timeout)
	var seen []Event
	for {
		ev, err := s.Next(time.Until(end))
		if err != nil {
			return seen, err
		}
		seen = append(seen, ev)
		if match(ev) {
			return seen, nil
		}
	}
}

// Close ends the stream.
func (s *Stream) Close() { s.cancel() }
