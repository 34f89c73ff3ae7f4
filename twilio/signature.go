package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// SignatureHeader is the header in which Twilio carries a request's signature.
const SignatureHeader = "X-Twilio-Signature"

// Signature returns the X-Twilio-Signature Twilio computes for a request to
// fullURL carrying the POST parameters form: the base64 of the HMAC-SHA1,
// keyed with the account's auth token, of the full URL followed by every
// parameter's name and value, parameters sorted by name. A parameter with
// several values contributes each of them, in the order given. For a GET
// request (a WebSocket upgrade) form is empty.
func Signature(authToken, fullURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range form[name] {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// PublicURL returns the URL Twilio used to reach r: the configured public
// base URL (scheme and host as the outside world sees them, for deployments
// behind a TLS proxy) followed by the request's path and query. When
// publicBase is empty it is rebuilt from the request itself.
func PublicURL(publicBase string, r *http.Request) string {
	base := strings.TrimRight(publicBase, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + r.URL.RequestURI()
}

// Verify reports whether r carries a valid X-Twilio-Signature for authToken.
// form is the request's POST form (empty for a WebSocket upgrade); the URL
// signed is PublicURL(publicURL, r). The comparison is constant-time. An
// empty auth token or a missing header never verifies.
func Verify(authToken, publicURL string, r *http.Request, form url.Values) bool {
	got := r.Header.Get(SignatureHeader)
	if authToken == "" || got == "" {
		return false
	}
	want := Signature(authToken, PublicURL(publicURL, r), form)
	return hmac.Equal([]byte(got), []byte(want))
}
