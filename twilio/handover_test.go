package twilio_test

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk/twilio"
	"github.com/chargedesk/chargedesk/twilio/twiliotest"
)

func TestCallSid(t *testing.T) {
	for id, want := range map[string]string{"C-CA0123456789abcdef": "CA0123456789abcdef", "C-": "", "CA01": "", "C-CA 1": "", "C-CA1/..": ""} {
		got, ok := twilio.CallSid(id)
		if got != want || ok != (want != "") {
			t.Errorf("CallSid(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
}

// A takeover transfers the live call through the REST API: the caller
// hears the notice in their language, then the staff's number is dialled.
func TestTransferAndReturnTwiML(t *testing.T) {
	api := twiliotest.NewAPI("AC0001", "token")
	defer api.Close()
	c := twilio.NewClient(twilio.Config{AccountSID: "AC0001", AuthToken: "token", APIURL: api.URL}, nil)
	notice := "Une personne <de l'équipe> prend le relais."
	if err := c.UpdateCall(context.Background(), "CA42", twilio.TransferTwiML(notice, "fr", "+15145550100")); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateCall(context.Background(), "CA42", twilio.ReturnTwiML("Back with the assistant.", "en", "https://support.example.com/")); err != nil {
		t.Fatal(err)
	}
	calls := api.Calls()
	if len(calls) != 2 || calls[0].CallSID != "CA42" {
		t.Fatalf("call updates %+v", calls)
	}
	var doc struct {
		Say struct {
			Language string `xml:"language,attr"`
			Text     string `xml:",chardata"`
		}
		Dial     string
		Redirect string
	}
	if err := xml.Unmarshal([]byte(calls[0].Twiml), &doc); err != nil {
		t.Fatalf("transfer TwiML %q: %v", calls[0].Twiml, err)
	}
	if doc.Say.Language != "fr-CA" || !strings.Contains(doc.Say.Text, "<de l'équipe>") || doc.Dial != "+15145550100" {
		t.Errorf("transfer TwiML %+v", doc)
	}
	doc.Dial = ""
	if err := xml.Unmarshal([]byte(calls[1].Twiml), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Redirect != "https://support.example.com/twilio/voice" || doc.Dial != "" || doc.Say.Language != "en-US" {
		t.Errorf("return TwiML %+v", doc)
	}
}
