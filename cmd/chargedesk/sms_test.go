package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk/twilio/twiliotest"
)

// serve with a Twilio number: signed SMS reach the real agent on the real
// store, in each language, and are answered as TwiML of short messages;
// an unsigned one is refused and counted. The auth token comes from a
// _FILE variable.
func TestServeSMS(t *testing.T) {
	const (
		account = "AC00000000000000000000000000000042"
		token   = "serve-sms-test-token-0123"
		number  = "+18005550123"
	)
	fake := twiliotest.NewAPI(account, token)
	defer fake.Close()
	tokenFile := filepath.Join(t.TempDir(), "twilio-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHARGEDESK_TWILIO_AUTH_TOKEN_FILE", tokenFile)
	p := startProc(t, t.TempDir(), "-twilio-account-sid", account, "-twilio-from", number,
		"-twilio-public-url", "https://support.example.com", "-twilio-api-url", fake.URL)
	signer := &twiliotest.Signer{AuthToken: token, Target: p.apiURL, Public: "https://support.example.com"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for i, tc := range []struct{ lang, from, body string }{
		{"en", "+15145550101", "my charging session won't start"},
		{"fr", "+15145550102", "ma session de recharge ne démarre pas"},
		{"es", "+15145550103", "mi sesión de carga no arranca"},
	} {
		res, err := signer.Post(ctx, "/twilio/sms", twiliotest.SMSForm(account, fmt.Sprintf("SM%032d", i+1), tc.from, number, tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var tw struct {
			Messages []string `xml:"Message"`
		}
		if res.Status != 200 || xml.Unmarshal([]byte(res.Body), &tw) != nil || len(tw.Messages) == 0 {
			t.Fatalf("%s: status %d: %s", tc.lang, res.Status, res.Body)
		}
		for _, m := range tw.Messages {
			if utf8.RuneCountInString(m) > 320 {
				t.Errorf("%s: message of %d characters", tc.lang, utf8.RuneCountInString(m))
			}
		}
		var list struct {
			Conversations []struct{ Channel, From, Language string }
		}
		p.api(t, "GET", "/api/v1/conversations", nil, 200, &list)
		found := false
		for _, c := range list.Conversations {
			found = found || c.Channel == "sms" && c.From == tc.from && c.Language == tc.lang
		}
		if !found {
			t.Errorf("%s: no sms conversation of %s in %s: %+v (reply %q)", tc.lang, tc.from, tc.lang, list, tw.Messages)
		}
	}

	res, err := signer.PostSignature(ctx, "/twilio/sms", twiliotest.SMSForm(account, "SMforged", "+15145550104", number, "hi"), "forged")
	if err != nil || res.Status != 403 {
		t.Fatalf("forged: %d %v", res.Status, err)
	}
	if _, body := p.get(t, "/metrics"); !strings.Contains(body, `chargedesk_twilio_signature_failures_total{route="POST /twilio/sms"} 1`) {
		t.Error("the refusal is not counted in /metrics")
	}
}
