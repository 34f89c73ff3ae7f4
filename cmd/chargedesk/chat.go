package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// chatCommand talks to the support agent of a running chargedesk from the
// terminal, through the same public chat API as the web chat.
func chatCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://localhost:8080", "chargedesk's HTTP address (chargedesk demo or serve)")
	lang := fs.String("lang", "", "language: en, fr or es (default: detected from your first message)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := url.ParseRequestURI(*base); err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	client := &http.Client{Timeout: 3 * time.Minute}
	post := func(path string, body, out any) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(*base, "/")+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode/100 != 2 {
			var e struct{ Error struct{ Message string } }
			_ = json.Unmarshal(data, &e)
			return fmt.Errorf("%s: %s", resp.Status, e.Error.Message)
		}
		return json.Unmarshal(data, out)
	}
	var conv struct {
		ID    string
		Turns []struct{ Role, Text string }
	}
	if err := post("/chat/api/conversations", map[string]string{"language": *lang}, &conv); err != nil {
		return fmt.Errorf("start a conversation at %s: %w", *base, err)
	}
	for _, t := range conv.Turns {
		fmt.Fprintln(stdout, "agent>", t.Text)
	}
	sc := bufio.NewScanner(stdin)
	for {
		fmt.Fprint(stdout, "you> ")
		if !sc.Scan() {
			fmt.Fprintln(stdout)
			return sc.Err()
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var out struct{ Reply string }
		if err := post("/chat/api/conversations/"+url.PathEscape(conv.ID)+"/messages", map[string]string{"text": text}, &out); err != nil {
			fmt.Fprintln(stdout, "error:", err)
			continue
		}
		fmt.Fprintln(stdout, "agent>", out.Reply)
	}
}
