package twiliotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Message is one request the fake received on the Messages resource.
type Message struct {
	SID  string
	To   string
	From string
	Body string
}

// CallUpdate is one request the fake received on a Call resource.
type CallUpdate struct {
	CallSID string
	Twiml   string
}

// API is a fake of Twilio's REST API for one account, listening on
// loopback. It answers as Twilio documents: 201 with the created message's
// JSON (sid, status "queued") on Messages, 200 with the call's JSON on
// Calls, 401 with Twilio's error JSON on wrong credentials.
type API struct {
	// URL is the base URL to configure as the REST API URL.
	URL string

	accountSID, authToken string
	srv                   *httptest.Server

	mu       sync.Mutex
	messages []Message
	calls    []CallUpdate
	fail     []failure
	changed  chan struct{}
	seq      int
}

type failure struct {
	status  int
	code    int
	message string
}

// NewAPI starts a fake REST API for the account; Close stops it.
func NewAPI(accountSID, authToken string) *API {
	a := &API{accountSID: accountSID, authToken: authToken, changed: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	a.URL = a.srv.URL
	return a
}

// Close stops the fake.
func (a *API) Close() { a.srv.Close() }

// FailNext makes the next request answer status with Twilio's error body.
func (a *API) FailNext(status, code int, message string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = append(a.fail, failure{status, code, message})
}

// Messages returns the messages sent so far.
func (a *API) Messages() []Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Message(nil), a.messages...)
}

// Calls returns the call updates received so far.
func (a *API) Calls() []CallUpdate {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]CallUpdate(nil), a.calls...)
}

// WaitMessages waits until at least n messages were sent or timeout passes,
// and returns the messages sent.
func (a *API) WaitMessages(n int, timeout time.Duration) []Message {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		got, ch := len(a.messages), a.changed
		a.mu.Unlock()
		if got >= n {
			return a.Messages()
		}
		select {
		case <-ch:
		case <-deadline.C:
			return a.Messages()
		}
	}
}

func (a *API) writeError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != a.accountSID || pass != a.authToken {
		a.writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.Method != http.MethodPost {
		a.writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	prefix := "/2010-04-01/Accounts/" + a.accountSID + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		a.writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if err := r.ParseForm(); err != nil {
		a.writeError(w, http.StatusBadRequest, 20001, "Invalid form")
		return
	}
	a.mu.Lock()
	if len(a.fail) > 0 {
		f := a.fail[0]
		a.fail = a.fail[1:]
		a.mu.Unlock()
		a.writeError(w, f.status, f.code, f.message)
		return
	}
	a.mu.Unlock()
	res := strings.TrimPrefix(r.URL.Path, prefix)
	now := time.Now().UTC().Format(time.RFC1123Z)
	switch {
	case res == "Messages.json":
		to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
		if to == "" {
			a.writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
			return
		}
		if from == "" {
			a.writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
			return
		}
		if body == "" {
			a.writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
			return
		}
		a.mu.Lock()
		a.seq++
		sid := fmt.Sprintf("SM%032x", a.seq)
		a.messages = append(a.messages, Message{SID: sid, To: to, From: from, Body: body})
		close(a.changed)
		a.changed = make(chan struct{})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{
			"sid": sid, "account_sid": a.accountSID, "to": to, "from": from, "body": body,
			"status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
			"date_created": now, "date_updated": now, "num_segments": "1",
			"uri": prefix + "Messages/" + sid + ".json",
		})
	case strings.HasPrefix(res, "Calls/") && strings.HasSuffix(res, ".json"):
		sid := strings.TrimSuffix(strings.TrimPrefix(res, "Calls/"), ".json")
		twiml := r.PostForm.Get("Twiml")
		a.mu.Lock()
		a.calls = append(a.calls, CallUpdate{CallSID: sid, Twiml: twiml})
		close(a.changed)
		a.changed = make(chan struct{})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"sid": sid, "account_sid": a.accountSID, "status": "in-progress",
			"api_version": "2010-04-01", "date_updated": now,
			"uri": prefix + "Calls/" + sid + ".json",
		})
	default:
		a.writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	}
}
