package twiliotest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk/twilio"
)

// Signer sends webhooks to a chargedesk server the way Twilio does:
// form-encoded POSTs carrying an X-Twilio-Signature computed over the public
// URL and the parameters.
type Signer struct {
	// AuthToken is the test account's auth token.
	AuthToken string
	// Target is where requests are actually sent (the test server's
	// loopback URL).
	Target string
	// Public is the base URL Twilio believes it calls (the configured public
	// base URL); empty means Target.
	Public string
	// Client sends the requests; nil means a client with a 30 s timeout.
	Client *http.Client
}

// URL returns the public URL of path, the one that is signed.
func (s *Signer) URL(path string) string {
	base := s.Public
	if base == "" {
		base = s.Target
	}
	return strings.TrimRight(base, "/") + path
}

// Sign returns the signature of a request to path carrying form.
func (s *Signer) Sign(path string, form url.Values) string {
	return twilio.Signature(s.AuthToken, s.URL(path), form)
}

// Header returns the headers of a signed GET to path (a WebSocket upgrade).
func (s *Signer) Header(path string) http.Header {
	h := http.Header{}
	h.Set(twilio.SignatureHeader, s.Sign(path, nil))
	return h
}

// Response is a webhook's answer.
type Response struct {
	Status      int
	ContentType string
	Body        string
}

// Post sends form to path, signed. It returns the answer.
func (s *Signer) Post(ctx context.Context, path string, form url.Values) (Response, error) {
	return s.post(ctx, path, form, s.Sign(path, form))
}

// PostSignature sends form to path with the given signature (a wrong one,
// or "" for none).
func (s *Signer) PostSignature(ctx context.Context, path string, form url.Values, sig string) (Response, error) {
	return s.post(ctx, path, form, sig)
}

func (s *Signer) post(ctx context.Context, path string, form url.Values, sig string) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.Target, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	if sig != "" {
		req.Header.Set(twilio.SignatureHeader, sig)
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, fmt.Errorf("read webhook answer: %w", err)
	}
	return Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(b)}, nil
}

// SMSForm returns the parameters Twilio posts for an incoming SMS.
func SMSForm(accountSID, messageSid, from, to, body string) url.Values {
	return url.Values{
		"AccountSid":    {accountSID},
		"MessageSid":    {messageSid},
		"SmsMessageSid": {messageSid},
		"SmsSid":        {messageSid},
		"From":          {from},
		"To":            {to},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {"1"},
		"SmsStatus":     {"received"},
		"ApiVersion":    {"2010-04-01"},
	}
}
