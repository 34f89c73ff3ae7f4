package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"golang.org/x/crypto/bcrypt"
)

// The session cookie and the sign-in form's own CSRF cookie.
const (
	sessionCookie = "chargedesk_console"
	signinCookie  = "chargedesk_signin"
)

// Password bounds: bcrypt reads at most 72 bytes.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 72
)

// HashPassword returns the bcrypt hash of an operator's password at cost
// (DefaultHashCost when 0). EINVALID for a password out of bounds.
func HashPassword(pw string, cost int) (string, error) {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "a password must be %d to %d bytes", MinPasswordLen, MaxPasswordLen)
	}
	if cost == 0 {
		cost = DefaultHashCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "hash password: %v", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the username is unknown, so that
// a sign-in takes as long whether or not the account exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such operator, no such password"), bcrypt.DefaultCost)

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionID is what the store keeps of a session's secret.
func sessionID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// signedIn is the operator of a request and their session.
type signedIn struct {
	op   *chargedesk.Operator
	sess *chargedesk.OperatorSession
}

type signedInKey struct{}

func operatorOf(ctx context.Context) signedIn {
	s, _ := ctx.Value(signedInKey{}).(signedIn)
	return s
}

// need serves h only to a signed-in operator whose role allows need; a
// request that changes something must also carry the session's CSRF token
// (form field "csrf" or header X-CSRF-Token). Signed out: a page is
// redirected to the sign-in form, anything else gets 401.
func (c *Console) need(need chargedesk.Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		si, ok := c.session(r)
		if !ok {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" {
				http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.fail(w, r, http.StatusUnauthorized, "Your session has ended. Please sign in again.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			tok := r.Header.Get("X-CSRF-Token")
			if tok == "" {
				r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
				tok = r.PostFormValue("csrf")
			}
			if !sameToken(tok, si.sess.CSRF) {
				c.log.Warn("console: request without its CSRF token refused", "operator", si.op.Username, "path", r.URL.Path)
				c.fail(w, r, http.StatusForbidden, "This form has expired. Reload the page and try again.")
				return
			}
		}
		if !si.op.Role.Allows(need) {
			c.fail(w, r, http.StatusForbidden, "Your role ("+string(si.op.Role)+") does not allow this.")
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), signedInKey{}, si)))
	})
}

// session returns the request's signed-in operator, if any: a session
// cookie naming an unexpired session of an enabled account.
func (c *Console) session(r *http.Request) (signedIn, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return signedIn{}, false
	}
	sess, err := c.cfg.Operators.OperatorSession(r.Context(), sessionID(ck.Value), c.cfg.Now())
	if err != nil {
		if chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			c.log.Error("console: read a session", "err", err)
		}
		return signedIn{}, false
	}
	op, err := c.cfg.Operators.Operator(r.Context(), sess.Username)
	if err != nil || op.Disabled {
		return signedIn{}, false
	}
	return signedIn{op: op, sess: sess}, true
}

// maxFormBytes bounds a console form.
const maxFormBytes = 64 << 10

// signinPage shows the sign-in form with a fresh token for its own CSRF
// check (a double-submitted cookie: there may be no session yet).
// Signing in while signed in replaces the session.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.renderSignin(w, r, http.StatusOK, "")
}

func (c *Console) renderSignin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	tok := randomToken(24)
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: tok, Path: "/console/signin", HttpOnly: true,
		Secure: c.cfg.Secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	w.Header().Set("Cache-Control", "no-store")
	c.pages.render(w, r, status, "signin", page{Title: "Sign in", CSRF: tok,
		Data: map[string]string{"Next": safeNext(r.URL.Query().Get("next")), "Problem": problem}})
}

