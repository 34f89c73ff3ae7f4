package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIURL is the base URL of Twilio's REST API.
const DefaultAPIURL = "https://api.twilio.com"

// DefaultTimeout bounds one REST call when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config is what chargedesk needs to talk to one Twilio account.
type Config struct {
	// AccountSID is the account's identifier (AC…), used in REST paths and
	// as the basic-auth user.
	AccountSID string
	// AuthToken signs webhooks and is the basic-auth password.
	AuthToken string
	// PublicBaseURL is the scheme and host under which Twilio reaches
	// chargedesk (https://support.example.com); signatures are checked
	// against it. Empty means the request's own host.
	PublicBaseURL string
	// From is the Twilio phone number chargedesk sends messages from.
	From string
	// APIURL is the REST API's base URL; empty means DefaultAPIURL. Tests
	// point it at a fake.
	APIURL string
	// Timeout bounds each REST call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Client calls Twilio's REST API for one account.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient returns a client for cfg. hc may be nil (a client with the
// configured timeout is used).
func NewClient(cfg Config, hc *http.Client) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	return &Client{cfg: cfg, http: hc}
}

// Config returns the client's configuration (with defaults filled in).
func (c *Client) Config() Config { return c.cfg }

// APIError is an error answer from Twilio's REST API.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Code is Twilio's numeric error code, 0 when the body carried none.
	Code int
	// Message is Twilio's message, or the start of the body.
	Message string
}

func (e *APIError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("twilio: http %d: error %d: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("twilio: http %d: %s", e.Status, e.Message)
}

// ErrNotConfigured is returned when the account SID or auth token is missing.
var ErrNotConfigured = errors.New("twilio: account sid and auth token are required")

// SendSMS sends body to the phone number to from the configured From number
// and returns the message's SID.
func (c *Client) SendSMS(ctx context.Context, to, body string) (string, error) {
	if c.cfg.From == "" {
		return "", errors.New("twilio: send sms: no From number configured")
	}
	form := url.Values{"To": {to}, "From": {c.cfg.From}, "Body": {body}}
	var out struct {
		SID    string `json:"sid"`
		Status string `json:"status"`
	}
	if err := c.post(ctx, "Messages.json", form, &out); err != nil {
		return "", fmt.Errorf("send sms: %w", err)
	}
	if out.SID == "" {
		return "", errors.New("send sms: twilio: answer without a sid")
	}
	return out.SID, nil
}

// UpdateCall replaces what the live call callSid is doing with twiml.
func (c *Client) UpdateCall(ctx context.Context, callSid, twiml string) error {
	if callSid == "" {
		return errors.New("update call: empty call sid")
	}
	form := url.Values{"Twiml": {twiml}}
	if err := c.post(ctx, "Calls/"+url.PathEscape(callSid)+".json", form, nil); err != nil {
		return fmt.Errorf("update call %s: %w", callSid, err)
	}
	return nil
}

// post sends form to the account's resource and decodes a 2xx JSON answer
// into out (when not nil).
func (c *Client) post(ctx context.Context, resource string, form url.Values, out any) error {
	if c.cfg.AccountSID == "" || c.cfg.AuthToken == "" {
		return ErrNotConfigured
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.cfg.APIURL + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID) + "/" + resource
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("twilio: read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{Status: resp.StatusCode}
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &e) == nil && (e.Code != 0 || e.Message != "") {
			apiErr.Code, apiErr.Message = e.Code, e.Message
		} else {
			msg := strings.TrimSpace(string(body))
			if len(msg) > 200 {
				msg = msg[:200]
			}
			apiErr.Message = msg
		}
		return apiErr
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("twilio: decode answer: %w", err)
		}
	}
	return nil
}
