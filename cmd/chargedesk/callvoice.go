package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/twilio"
	"github.com/prometheus/client_golang/prometheus"
)

// voiceSettings are the phone line's own settings; the account's are
// twilioSettings.
var voiceSettings = []envVar{
	{"CHARGEDESK_TWILIO_VOICE", "twilio-voice", twilio.VoiceRelay, "voice mode: relay (ConversationRelay, streamed) or gather (<Gather>, turn by turn)"},
	{"CHARGEDESK_TWILIO_HUMAN_NUMBER", "twilio-human-number", "", "the operator's number (E.164) a call is dialled to when the agent hands it to a person; empty: the caller is told the team follows up"},
}

// voiceConfig is the phone line's configuration.
type voiceConfig struct{ Mode, HumanNumber string }

// demoVoiceToken signs the demo's phone line when no Twilio account is
// configured, so that `chargedesk call` reaches it as it is.
const demoVoiceToken = "chargedesk-demo-voice-token"

func voiceFromFlags(vals map[string]*string) (voiceConfig, error) {
	c := voiceConfig{Mode: strings.TrimSpace(*vals["twilio-voice"]), HumanNumber: strings.TrimSpace(*vals["twilio-human-number"])}
	if c.Mode != twilio.VoiceRelay && c.Mode != twilio.VoiceGather {
		return c, fmt.Errorf("-twilio-voice: %q is not relay or gather", c.Mode)
	}
	if c.HumanNumber != "" && !chargedesk.ValidPhone(c.HumanNumber) {
		return c, fmt.Errorf("-twilio-human-number: %q is not an E.164 phone number", c.HumanNumber)
	}
	return c, nil
}

// voiceAgent adapts the support agent to the phone line.
type voiceAgent struct{ agentAPI }

func (a voiceAgent) Open(ctx context.Context, id string, ch chargedesk.Channel, from, lang string) (*chargedesk.Conversation, bool, error) {
	return a.agent.Open(ctx, id, ch, from, lang)
}

// withVoice mounts the phone line (/twilio/voice, /twilio/relay,
// /twilio/gather) in front of the API when a Twilio auth token is
// configured, or, for the demo, with demoToken.
func (s *server) withVoice(api http.Handler, reg prometheus.Registerer, demoToken string) (http.Handler, error) {
	tw := s.cfg.Twilio
	token := tw.AuthToken
	if token == "" {
		token = demoToken
	}
	if token == "" {
		return api, nil
	}
	var textLink func(ctx context.Context, to, body string) error
	if tw.AuthToken != "" && tw.From != "" {
		client := twilio.NewClient(twilio.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, PublicBaseURL: tw.PublicURL,
			From: tw.From, APIURL: tw.APIURL}, nil)
		textLink = func(ctx context.Context, to, body string) error {
			_, err := client.SendSMS(ctx, to, body)
			return err
		}
	}
	v, err := twilio.NewVoice(twilio.VoiceConfig{AuthToken: token, PublicBaseURL: tw.PublicURL, Mode: s.cfg.Voice.Mode,
		HumanNumber: s.cfg.Voice.HumanNumber, Agent: voiceAgent{agentAPI{agent: s.agent, rules: s.rules}}, Store: s.convs,
		TextLink: textLink, Logger: s.log.With("component", "voice"), Registerer: reg})
	if err != nil {
		return nil, err
	}
	s.log.Info("phone line mounted", "mode", s.cfg.Voice.Mode, "demo_token", tw.AuthToken == "")
	voice := v.Handler()
	mux := http.NewServeMux()
	for _, p := range []string{"/twilio/voice", "/twilio/voice/after", "/twilio/relay", "/twilio/gather", "/twilio/gather/poll"} {
		mux.Handle(p, voice)
	}
	mux.Handle("/", api)
	return mux, nil
}
