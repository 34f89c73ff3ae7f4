package sse

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestStream(t *testing.T) {
	wake := NewWake()
	runErr := make(chan error, 1)
	sends := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := Start(w, Limits{Heartbeat: 50 * time.Millisecond, MaxAge: 400 * time.Millisecond, Retry: 2 * time.Second})
		if err != nil {
			t.Error(err)
			return
		}
		runErr <- s.Run(r.Context(), wake, func() error {
			sends++
			return s.Event("turn", "7", []byte(`{"text":"<b>hi</b>"}`))
		})
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	wake.Notify()
	wake.Notify() // coalesced with the one before, or a third send: both fine
	var lines []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"retry: 2000", "event: turn\nid: 7\ndata: {\"text\":\"<b>hi</b>\"}", ": ping", ": bye"} {
		if !strings.Contains(text, want) {
			t.Errorf("stream lacks %q:\n%s", want, text)
		}
	}
	if err := <-runErr; !errors.Is(err, ErrMaxAge) {
		t.Errorf("Run ended with %v, want ErrMaxAge", err)
	}
	if sends < 2 {
		t.Errorf("%d sends, want the first and one per wake", sends)
	}
}

func TestStreamEndsWithTheRequest(t *testing.T) {
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := Start(w, Limits{})
		if err != nil {
			t.Error(err)
			return
		}
		done <- s.Run(r.Context(), NewWake(), func() error { return nil })
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	res.Body.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after the client left: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run goes on after the client left")
	}
}

func TestEventRefusesLineBreaks(t *testing.T) {
	rec := httptest.NewRecorder()
	s, err := Start(rec, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range [][3]string{{"a\nb", "", "{}"}, {"turn", "1\n", "{}"}, {"turn", "1", "{\n}"}} {
		if err := s.Event(ev[0], ev[1], []byte(ev[2])); err == nil {
			t.Errorf("event %q accepted", ev)
		}
	}
}

func TestLastEventID(t *testing.T) {
	for _, tt := range []struct {
		header, query string
		want          int64
		ok            bool
	}{
		{"", "", 0, true}, {"12", "", 12, true}, {"", "5", 5, true}, {"3", "9", 3, true},
		{"-1", "", 0, false}, {"x", "", 0, false}, {"", "1e3", 0, false}, {"9999999999999999999", "", 0, false},
	} {
		r := httptest.NewRequest("GET", "/?after="+tt.query, nil)
		if tt.header != "" {
			r.Header.Set("Last-Event-ID", tt.header)
		}
		got, err := LastEventID(r)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("header %q query %q: %d, %v; want %d ok=%v", tt.header, tt.query, got, err, tt.want, tt.ok)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, 2)
	r1, ok1 := l.Acquire("client-a", "conv-1")
	_, ok2 := l.Acquire("client-a", "conv-2")
	_, ok3 := l.Acquire("client-a", "conv-3") // client-a has 2
	r4, ok4 := l.Acquire("client-b", "conv-1")
	_, ok5 := l.Acquire("client-c", "conv-4") // 3 in all
	if !ok1 || !ok2 || ok3 || !ok4 || ok5 {
		t.Fatalf("acquired %v %v %v %v %v", ok1, ok2, ok3, ok4, ok5)
	}
	r1()
	r1() // once
	if _, ok := l.Acquire("client-c", "conv-4"); !ok {
		t.Fatal("a released place is not given again")
	}
	r4()
	if _, ok := l.Acquire("client-a", "conv-1"); !ok {
		t.Fatal("client-a refused within its bound")
	}
	if _, ok := l.Acquire("client-a", "conv-5"); ok {
		t.Fatal("client-a over its bound")
	}
}
