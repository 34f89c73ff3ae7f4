package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/chargedesk/chargedesk/twilio"
)

// callCommand is a phone in the terminal: it plays Twilio's side of a
// ConversationRelay call against a running chargedesk. What the person
// types is sent as what they said; a line of keys (digits, * and #) as
// the keypad; an empty line or "!" speaks over the agent.
func callCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://localhost:8080", "chargedesk's HTTP address (chargedesk demo or serve)")
	from := fs.String("from", "+15555550100", "your caller ID (a hint only: the agent asks for proof before acting on a session)")
	token := fs.String("auth-token", "", "the Twilio auth token chargedesk checks (default: $CHARGEDESK_TWILIO_AUTH_TOKEN, else the demo's)")
	public := fs.String("public-url", "", "the public base URL chargedesk checks signatures against (default: $CHARGEDESK_TWILIO_PUBLIC_URL, else -url)")
	lang := fs.String("lang", "en", "the language your first words are in: en, fr or es")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := url.ParseRequestURI(*base); err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	tok := *token
	if tok == "" {
		v, err := readEnv(getenv, "CHARGEDESK_TWILIO_AUTH_TOKEN")
		if err != nil {
			return err
		}
		tok = v
	}
	if tok == "" {
		tok = demoVoiceToken
	}
	if *public == "" {
		*public = getenv("CHARGEDESK_TWILIO_PUBLIC_URL")
	}
	sid := make([]byte, 16)
	_, _ = rand.Read(sid)
	call := &twilio.RelayCall{Target: *base, Public: *public, AuthToken: tok, CallSid: "CA" + hex.EncodeToString(sid), From: *from, To: "+18005550100"}
	if err := call.Dial(ctx); err != nil {
		return fmt.Errorf("call %s: %w", *base, err)
	}
	if call.Answer.Connect == nil {
		return fmt.Errorf("the line at %s answers turn by turn (CHARGEDESK_TWILIO_VOICE=gather); call plays the relay only", *base)
	}
	var mu sync.Mutex
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, format+"\n", a...)
	}
	say("(ringing… the line answers; type what you'd say, digits for the keypad, an empty line or ! to speak over it)")
	say("agent> %s", call.Answer.Connect.Relay.WelcomeGreeting)
	if err := call.Connect(ctx); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer call.Hangup()
	speechLang := twilioLangOf(*lang)
	var lastHeard string
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		var cur strings.Builder
		for {
			m, err := call.Next(context.Background())
			if err != nil {
				return
			}
			switch m.Type {
			case "text":
				cur.WriteString(m.Token)
				if m.Last {
					u := strings.TrimSpace(cur.String())
					cur.Reset()
					mu.Lock()
					lastHeard = u
					mu.Unlock()
					if twilio.HoldingLine(u) {
						say("agent (holding)> %s", u)
					} else {
						say("agent> %s", u)
					}
				}
			case "language":
				mu.Lock()
				speechLang = m.TranscriptionLanguage
				mu.Unlock()
				say("(the line now speaks and listens in %s)", m.TTSLanguage)
			case "end":
				say("(the line ends the automated part: %s)", m.HandoffData)
				after, err := call.After(context.Background(), m.HandoffData, "completed")
				if err != nil {
					say("(connect callback failed: %v)", err)
					return
				}
				for _, s := range after.Says {
					say("agent> %s", s.Text)
				}
				if after.Dial != "" {
					say("(dialling a person at %s)", after.Dial)
				} else {
					say("(hung up)")
				}
				return
			}
		}
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ended:
			return nil
		case text, ok := <-lines:
			if !ok {
				say("(you hang up)")
				return nil
			}
			text = strings.TrimSpace(text)
			mu.Lock()
			heard, l := lastHeard, speechLang
			mu.Unlock()
			var err error
			switch {
			case text == "" || text == "!":
				say("(you speak over the agent)")
				err = call.Interrupt(ctx, firstSentence(heard), 500)
			case strings.Trim(text, "0123456789*#") == "":
				err = call.Keys(ctx, text)
			default:
				err = call.Prompt(ctx, text, l)
			}
			if err != nil {
				return fmt.Errorf("the line dropped: %w", err)
			}
		}
	}
}

// twilioLangOf is the transcription language of en, fr or es.
func twilioLangOf(lang string) string {
	switch lang {
	case "fr":
		return "fr-CA"
	case "es":
		return "es-US"
	}
	return "en-US"
}

// firstSentence is what a caller who speaks over the agent heard of its
// last answer: its first sentence.
func firstSentence(s string) string {
	if ss := twilio.Sentences(s); len(ss) > 0 {
		return ss[0]
	}
	return ""
}
