package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/agent/nlu"
)

// nluMaxLine is the longest input line nluCommand reads; a longer line is
// answered with an error and skipped.
const nluMaxLine = 8 << 10

type nluIn struct {
	ID   json.RawMessage `json:"id"`
	Text *string         `json:"text"`
	Lang string          `json:"lang"`
}

type nluOut struct {
	ID         json.RawMessage `json:"id"`
	Category   string          `json:"category,omitempty"`
	Confidence float64         `json:"confidence,omitempty"`
	Lang       string          `json:"lang,omitempty"`
	Slots      *nlu.Slots      `json:"slots,omitempty"`
	Injection  bool            `json:"injection,omitempty"`
	Ranked     []nlu.Scored    `json:"ranked,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// nluCommand is "chargedesk nlu": JSON lines {"id","text","lang"?} on stdin,
// one JSON line per input on stdout with the category, confidence,
// language, slots and injection flag, or {"id","error"} for a line that is
// not valid JSON, has no text, or is longer than 8 KiB. It stops at the end
// of input or when ctx is done. With -llm, the language model configured
// by -llm-url (CHARGEDESK_LLM_URL) and the rest helps with unsure messages,
// as in serve.
func nluCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nlu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ranked := fs.Bool("ranked", false, "also print every category's score")
	withLLM := fs.Bool("llm", false, "let the language model of -llm-url help with unsure messages")
	llmVals, err := registerSettings(fs, llmSettings, getenv)
	if err != nil {
		return fmt.Errorf("nlu: %w", err)
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: chargedesk nlu [-ranked] [-llm] < messages.jsonl\n\nReads JSON lines {\"id\",\"text\",\"lang\"?} and writes one JSON line per message.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("nlu: unexpected argument %q", fs.Arg(0))
	}
	llmCfg, err := llmFromFlags(fs, llmVals)
	if err != nil {
		return fmt.Errorf("nlu: %w", err)
	}
	if !*withLLM {
		llmCfg = llmConfig{}
	} else if !llmCfg.on() {
		return errors.New("nlu: -llm needs -llm-url and -llm-model (or CHARGEDESK_LLM_URL and CHARGEDESK_LLM_MODEL)")
	}
	u, err := newUnderstander(llmCfg, nil, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fmt.Errorf("nlu: %w", err)
	}
	understand := u.Understand
	if cu, ok := u.(agent.ContextUnderstander); ok {
		understand = func(text, lang string) nlu.Result { return cu.UnderstandContext(ctx, text, lang) }
	}
	in := bufio.NewReaderSize(stdin, nluMaxLine+1)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for lineNo := 1; ; lineNo++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, tooLong, err := readBoundedLine(in, nluMaxLine)
		if errors.Is(err, io.EOF) && len(line) == 0 && !tooLong {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("nlu: read line %d: %w", lineNo, err)
		}
		o := nluLine(understand, line, tooLong, lineNo, *ranked)
		if o != nil {
			if werr := enc.Encode(o); werr != nil {
				return fmt.Errorf("nlu: write: %w", werr)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if in.Buffered() == 0 {
			if ferr := out.Flush(); ferr != nil {
				return fmt.Errorf("nlu: write: %w", ferr)
			}
		}
	}
}

// nluLine answers one input line; nil for a blank line.
func nluLine(understand func(text, lang string) nlu.Result, line []byte, tooLong bool, lineNo int, ranked bool) *nluOut {
	if tooLong {
		return &nluOut{ID: idOrLine(bestEffortID(line), lineNo), Error: fmt.Sprintf("line longer than %d bytes", nluMaxLine)}
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	var m nluIn
	if err := json.Unmarshal(line, &m); err != nil {
		return &nluOut{ID: idOrLine(nil, lineNo), Error: "invalid JSON: " + err.Error()}
	}
	if m.Text == nil {
		return &nluOut{ID: idOrLine(m.ID, lineNo), Error: `missing "text"`}
	}
	r := understand(*m.Text, m.Lang)
	o := &nluOut{ID: idOrLine(m.ID, lineNo), Category: r.Category, Confidence: r.Confidence, Lang: r.Lang, Slots: &r.Slots, Injection: r.Injection}
	if ranked {
		o.Ranked = r.Ranked
	}
	return o
}

// idOrLine returns id, or the line number when the input had none, so every
// answer can be matched to its input.
func idOrLine(id json.RawMessage, lineNo int) json.RawMessage {
	if len(id) == 0 || string(id) == "null" {
		return json.RawMessage(fmt.Sprintf(`"line %d"`, lineNo))
	}
	return id
}

// bestEffortID pulls a short string id out of the start of an over-long
// line, so its error can name the message.
func bestEffortID(prefix []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil
		}
		if k == "id" && len(v) <= 256 {
			return v
		}
	}
	return nil
}

// readBoundedLine reads one line without its newline. When the line is
// longer than limit it returns the first limit bytes, discards the rest and
// reports tooLong.
func readBoundedLine(r *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, err := r.ReadLine()
		if len(line)+len(chunk) > limit {
			tooLong = true
			if room := limit - len(line); room > 0 {
				line = append(line, chunk[:room]...)
			}
		} else {
			line = append(line, chunk...)
		}
		if err != nil || !isPrefix {
			return line, tooLong, err
		}
	}
}
