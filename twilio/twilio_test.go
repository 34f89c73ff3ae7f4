package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk/twilio"
	"github.com/chargedesk/chargedesk/twilio/twiliotest"
)

func TestSignatureKnownValue(t *testing.T) {
	// The worked example from Twilio's security documentation: token
	// 12345, this URL and these parameters sign to this value.
	form := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	got := twilio.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if want := "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Fatalf("Signature = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	form := url.Values{"Body": {"hello"}, "From": {"+15145550100"}}
	sig := twilio.Signature("tok", "https://support.example.com/twilio/sms?x=1", form)
	tests := []struct {
		name   string
		token  string
		public string
		sig    string
		form   url.Values
		want   bool
	}{
		{"good", "tok", "https://support.example.com", sig, form, true},
		{"trailing slash on base", "tok", "https://support.example.com/", sig, form, true},
		{"wrong token", "other", "https://support.example.com", sig, form, false},
		{"wrong host", "tok", "https://evil.example.com", sig, form, false},
		{"tampered form", "tok", "https://support.example.com", sig, url.Values{"Body": {"bye"}, "From": {"+15145550100"}}, false},
		{"no header", "tok", "https://support.example.com", "", form, false},
		{"no token configured", "", "https://support.example.com", sig, form, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://10.0.0.5:8080/twilio/sms?x=1", nil)
			if tt.sig != "" {
				r.Header.Set(twilio.SignatureHeader, tt.sig)
			}
			if got := twilio.Verify(tt.token, tt.public, r, tt.form); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyWebSocketUpgrade(t *testing.T) {
	s := &twiliotest.Signer{AuthToken: "tok", Target: "http://127.0.0.1:1", Public: "https://support.example.com"}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:1/twilio/relay", nil)
	r.Header = s.Header("/twilio/relay")
	if !twilio.Verify("tok", "https://support.example.com", r, nil) {
		t.Fatal("signed upgrade refused")
	}
}

func TestClientSendSMS(t *testing.T) {
	api := twiliotest.NewAPI("AC123", "secret")
	defer api.Close()
	c := twilio.NewClient(twilio.Config{AccountSID: "AC123", AuthToken: "secret", From: "+18005550000", APIURL: api.URL}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sid, err := c.SendSMS(ctx, "+15145550100", "Charger A-42 is back online.")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sid, "SM") {
		t.Fatalf("sid = %q", sid)
	}
	msgs := api.Messages()
	if len(msgs) != 1 || msgs[0].To != "+15145550100" || msgs[0].From != "+18005550000" || msgs[0].Body != "Charger A-42 is back online." || msgs[0].SID != sid {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestClientErrors(t *testing.T) {
	api := twiliotest.NewAPI("AC123", "secret")
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	bad := twilio.NewClient(twilio.Config{AccountSID: "AC123", AuthToken: "wrong", From: "+18005550000", APIURL: api.URL}, nil)
	_, err := bad.SendSMS(ctx, "+15145550100", "hi")
	var apiErr *twilio.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != 20003 {
		t.Fatalf("wrong credentials: err = %v", err)
	}

	c := twilio.NewClient(twilio.Config{AccountSID: "AC123", AuthToken: "secret", From: "+18005550000", APIURL: api.URL}, nil)
	api.FailNext(400, 21610, "Attempt to send to unsubscribed recipient")
	_, err = c.SendSMS(ctx, "+15145550100", "hi")
	if !errors.As(err, &apiErr) || apiErr.Code != 21610 || !strings.Contains(err.Error(), "unsubscribed") {
		t.Fatalf("refused: err = %v", err)
	}

	if _, err := twilio.NewClient(twilio.Config{APIURL: api.URL, From: "+1"}, nil).SendSMS(ctx, "+1", "x"); !errors.Is(err, twilio.ErrNotConfigured) {
		t.Fatalf("unconfigured: err = %v", err)
	}

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}))
	defer slow.Close()
	tc := twilio.NewClient(twilio.Config{AccountSID: "AC123", AuthToken: "secret", From: "+1", APIURL: slow.URL, Timeout: 100 * time.Millisecond}, nil)
	start := time.Now()
	if _, err := tc.SendSMS(ctx, "+1", "x"); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("timeout not bounded: err = %v after %v", err, time.Since(start))
	}
}

func TestClientUpdateCall(t *testing.T) {
	api := twiliotest.NewAPI("AC123", "secret")
	defer api.Close()
	c := twilio.NewClient(twilio.Config{AccountSID: "AC123", AuthToken: "secret", APIURL: api.URL}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	twiml := `<Response><Say>Goodbye.</Say><Hangup/></Response>`
	if err := c.UpdateCall(ctx, "CA42", twiml); err != nil {
		t.Fatal(err)
	}
	calls := api.Calls()
	if len(calls) != 1 || calls[0].CallSID != "CA42" || calls[0].Twiml != twiml {
		t.Fatalf("calls = %+v", calls)
	}
}
