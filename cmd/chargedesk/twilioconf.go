package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/chargedesk/chargedesk/twilio"
)

// twilioSettings connect a Twilio phone number (SMS, and voice) to serve.
var twilioSettings = []envVar{
	{"CHARGEDESK_TWILIO_ACCOUNT_SID", "twilio-account-sid", "", "Twilio account SID (AC...)"},
	{"CHARGEDESK_TWILIO_AUTH_TOKEN", "twilio-auth-token", "", "Twilio auth token (or _FILE); empty: no Twilio routes"},
	{"CHARGEDESK_TWILIO_PUBLIC_URL", "twilio-public-url", "", "public base URL Twilio calls, e.g. https://support.example.com (signatures are checked against it)"},
	{"CHARGEDESK_TWILIO_FROM", "twilio-from", "", "the Twilio phone number replies are sent from (E.164)"},
	{"CHARGEDESK_TWILIO_API_URL", "twilio-api-url", twilio.DefaultAPIURL, "Twilio REST API base URL"},
}

// twilioConfig is the Twilio account's configuration.
type twilioConfig struct {
	AccountSID, PublicURL, From, APIURL string
	AuthToken                           string // never logged
}

// on reports whether the Twilio routes are mounted.
func (c twilioConfig) on() bool { return c.AuthToken != "" }

// twilioFromFlags reads the Twilio settings after the flags are parsed.
func twilioFromFlags(vals map[string]*string) (twilioConfig, error) {
	get := func(f string) string { return strings.TrimSpace(*vals[f]) }
	c := twilioConfig{AccountSID: get("twilio-account-sid"), AuthToken: get("twilio-auth-token"),
		PublicURL: strings.TrimRight(get("twilio-public-url"), "/"), From: get("twilio-from"), APIURL: get("twilio-api-url")}
	if !c.on() {
		return c, nil
	}
	if c.AccountSID == "" {
		return c, fmt.Errorf("-twilio-account-sid: required with a Twilio auth token")
	}
	for flag, v := range map[string]string{"twilio-public-url": c.PublicURL, "twilio-api-url": c.APIURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return c, fmt.Errorf("-%s: must be an http:// or https:// base URL without a path", flag)
		}
	}
	if c.From != "" && !chargedesk.ValidPhone(c.From) {
		return c, fmt.Errorf("-twilio-from: %q is not an E.164 phone number", c.From)
	}
	return c, nil
}

// twilioAPI is the API's Twilio configuration, nil when Twilio is off.
func (c twilioConfig) api(sms chargedesk.SMSStore) *httpapi.TwilioConfig {
	if !c.on() {
		return nil
	}
	client := twilio.NewClient(twilio.Config{AccountSID: c.AccountSID, AuthToken: c.AuthToken,
		PublicBaseURL: c.PublicURL, From: c.From, APIURL: c.APIURL}, nil)
	return &httpapi.TwilioConfig{Client: client, SMS: sms}
}
