package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sqlstore"
	"github.com/chargedesk/chargedesk/twilio"
	"github.com/chargedesk/chargedesk/twilio/twiliotest"
)

func TestChannelOutbound(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	api := twiliotest.NewAPI("AC0042", "token")
	defer api.Close()
	client := twilio.NewClient(twilio.Config{AccountSID: "AC0042", AuthToken: "token", From: "+18005550142", APIURL: api.URL}, nil)
	log := slog.New(slog.DiscardHandler)
	full := &channelOutbound{client: client, threads: st, human: "+18005550199", public: "https://support.example.com", log: log}
	chat := &chargedesk.Conversation{ID: "C-chat", Channel: chargedesk.ChannelChat, Language: "en"}
	sms := &chargedesk.Conversation{ID: "C-sms", Channel: chargedesk.ChannelSMS, From: "+15145550123", Language: "fr"}
	call := &chargedesk.Conversation{ID: "C-CA0123456789abcdef", Channel: chargedesk.ChannelVoice, From: "+15145550123", Language: "es"}
	code := func(err error) string { return chargedesk.ErrorCode(err) }

	// The web chat's page reads the transcript: nothing to send.
	for _, k := range []chargedesk.OutboundKind{chargedesk.OutboundTakeover, chargedesk.OutboundMessage, chargedesk.OutboundHandback} {
		if err := full.Check(chat, k); err != nil {
			t.Errorf("chat %s: %v", k, err)
		}
		if err := full.Send(ctx, chat, k, "hi"); err != nil {
			t.Errorf("chat %s: %v", k, err)
		}
	}
	if len(api.Messages())+len(api.Calls()) != 0 {
		t.Fatal("something sent for a chat")
	}

	// SMS: texted from the number; not to a number that said STOP.
	if err := full.Send(ctx, sms, chargedesk.OutboundMessage, "Bonjour, ici Ada."); err != nil {
		t.Fatal(err)
	}
	if m := api.Messages(); len(m) != 1 || m[0].To != sms.From || m[0].From != "+18005550142" || m[0].Body != "Bonjour, ici Ada." {
		t.Fatalf("texted %+v", m)
	}
	if err := st.PutSMSThread(ctx, &chargedesk.SMSThread{Phone: sms.From, Stopped: true, LastAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := full.Check(sms, chargedesk.OutboundMessage); code(err) != chargedesk.ECONFLICT || !strings.Contains(err.Error(), "STOP") {
		t.Errorf("message to a number that said STOP: %v", err)
	}
	if err := full.Check(sms, chargedesk.OutboundTakeover); err != nil {
		t.Errorf("takeover of a stopped number's conversation: %v", err)
	}
	if err := full.Send(ctx, sms, chargedesk.OutboundTakeover, "notice"); err != nil || len(api.Messages()) != 1 {
		t.Errorf("a notice texted to a number that said STOP: %v %+v", err, api.Messages())
	}
	noFrom := &channelOutbound{client: twilio.NewClient(twilio.Config{AccountSID: "AC0042", AuthToken: "token", APIURL: api.URL}, nil), log: log}
	if err := noFrom.Check(sms, chargedesk.OutboundTakeover); code(err) != chargedesk.ECONFLICT {
		t.Errorf("SMS without a number to send from: %v", err)
	}
	api.FailNext(400, 21211, "The 'To' number is not a valid phone number.")
	if err := st.PutSMSThread(ctx, &chargedesk.SMSThread{Phone: sms.From, LastAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := full.Send(ctx, sms, chargedesk.OutboundMessage, "x"); code(err) != chargedesk.EUNAVAILABLE {
		t.Errorf("a text Twilio refused: %v", err)
	}

	// A call: transferred to the staff's number, returned to the line; no
	// writing; no takeover without a staff number or a Twilio account.
	if err := full.Check(call, chargedesk.OutboundMessage); code(err) != chargedesk.EINVALID {
		t.Errorf("writing to a call: %v", err)
	}
	if err := full.Check(call, chargedesk.OutboundTakeover); err != nil {
		t.Fatal(err)
	}
	if err := full.Send(ctx, call, chargedesk.OutboundTakeover, "Una persona de nuestro equipo se hace cargo."); err != nil {
		t.Fatal(err)
	}
	if err := full.Send(ctx, call, chargedesk.OutboundHandback, "Está de nuevo con el asistente."); err != nil {
		t.Fatal(err)
	}
	calls := api.Calls()
	if len(calls) != 2 || calls[0].CallSID != "CA0123456789abcdef" || !strings.Contains(calls[0].Twiml, "<Dial>+18005550199</Dial>") ||
		!strings.Contains(calls[0].Twiml, `language="es-US"`) || !strings.Contains(calls[1].Twiml, "https://support.example.com/twilio/voice") {
		t.Fatalf("call updates %+v", calls)
	}
	noHuman := &channelOutbound{client: client, log: log}
	if err := noHuman.Check(call, chargedesk.OutboundTakeover); code(err) != chargedesk.ECONFLICT || !strings.Contains(err.Error(), "No staff number") {
		t.Errorf("takeover of a call without a staff number: %v", err)
	}
	noAccount := &channelOutbound{human: "+18005550199", log: log}
	if err := noAccount.Check(call, chargedesk.OutboundTakeover); code(err) != chargedesk.ECONFLICT {
		t.Errorf("takeover of a call without a Twilio account: %v", err)
	}
	if err := full.Check(&chargedesk.Conversation{ID: "C-not-a-call!", Channel: chargedesk.ChannelVoice}, chargedesk.OutboundTakeover); code(err) != chargedesk.EINVALID {
		t.Errorf("takeover of a voice conversation that is no Twilio call: %v", err)
	}
	// A call that ended: Twilio refuses the update; the console is told.
	api.FailNext(400, 21220, "Call is not in-progress. Cannot redirect.")
	if err := full.Send(ctx, call, chargedesk.OutboundTakeover, "x"); code(err) != chargedesk.EUNAVAILABLE || !strings.Contains(err.Error(), "hung up") {
		t.Errorf("transfer of an ended call: %v", err)
	}
}