// signin checks a username and password and starts a session: a new
// secret in the cookie (any earlier session cookie is replaced), a new
// CSRF token. Failures are counted per account and per client address.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	ck, err := r.Cookie(signinCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) {
		c.renderSignin(w, r, http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	user := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	pw := r.PostForm.Get("password")
	client := clientAddr(r)
	if wait := c.attempts.blocked(user, client); wait > 0 {
		c.log.Warn("console: sign-in refused: too many failures", "username", user, "client", client)
		w.Header().Set("Retry-After", itoa(int(wait.Seconds())+1))
		c.renderSignin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins. Try again in a few minutes.")
		return
	}
	op, err := c.cfg.Operators.Operator(r.Context(), user)
	hash := dummyHash
	if err == nil {
		hash = []byte(op.PasswordHash)
	} else if chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		c.log.Error("console: read an operator", "err", err)
		c.fail(w, r, http.StatusInternalServerError, "Sign-in is not available right now.")
		return
	}
	if len(pw) > MaxPasswordLen {
		pw = pw[:MaxPasswordLen+1] // bcrypt refuses it: a failure like any other
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
	if err != nil || !match || op.Disabled {
		c.attempts.failed(user, client)
		c.log.Warn("console: sign-in failed", "username", user, "client", client)
		c.renderSignin(w, r, http.StatusUnauthorized, "That username and password do not match an active account.")
		return
	}
	c.attempts.succeeded(user)
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		_ = c.cfg.Operators.DeleteOperatorSession(r.Context(), sessionID(ck.Value))
	}
	secret, now := randomToken(32), c.cfg.Now()
	sess := &chargedesk.OperatorSession{ID: sessionID(secret), Username: op.Username, CSRF: randomToken(32),
		CreatedAt: now, ExpiresAt: now.Add(c.cfg.SessionTTL)}
	if err := c.cfg.Operators.CreateOperatorSession(r.Context(), sess); err != nil {
		c.log.Error("console: create a session", "err", err)
		c.fail(w, r, http.StatusInternalServerError, "Sign-in is not available right now.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/console", HttpOnly: true,
		Secure: c.cfg.Secure, SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: "/console/signin", MaxAge: -1})
	c.audit(r.Context(), op, "console.signin", "", "ok", "from "+client)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

// signout ends the session.
func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	si := operatorOf(r.Context())
	if err := c.cfg.Operators.DeleteOperatorSession(r.Context(), si.sess.ID); err != nil {
		c.log.Error("console: end a session", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/console", MaxAge: -1, HttpOnly: true, Secure: c.cfg.Secure, SameSite: http.SameSiteLaxMode})
	c.audit(r.Context(), si.op, "console.signout", "", "ok", "")
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// safeNext keeps a redirect after sign-in inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, "/console/signin") {
		return "/console/"
	}
	return next
}

// clientAddr is the request's peer address without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Sign-in limits: after maxUserFailures failures for one account, or
// maxClientFailures from one address, within failureWindow, sign-ins are
// refused until the window has passed.
const (
	maxUserFailures   = 5
	maxClientFailures = 20
	failureWindow     = 15 * time.Minute
	maxTracked        = 10000
)

// attempts counts recent sign-in failures per account and per client
// address, in memory (per node: a limit, not an accounting).
type attempts struct {
	mu  sync.Mutex
	now func() time.Time
	by  map[string][]time.Time
}

func newAttempts(now func() time.Time) *attempts {
	return &attempts{now: now, by: map[string][]time.Time{}}
}

func (a *attempts) recent(key string, now time.Time) []time.Time {
	ts := a.by[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= failureWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(a.by, key)
	} else {
		a.by[key] = ts
	}
	return ts
}

// blocked returns how long sign-ins for user from client must wait.
func (a *attempts) blocked(user, client string) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	var wait time.Duration
	for key, limit := range map[string]int{"u:" + user: maxUserFailures, "c:" + client: maxClientFailures} {
		if ts := a.recent(key, now); len(ts) >= limit {
			wait = max(wait, failureWindow-now.Sub(ts[len(ts)-limit]))
		}
	}
	return wait
}

func (a *attempts) failed(user, client string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.by) > maxTracked {
		for k := range a.by {
			a.recent(k, now)
		}
	}
	for _, key := range []string{"u:" + user, "c:" + client} {
		a.by[key] = append(a.recent(key, now), now)
	}
}

func (a *attempts) succeeded(user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.by, "u:"+user)
}

// NewPassword returns a random password of 20 characters.
func NewPassword() string { return randomToken(15) }
