package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
)

// Test keys and the fixed clock.
const (
	aliceKey = "alice-key-0123456789abcdef"
	bobKey   = "bob-key-0123456789abcdefgh"
)

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// syncBuffer is a bytes.Buffer safe for a logger used by server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// calls records the arguments a fake received, safely across goroutines.
type calls[T any] struct{ ch chan T }

func newCalls[T any]() *calls[T] { return &calls[T]{ch: make(chan T, 64)} }

func (c *calls[T]) add(v T) { c.ch <- v }

// all returns what was recorded so far (the server has answered, so every
// call that happened is in the channel).
func (c *calls[T]) all() []T {
	var out []T
	for {
		select {
		case v := <-c.ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

// testAPI is an httpapi handler served over real HTTP on loopback.
type testAPI struct {
	t    *testing.T
	url  string
	logs *syncBuffer
}

// start serves httpapi.New(cfg) with test defaults for the fields left
// empty: empty fakes, the alice and bob keys, a log buffer and a fixed clock.
func start(t *testing.T, cfg httpapi.Config) *testAPI {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = &fakeStore{}
	}
	if cfg.Commands == nil {
		cfg.Commands = &fakeCommander{}
	}
	if cfg.APIKeys == nil {
		cfg.APIKeys = map[string]string{aliceKey: "alice", bobKey: "bob"}
	}
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	h, err := httpapi.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testAPI{t: t, url: srv.URL, logs: logs}
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// raw sends a request with the given headers and no API key unless the
// headers carry one.
func (a *testAPI) raw(method, path string, body io.Reader, header map[string]string) response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, body)
	if err != nil {
		a.t.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// call sends a request authenticated with alice's key; body "" sends none.
func (a *testAPI) call(method, path, body string) response {
	a.t.Helper()
	var r io.Reader
	hdr := map[string]string{"Authorization": "Bearer " + aliceKey}
	if body != "" {
		r = strings.NewReader(body)
		hdr["Content-Type"] = "application/json"
	}
	return a.raw(method, path, r, hdr)
}

// apiError is the error body as a client reads it.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks that res is an error answer with status and code, and
// that its message contains msgPart.
func wantError(t *testing.T, res response, status int, code, msgPart string) {
	t.Helper()
	if res.status != status {
		t.Errorf("status = %d, want %d; body %s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e apiError
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s does not decode: %v", res.body, err)
	}
	if e.Error.Code != code {
		t.Errorf("code = %q, want %q; body %s", e.Error.Code, code, res.body)
	}
	if !strings.Contains(e.Error.Message, msgPart) {
		t.Errorf("message = %q, want it to contain %q", e.Error.Message, msgPart)
	}
}

// wantJSON checks status and decodes the body into v.
func wantJSON(t *testing.T, res response, status int, v any) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body %s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("body %s does not decode: %v", res.body, err)
	}
}

// notFound returns an ENOTFOUND error as a store does.
func notFound(what string) error {
	return chargedesk.Errorf(chargedesk.ENOTFOUND, "%s not found", what)
}
